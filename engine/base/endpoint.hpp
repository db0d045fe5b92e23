// IPv4 addresses and UDP endpoints in host byte order, with parsing that reports what is
// wrong. AES67 is IPv4-only in practice (every device in FIELD-NOTES.md is).
#pragma once

#include <cstdint>
#include <string>

namespace aes67 {

using Ipv4Address = std::uint32_t;  // host byte order: 239.69.0.1 == 0xEF450001

struct Ipv4Endpoint {
  Ipv4Address address = 0;
  std::uint16_t port = 0;
  bool operator==(const Ipv4Endpoint& o) const { return address == o.address && port == o.port; }
  bool operator!=(const Ipv4Endpoint& o) const { return !(*this == o); }
};

// "a.b.c.d" -> address; throws std::invalid_argument naming the text on failure.
Ipv4Address parseIpv4(const std::string& text);
// "a.b.c.d:port" -> endpoint; throws std::invalid_argument on failure.
Ipv4Endpoint parseEndpoint(const std::string& text);
std::string formatIpv4(Ipv4Address address);
std::string formatEndpoint(const Ipv4Endpoint& endpoint);

constexpr bool isMulticast(Ipv4Address a) { return (a >> 28) == 0xE; }

}  // namespace aes67
