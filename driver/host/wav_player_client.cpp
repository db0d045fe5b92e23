#include "driver/host/wav_player_client.hpp"

#include <stdexcept>
#include <string>

namespace aes67 {

WavPlayerClient::WavPlayerClient(AudioClip clip, std::uint32_t deviceRate, std::uint32_t deviceOutputChannels,
                                 std::vector<std::uint32_t> outputChannels, bool loop)
    : clip_(std::move(clip)), map_(std::move(outputChannels)), loop_(loop) {
  if (clip_.sampleRate != deviceRate) {
    throw std::invalid_argument("the clip runs at " + std::to_string(clip_.sampleRate) + " Hz but the device at " +
                                std::to_string(deviceRate) + " Hz: convert it first");
  }
  if (map_.size() != clip_.channels) {
    throw std::invalid_argument("the clip has " + std::to_string(clip_.channels) + " channels but " +
                                std::to_string(map_.size()) + " output channels are mapped");
  }
  for (std::uint32_t c : map_) {
    if (c >= deviceOutputChannels) {
      throw std::invalid_argument("output channel " + std::to_string(c + 1) + " does not exist (the device has " +
                                  std::to_string(deviceOutputChannels) + ")");
    }
  }
  if (loop_ && clip_.frames() == 0) throw std::invalid_argument("an empty clip cannot loop");
}

void WavPlayerClient::process(const IoCycleInfo& cycle, const float*, std::uint32_t, float* output,
                              std::uint32_t outputChannels, std::uint32_t frames) {
  const std::size_t total = clip_.frames();
  const std::uint32_t n = clip_.channels;
  std::uint64_t played = 0;
  for (std::uint32_t f = 0; f < frames; ++f) {
    if (position_ >= total) {
      if (!loop_) break;
      position_ = 0;
    }
    if (!started_.load(std::memory_order_relaxed)) {
      firstOutputTime_ = cycle.outputTime + f;
      started_.store(true, std::memory_order_release);
    }
    const float* src = &clip_.samples[position_ * n];
    float* dst = output + static_cast<std::size_t>(f) * outputChannels;
    for (std::uint32_t c = 0; c < n; ++c) dst[map_[c]] += src[c];
    ++position_;
    ++played;
  }
  played_.store(played_.load(std::memory_order_relaxed) + played, std::memory_order_relaxed);
}

}  // namespace aes67
