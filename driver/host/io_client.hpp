// A client of the device, as an application's AudioDeviceIOProc is to coreaudiod: once per
// IO cycle it gets the input the device delivered (for cycle.inputTime) and fills the
// output the device will take (for cycle.outputTime). Called on the IO thread: no
// allocation, lock or system call.
#pragma once

#include <cstdint>

#include "driver/core/io_cycle.hpp"

namespace aes67 {

class IoClient {
 public:
  virtual ~IoClient() = default;
  // `input`: frames x inputChannels interleaved; `output`: frames x outputChannels, zeroed
  // by the host before the call (as the HAL zeroes an IOProc's output buffer).
  virtual void process(const IoCycleInfo& cycle, const float* input, std::uint32_t inputChannels, float* output,
                       std::uint32_t outputChannels, std::uint32_t frames) = 0;
  // Whether process() only copies its input to its output unchanged, channel N to channel N
  // (the channel counts equal, nothing else done): a host with this one client may hand the
  // device the input as the mix and not call process() at all.
  virtual bool passesInputThrough() const { return false; }
};

// Leaves the output silent.
class SilenceClient final : public IoClient {
 public:
  void process(const IoCycleInfo&, const float*, std::uint32_t, float*, std::uint32_t, std::uint32_t) override {}
};

}  // namespace aes67
