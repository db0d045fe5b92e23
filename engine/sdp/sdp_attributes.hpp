// Typed readings of the attributes AES67, RAVENNA and Dante put in SDP: rtpmap (RFC 8866
// §6.6, RFC 3551), ptime/maxptime with the fractions AES67 packet times need, framecount
// (legacy RAVENNA), ts-refclk and mediaclk (RFC 7273), source-filter (RFC 4570) and
// RAVENNA's clock-domain. Each parser throws SdpError naming the attribute's line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

// "a=rtpmap:97 L24/48000/2". Without a channel count RFC 3551 §4.5 (and §6) means one.
struct SdpRtpmap {
  std::uint8_t payloadType = 0;
  std::string encoding;
  std::uint32_t clockRate = 0;
  std::optional<std::uint32_t> channels;
  std::uint32_t channelCount() const { return channels.value_or(1); }
};
SdpRtpmap parseRtpmap(const SdpAttribute& a);

// A packet time in milliseconds, kept as the exact decimal written ("0.333" = 333/1000),
// so the sample count is computed without binary rounding. The reference driver dropped
// the fraction (FIELD-NOTES "The reference driver": 0.125 ms parsed wrongly).
struct SdpPtime {
  std::uint64_t numerator = 1;  // ms = numerator / scale
  std::uint64_t scale = 1;      // a power of ten
  // Samples per packet at `rate`: ms x rate / 1000 rounded to the nearest (half up), so
  // 0.12, 0.125 -> 6, 0.33, 0.333 -> 16 and 0.25 -> 12 at 48 kHz, as AES67 §7.2 means them.
  std::uint64_t framesAt(std::uint32_t rate) const;
  double milliseconds() const { return static_cast<double>(numerator) / static_cast<double>(scale); }
};
// Parses "1", "0.125", ".5"; throws SdpError(reason, a.line) if not a positive decimal.
SdpPtime parsePtime(const SdpAttribute& a, SdpErrorReason reason = SdpErrorReason::kBadPtime);
// The ptime text for `frames` at `rate`: microseconds rounded, written as ms with at most
// three decimals (48 -> "1", 6 -> "0.125", 16 -> "0.333", 12 -> "0.25" at 48 kHz).
std::string formatPtime(std::uint32_t frames, std::uint32_t rate);
// Microseconds of `frames` at `rate`, rounded to the nearest.
std::uint32_t packetMicroseconds(std::uint64_t frames, std::uint32_t rate);

// "a=framecount:6": samples per packet.
std::uint32_t parseFramecount(const SdpAttribute& a);

// RFC 7273 §4.8 "a=ts-refclk:".
struct SdpTsRefclk {
  enum class Kind : std::uint8_t { kPtp, kPtpTraceable, kLocalMac, kOther };
  Kind kind = Kind::kOther;
  std::string ptpVersion;              // "IEEE1588-2008"
  std::string gmid;                    // EUI-64 as written by AES67: "00-1D-C1-FF-FE-12-34-56", upper case
  std::optional<std::uint32_t> domain; // 0-127
  std::string mac;                     // localmac=, upper case
  std::string raw;                     // the value as written
  bool isPtp() const { return kind == Kind::kPtp || kind == Kind::kPtpTraceable; }
};
SdpTsRefclk parseTsRefclk(const SdpAttribute& a);
std::string formatTsRefclk(const SdpTsRefclk& r);

// RFC 7273 §5 "a=mediaclk:": direct=<offset> [rate=<num>/<den>], sender, or other.
struct SdpMediaclk {
  enum class Kind : std::uint8_t { kDirect, kSender, kOther };
  Kind kind = Kind::kOther;
  std::uint32_t offset = 0;  // RTP timestamp at the reference clock's epoch
  std::optional<std::uint32_t> rateNumerator, rateDenominator;
  std::string raw;
};
SdpMediaclk parseMediaclk(const SdpAttribute& a);

// RFC 4570 "a=source-filter: incl IN IP4 <dest> <src> ...".
struct SdpSourceFilter {
  bool include = true;
  std::string netType = "IN";
  std::string addrType = "IP4";
  std::string destination;            // "*" for any
  std::vector<std::string> sources;
};
SdpSourceFilter parseSourceFilter(const SdpAttribute& a);
std::string formatSourceFilter(const SdpSourceFilter& f);

// RAVENNA "a=clock-domain:PTPv2 0": the PTP domain; nothing if malformed.
std::optional<std::uint32_t> parseClockDomain(const SdpAttribute& a);

// Dante writes channel labels in i= ("2 channels: Left, Right"); others a plain list.
// Labels keep their inner spaces; empty ones are dropped.
std::vector<std::string> parseChannelLabels(const std::string& information);

}  // namespace aes67
