#include "engine/base/endpoint.hpp"

#include <stdexcept>

namespace aes67 {

Ipv4Address parseIpv4(const std::string& text) {
  Ipv4Address result = 0;
  int octets = 0;
  std::size_t i = 0;
  while (octets < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') break;
    unsigned value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 4) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
      ++digits;
    }
    if (value > 255 || digits > 3) break;
    result = (result << 8) | value;
    ++octets;
    if (octets < 4) {
      if (i >= text.size() || text[i] != '.') break;
      ++i;
    }
  }
  if (octets != 4 || i != text.size()) {
    throw std::invalid_argument("not an IPv4 address (expected a.b.c.d): '" + text + "'");
  }
  return result;
}

Ipv4Endpoint parseEndpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("not an endpoint (expected a.b.c.d:port): '" + text + "'");
  }
  const std::string portText = text.substr(colon + 1);
  if (portText.empty() || portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(portText) > 65535) {
    throw std::invalid_argument("bad port in endpoint '" + text + "' (expected 0-65535)");
  }
  return Ipv4Endpoint{parseIpv4(text.substr(0, colon)), static_cast<std::uint16_t>(std::stoul(portText))};
}

std::string formatIpv4(Ipv4Address a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xFF) + "." + std::to_string((a >> 8) & 0xFF) +
         "." + std::to_string(a & 0xFF);
}

std::string formatEndpoint(const Ipv4Endpoint& e) { return formatIpv4(e.address) + ":" + std::to_string(e.port); }

}  // namespace aes67
