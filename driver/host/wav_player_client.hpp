// Plays a clip (e.g. a WAV file read by wav_file.hpp) into device output channels, once or
// looped, and remembers the device sample time its first frame went out at, so the lab
// can find it again downstream.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "driver/host/io_client.hpp"
#include "driver/host/wav_file.hpp"

namespace aes67 {

class WavPlayerClient final : public IoClient {
 public:
  // Clip channel k plays on device output `outputChannels[k]` (0-based). Throws
  // std::invalid_argument if the clip's rate is not the device's or the map is wrong.
  WavPlayerClient(AudioClip clip, std::uint32_t deviceRate, std::uint32_t deviceOutputChannels,
                  std::vector<std::uint32_t> outputChannels, bool loop = false);

  void process(const IoCycleInfo& cycle, const float* input, std::uint32_t inputChannels, float* output,
               std::uint32_t outputChannels, std::uint32_t frames) override;

  std::uint64_t framesPlayed() const { return played_.load(std::memory_order_relaxed); }
  bool finished() const { return !loop_ && framesPlayed() >= clip_.frames(); }
  bool started() const { return started_.load(std::memory_order_acquire); }
  // Device output sample time of the clip's first frame (valid once started()).
  SampleTime firstOutputTime() const { return firstOutputTime_; }

 private:
  AudioClip clip_;
  std::vector<std::uint32_t> map_;
  bool loop_;
  std::size_t position_ = 0;
  std::atomic<std::uint64_t> played_{0};
  std::atomic<bool> started_{false};
  SampleTime firstOutputTime_ = 0;
};

}  // namespace aes67
