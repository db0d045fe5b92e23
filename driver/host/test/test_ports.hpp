// Device ports for host tests: a source whose every sample says which media time and
// channel it belongs to, and a sink that keeps what it was given by media time.
#pragma once

#include <map>
#include <vector>

#include "driver/core/io_ports.hpp"

namespace aes67::test {

// Exact in float for |m| < 2^17 frames of media time relative to `base`.
inline float signature(SampleTime m, std::uint32_t channel) {
  return static_cast<float>(((m % 65536) + 65536) % 65536 * 16 + channel + 1) / 2097152.0f;
}

class SignatureSource final : public InputSource {
 public:
  SignatureSource(std::uint32_t channels, std::uint32_t latency, std::uint32_t safety)
      : channels_(channels), latency_(latency), safety_(safety) {}
  std::uint32_t channels() const override { return channels_; }
  std::uint32_t latencyFrames() const override { return latency_; }
  std::uint32_t safetyOffsetFrames() const override { return safety_; }
  void read(SampleTime t, float* out, std::uint32_t frames) override {
    for (std::uint32_t f = 0; f < frames; ++f) {
      for (std::uint32_t c = 0; c < channels_; ++c) out[f * channels_ + c] = signature(t + f, c);
    }
  }

 private:
  std::uint32_t channels_, latency_, safety_;
};

class RecordingSink final : public OutputSink {
 public:
  RecordingSink(std::uint32_t channels, std::uint32_t latency, std::uint32_t safety)
      : channels_(channels), latency_(latency), safety_(safety) {}
  std::uint32_t channels() const override { return channels_; }
  std::uint32_t latencyFrames() const override { return latency_; }
  std::uint32_t safetyOffsetFrames() const override { return safety_; }
  void write(SampleTime t, const float* in, std::uint32_t frames) override {
    for (std::uint32_t f = 0; f < frames; ++f) frames_[t + f].assign(in + f * channels_, in + (f + 1) * channels_);
  }
  const std::map<SampleTime, std::vector<float>>& frames() const { return frames_; }

 private:
  std::uint32_t channels_, latency_, safety_;
  std::map<SampleTime, std::vector<float>> frames_;
};

}  // namespace aes67::test
