#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {

namespace {
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
}  // namespace

const char* toString(RtpParseError error) {
  switch (error) {
    case RtpParseError::kNone: return "none";
    case RtpParseError::kTruncated: return "truncated";
    case RtpParseError::kBadVersion: return "bad-version";
    case RtpParseError::kBadPadding: return "bad-padding";
  }
  return "unknown";
}

RtpParseError parseRtp(const std::uint8_t* data, std::size_t size, RtpPacketView& out) {
  if (size < kRtpHeaderSize) return RtpParseError::kTruncated;
  if ((data[0] >> 6) != 2) return RtpParseError::kBadVersion;
  out.padding = (data[0] & 0x20) != 0;
  out.extension = (data[0] & 0x10) != 0;
  out.csrcCount = data[0] & 0x0F;
  out.marker = (data[1] & 0x80) != 0;
  out.payloadType = data[1] & 0x7F;
  out.sequenceNumber = be16(data + 2);
  out.timestamp = be32(data + 4);
  out.ssrc = be32(data + 8);
  std::size_t offset = kRtpHeaderSize;
  if (size < offset + 4u * out.csrcCount) return RtpParseError::kTruncated;
  for (std::uint8_t i = 0; i < out.csrcCount; ++i) out.csrcs[i] = be32(data + offset + 4u * i);
  offset += 4u * out.csrcCount;
  out.extensionProfile = 0;
  out.extensionData = nullptr;
  out.extensionLength = 0;
  if (out.extension) {
    if (size < offset + 4) return RtpParseError::kTruncated;
    out.extensionProfile = be16(data + offset);
    out.extensionLength = 4u * be16(data + offset + 2);
    offset += 4;
    if (size < offset + out.extensionLength) return RtpParseError::kTruncated;
    out.extensionData = data + offset;
    offset += out.extensionLength;
  }
  out.paddingSize = 0;
  std::size_t end = size;
  if (out.padding) {
    const std::uint8_t count = data[size - 1];
    if (count == 0 || count > size - offset) return RtpParseError::kBadPadding;
    out.paddingSize = count;
    end -= count;
  }
  out.payload = data + offset;
  out.payloadSize = end - offset;
  return RtpParseError::kNone;
}

void writeRtpHeader(const RtpHeaderFields& f, std::uint8_t* out) {
  out[0] = 0x80;
  out[1] = static_cast<std::uint8_t>((f.marker ? 0x80 : 0) | (f.payloadType & 0x7F));
  out[2] = static_cast<std::uint8_t>(f.sequenceNumber >> 8);
  out[3] = static_cast<std::uint8_t>(f.sequenceNumber);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<std::uint8_t>(f.timestamp >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(f.ssrc >> (24 - 8 * i));
}

}  // namespace aes67
