#include "driver/host/wav_recorder_client.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace aes67 {

WavRecorderClient::WavRecorderClient(std::uint32_t deviceRate, std::uint32_t deviceInputChannels,
                                     std::vector<std::uint32_t> inputChannels, std::size_t capacityFrames)
    : rate_(deviceRate), map_(std::move(inputChannels)), capacity_(capacityFrames) {
  if (map_.empty()) throw std::invalid_argument("the recorder needs at least one input channel");
  for (std::uint32_t c : map_) {
    if (c >= deviceInputChannels) {
      throw std::invalid_argument("input channel " + std::to_string(c + 1) + " does not exist (the device has " +
                                  std::to_string(deviceInputChannels) + ")");
    }
  }
  samples_.resize(capacity_ * map_.size());
}

void WavRecorderClient::process(const IoCycleInfo& cycle, const float* input, std::uint32_t inputChannels, float*,
                                std::uint32_t, std::uint32_t frames) {
  if (!started_.load(std::memory_order_relaxed)) {
    firstInputTime_ = cycle.inputTime;
    started_.store(true, std::memory_order_release);
  }
  const std::size_t have = recorded_.load(std::memory_order_relaxed);
  const std::size_t take = std::min<std::size_t>(frames, capacity_ - have);
  const std::size_t n = map_.size();
  for (std::size_t f = 0; f < take; ++f) {
    const float* src = input + f * inputChannels;
    float* dst = &samples_[(have + f) * n];
    for (std::size_t c = 0; c < n; ++c) dst[c] = src[map_[c]];
  }
  recorded_.store(have + take, std::memory_order_release);
  if (take < frames) dropped_.store(dropped_.load(std::memory_order_relaxed) + (frames - take), std::memory_order_relaxed);
}

AudioClip WavRecorderClient::clip() const {
  AudioClip c;
  c.sampleRate = rate_;
  c.channels = static_cast<std::uint32_t>(map_.size());
  const std::size_t frames = framesRecorded();
  c.samples.assign(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(frames * map_.size()));
  return c;
}

}  // namespace aes67
