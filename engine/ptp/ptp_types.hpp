// IEEE 1588-2008 data types (clause 5.3): clock and port identities, timestamps, clock
// quality; and how they print. Identities print the way the tools people compare us with
// print them: ptp4l's "001d7f.fffe.80024a" and tshark's "0x001d7ffffe80024a".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/base/time.hpp"

namespace aes67 {

// 8 octets; for EUI-48 interfaces the MAC with FF FE inserted in the middle (7.5.2.2.2).
struct ClockIdentity {
  std::array<std::uint8_t, 8> bytes{};
  bool operator==(const ClockIdentity& o) const { return bytes == o.bytes; }
  bool operator!=(const ClockIdentity& o) const { return bytes != o.bytes; }
  bool operator<(const ClockIdentity& o) const { return bytes < o.bytes; }
  bool isZero() const;
  // The identity as a 64-bit number (first octet most significant), as tshark prints it.
  std::uint64_t value() const;
  static ClockIdentity fromValue(std::uint64_t v);
  // From a MAC address (EUI-48 -> EUI-64 by inserting FF FE), as ptp4l derives its own.
  static ClockIdentity fromMac(const std::array<std::uint8_t, 6>& mac);
};

// "xxxxxx.xxxx.xxxxxx": how ptp4l and pmc print a clock identity.
std::string formatPtp4l(const ClockIdentity& id);
// "0x" + 16 lower-case hex digits: how tshark prints ptp.v2.clockidentity.
std::string formatHex(const ClockIdentity& id);
// Parses either form above (or 16 bare hex digits); nothing on bad input.
std::optional<ClockIdentity> parseClockIdentity(const std::string& text);

struct PortIdentity {
  ClockIdentity clockIdentity;
  std::uint16_t portNumber = 0;
  bool operator==(const PortIdentity& o) const { return clockIdentity == o.clockIdentity && portNumber == o.portNumber; }
  bool operator!=(const PortIdentity& o) const { return !(*this == o); }
};
// Ordered as 1588 compares identities: clockIdentity octets, then portNumber. <0, 0, >0.
int compare(const PortIdentity& a, const PortIdentity& b);
// "001d7f.fffe.80024a-1", as ptp4l prints a port identity.
std::string formatPtp4l(const PortIdentity& id);

// 48-bit seconds and 32-bit nanoseconds (5.3.3). Wire values are kept as they came; valid()
// says whether they are a time (nanoseconds < 1e9 and the seconds fit our 64-bit ns).
struct PtpTimestamp {
  std::uint64_t seconds = 0;  // 48 bits on the wire
  std::uint32_t nanoseconds = 0;
  bool valid() const;
  // Nanoseconds since the PTP epoch; only meaningful when valid().
  Nanoseconds toNanos() const;
  static PtpTimestamp fromNanos(Nanoseconds ns);  // ns >= 0
};

struct ClockQuality {
  std::uint8_t clockClass = 248;             // 248: default, not traceable (7.6.2.4)
  std::uint8_t clockAccuracy = 0xFE;         // 0xFE: unknown
  std::uint16_t offsetScaledLogVariance = 0xFFFF;
  bool operator==(const ClockQuality& o) const {
    return clockClass == o.clockClass && clockAccuracy == o.clockAccuracy &&
           offsetScaledLogVariance == o.offsetScaledLogVariance;
  }
};

// correctionField: nanoseconds x 2^16 (13.3.2.7).
constexpr double correctionToNanos(std::int64_t scaled) { return static_cast<double>(scaled) / 65536.0; }

}  // namespace aes67
