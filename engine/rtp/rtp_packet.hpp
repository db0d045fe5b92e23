// RTP fixed header, CSRC list and header extension (RFC 3550 section 5.1), parsed as a view
// into the datagram: no copy, no allocation. Anything malformed is reported by reason so
// the receiver can count it and drop it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aes67 {

enum class RtpParseError : std::uint8_t {
  kNone = 0,
  kTruncated,        // shorter than the header, CSRC list or extension it announces
  kBadVersion,       // version field is not 2
  kBadPadding,       // padding count is 0 or runs past the payload
};
const char* toString(RtpParseError error);

struct RtpPacketView {
  bool padding = false;
  bool extension = false;
  bool marker = false;
  std::uint8_t csrcCount = 0;
  std::uint8_t payloadType = 0;
  std::uint16_t sequenceNumber = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint32_t csrcs[15] = {};
  std::uint16_t extensionProfile = 0;
  const std::uint8_t* extensionData = nullptr;  // extensionLength bytes
  std::size_t extensionLength = 0;
  const std::uint8_t* payload = nullptr;  // payloadSize bytes, padding removed
  std::size_t payloadSize = 0;
  std::size_t paddingSize = 0;
};

// Parses `data`; on success fills `out` (pointers into `data`) and returns kNone.
RtpParseError parseRtp(const std::uint8_t* data, std::size_t size, RtpPacketView& out);

struct RtpHeaderFields {
  bool marker = false;
  std::uint8_t payloadType = 96;
  std::uint16_t sequenceNumber = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
};

constexpr std::size_t kRtpHeaderSize = 12;

// Writes a 12-byte header (no CSRC, no extension, no padding) — what AES67 senders emit.
void writeRtpHeader(const RtpHeaderFields& fields, std::uint8_t* out);

}  // namespace aes67
