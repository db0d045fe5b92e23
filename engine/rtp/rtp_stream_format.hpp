// What an AES67 RTP audio stream carries, as its SDP describes it.
#pragma once

#include <cstdint>

#include "engine/rtp/pcm_codec.hpp"

namespace aes67 {

struct RtpStreamFormat {
  PcmEncoding encoding = PcmEncoding::kL24;
  std::uint32_t channels = 2;
  std::uint32_t sampleRate = 48000;
  std::uint8_t payloadType = 96;
  std::uint32_t mediaclkOffset = 0;  // SDP a=mediaclk:direct=<offset>
  std::uint32_t frameBytes() const { return channels * static_cast<std::uint32_t>(bytesPerSample(encoding)); }
};

}  // namespace aes67
