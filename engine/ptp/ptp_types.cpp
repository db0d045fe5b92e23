#include "engine/ptp/ptp_types.hpp"

#include <cstdio>
#include <limits>

namespace aes67 {

bool ClockIdentity::isZero() const {
  for (auto b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::uint64_t ClockIdentity::value() const {
  std::uint64_t v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  return v;
}

ClockIdentity ClockIdentity::fromValue(std::uint64_t v) {
  ClockIdentity id;
  for (int i = 7; i >= 0; --i) {
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
  return id;
}

ClockIdentity ClockIdentity::fromMac(const std::array<std::uint8_t, 6>& mac) {
  return ClockIdentity{{mac[0], mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]}};
}

std::string formatPtp4l(const ClockIdentity& id) {
  char text[24];
  const auto& b = id.bytes;
  std::snprintf(text, sizeof text, "%02x%02x%02x.%02x%02x.%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
  return text;
}

std::string formatHex(const ClockIdentity& id) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(id.value()));
  return text;
}

std::optional<ClockIdentity> parseClockIdentity(const std::string& text) {
  std::string hex;
  std::size_t start = text.rfind("0x", 0) == 0 ? 2 : 0;
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' || c == ':' || c == '-') continue;
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return std::nullopt;
    hex += c;
  }
  if (hex.size() != 16) return std::nullopt;
  return ClockIdentity::fromValue(std::stoull(hex, nullptr, 16));
}

int compare(const PortIdentity& a, const PortIdentity& b) {
  if (a.clockIdentity < b.clockIdentity) return -1;
  if (b.clockIdentity < a.clockIdentity) return 1;
  if (a.portNumber != b.portNumber) return a.portNumber < b.portNumber ? -1 : 1;
  return 0;
}

std::string formatPtp4l(const PortIdentity& id) { return formatPtp4l(id.clockIdentity) + "-" + std::to_string(id.portNumber); }

bool PtpTimestamp::valid() const {
  constexpr std::uint64_t kMaxSeconds = static_cast<std::uint64_t>(std::numeric_limits<Nanoseconds>::max() / kNanosPerSecond) - 1;
  return nanoseconds < kNanosPerSecond && seconds <= kMaxSeconds;
}

Nanoseconds PtpTimestamp::toNanos() const {
  return static_cast<Nanoseconds>(seconds) * kNanosPerSecond + static_cast<Nanoseconds>(nanoseconds);
}

PtpTimestamp PtpTimestamp::fromNanos(Nanoseconds ns) {
  PtpTimestamp t;
  t.seconds = static_cast<std::uint64_t>(ns / kNanosPerSecond);
  t.nanoseconds = static_cast<std::uint32_t>(ns % kNanosPerSecond);
  return t;
}

}  // namespace aes67
