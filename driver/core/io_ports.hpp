// Where the device's input audio comes from and where its output goes. The engine's
// streams plug in through these (see stream_ports.hpp); tests plug in plain buffers.
// read() and write() are called on the IO thread: implementations must not allocate,
// lock, log or make a system call.
#pragma once

#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

class InputSource {
 public:
  virtual ~InputSource() = default;
  virtual std::uint32_t channels() const = 0;
  // Frames between a sample's media time and the earliest device time it can be presented
  // at (a stream's link offset). The device presents every input at the largest of these,
  // so channels captured at the same media time stay sample-aligned across streams.
  virtual std::uint32_t latencyFrames() const { return 0; }
  // Frames the HAL must stay behind the device's now when reading (arrival granularity).
  virtual std::uint32_t safetyOffsetFrames() const { return 0; }
  // Fills `frames` interleaved frames of this source's channels for media time `t`.
  virtual void read(SampleTime t, float* interleaved, std::uint32_t frames) = 0;
};

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual std::uint32_t channels() const = 0;
  // Frames between a sample's media time and it leaving the device (packetization).
  virtual std::uint32_t latencyFrames() const { return 0; }
  // Frames the HAL must stay ahead of the device's now when writing.
  virtual std::uint32_t safetyOffsetFrames() const { return 0; }
  // Takes `frames` interleaved frames for media time `t`.
  virtual void write(SampleTime t, const float* interleaved, std::uint32_t frames) = 0;
};

}  // namespace aes67
