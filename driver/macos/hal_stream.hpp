// One libASPL stream (all input or all output channels, float32 interleaved) whose format
// follows the core device: channels and the current nominal rate, and every supported rate
// as available formats, so a rate change never leaves the stream at libASPL's default
// 44.1 kHz (FIELD-NOTES, libASPL pitfalls).
#pragma once

#include <aspl/Stream.hpp>

#include <vector>

#include "driver/core/device.hpp"

namespace aes67::macos {

class HalStream final : public aspl::Stream {
 public:
  HalStream(std::shared_ptr<const aspl::Context> context, std::shared_ptr<aspl::Device> owner, const Device& core,
            aspl::Direction direction);

  AudioStreamBasicDescription GetPhysicalFormat() const override;
  AudioStreamBasicDescription GetVirtualFormat() const override;
  std::vector<AudioStreamRangedDescription> GetAvailablePhysicalFormats() const override;
  std::vector<AudioStreamRangedDescription> GetAvailableVirtualFormats() const override;

  // The format of `channels` float32 interleaved channels at `rate`.
  static AudioStreamBasicDescription format(std::uint32_t channels, double rate);

 private:
  std::uint32_t channels() const;
  const Device& core_;
  aspl::Direction direction_;
};

}  // namespace aes67::macos
