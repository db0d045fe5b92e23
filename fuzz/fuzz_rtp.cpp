// libFuzzer: the RTP parser on arbitrary datagrams. Whatever it accepts must describe bytes
// inside the datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/rtp/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aes67::RtpPacketView p;
  if (aes67::parseRtp(data, size, p) != aes67::RtpParseError::kNone) return 0;
  const std::uint8_t* end = data + size;
  if (p.payload < data || p.payload + p.payloadSize > end) std::abort();
  if (p.extension && (p.extensionData < data || p.extensionData + p.extensionLength > p.payload)) std::abort();
  if (p.csrcCount > 15 || p.payloadSize + p.paddingSize > size) std::abort();
  return 0;
}
