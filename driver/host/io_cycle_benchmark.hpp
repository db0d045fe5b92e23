// Measures what one IO cycle costs through the host emulator — zero time stamp, predictor,
// ReadInput from PlayoutBuffers, the loopback client (called and copying, as a DAW's
// IOProc runs: HalHost's pass-through off), WriteMix into TX rings — next to a
// memcpy of the same bytes (input + output buffers) timed the same way in the same run, so
// bench/io-cycle.ts can print the ratio. The network side (feeding the playout buffers,
// draining the rings) runs between cycles and is not timed.
#pragma once

#include <cstdint>

namespace aes67 {

struct IoCycleBenchmarkResult {
  std::uint32_t channels = 0;
  std::uint32_t bufferFrames = 0;
  std::uint64_t cycles = 0;
  double ioNsPerCycle = 0;      // median over the cycles' batches
  double memcpyNsPerCycle = 0;  // median, same bytes
  std::uint64_t bytesPerCycle = 0;
};

// `channels` in and out (1-128, streams of at most 64), `cycles` timed cycles after a
// warm-up. Throws std::invalid_argument on bad arguments.
IoCycleBenchmarkResult measureIoCycle(std::uint32_t channels, std::uint32_t bufferFrames, std::uint64_t cycles);

}  // namespace aes67
