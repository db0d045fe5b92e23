// Records device input channels into memory sized up front (the IO thread never
// allocates), remembering the device sample time of the first recorded frame; clip()
// hands the recording over for writeWav. Frames beyond the capacity are counted, not kept.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "driver/host/io_client.hpp"
#include "driver/host/wav_file.hpp"

namespace aes67 {

class WavRecorderClient final : public IoClient {
 public:
  // Records device inputs `inputChannels` (0-based) as the clip's channels.
  WavRecorderClient(std::uint32_t deviceRate, std::uint32_t deviceInputChannels, std::vector<std::uint32_t> inputChannels,
                    std::size_t capacityFrames);

  void process(const IoCycleInfo& cycle, const float* input, std::uint32_t inputChannels, float* output,
               std::uint32_t outputChannels, std::uint32_t frames) override;

  std::size_t framesRecorded() const { return recorded_.load(std::memory_order_acquire); }
  std::uint64_t framesDropped() const { return dropped_.load(std::memory_order_relaxed); }
  bool started() const { return started_.load(std::memory_order_acquire); }
  SampleTime firstInputTime() const { return firstInputTime_; }
  // A copy of what was recorded so far (safe from any thread).
  AudioClip clip() const;

 private:
  std::uint32_t rate_;
  std::vector<std::uint32_t> map_;
  std::size_t capacity_;
  std::vector<float> samples_;
  std::atomic<std::size_t> recorded_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<bool> started_{false};
  SampleTime firstInputTime_ = 0;
};

}  // namespace aes67
