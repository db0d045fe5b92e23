// Copies input to output in the same cycle: device input channel N -> output channel N, or
// through a per-channel map. This is the "Core Audio loopback" the lab measures: the
// audio re-enters the device at cycle.outputTime, 2 x buffer + both safety offsets after
// the cycle.inputTime it was read at.
#pragma once

#include <cstdint>
#include <vector>

#include "driver/host/io_client.hpp"

namespace aes67 {

class LoopbackClient final : public IoClient {
 public:
  static constexpr std::int32_t kSilent = -1;
  // Identity: output N takes input N (outputs beyond the inputs stay silent).
  LoopbackClient(std::uint32_t inputChannels, std::uint32_t outputChannels);
  // `outputFromInput[o]` is the 0-based input channel output o takes, or kSilent. Throws
  // std::invalid_argument naming a channel that does not exist.
  LoopbackClient(std::uint32_t inputChannels, std::uint32_t outputChannels, std::vector<std::int32_t> outputFromInput);

  void process(const IoCycleInfo& cycle, const float* input, std::uint32_t inputChannels, float* output,
               std::uint32_t outputChannels, std::uint32_t frames) override;
  // The identity map with as many inputs as outputs: process() is one copy.
  bool passesInputThrough() const override { return identity_; }
  const std::vector<std::int32_t>& map() const { return map_; }

 private:
  std::vector<std::int32_t> map_;
  bool identity_ = false;
};

}  // namespace aes67
