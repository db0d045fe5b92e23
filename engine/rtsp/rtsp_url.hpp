// rtsp:// URLs (RFC 2326 §3.2) and the two shapes RAVENNA uses for a session
// (FIELD-NOTES "RAVENNA"): rtsp://host:port/by-name/<url-encoded session name> and
// rtsp://host:port/by-id/<n>.
#pragma once

#include <cstdint>
#include <string>

namespace aes67 {

constexpr std::uint16_t kRtspDefaultPort = 554;

struct RtspUrl {
  std::string host;  // an IPv4 address or a host name, as written
  std::uint16_t port = kRtspDefaultPort;
  std::string path = "/";
};

// Throws std::invalid_argument naming the URL and what to write instead.
RtspUrl parseRtspUrl(const std::string& url);

// Percent-encodes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percentEncode(const std::string& text);
// Decodes %XX; throws std::invalid_argument on a broken escape.
std::string percentDecode(const std::string& text);

std::string ravennaSessionUrlByName(const std::string& host, std::uint16_t port, const std::string& sessionName);
std::string ravennaSessionUrlById(const std::string& host, std::uint16_t port, std::uint64_t id);

}  // namespace aes67
