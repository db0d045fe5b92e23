#include "engine/rtsp/rtsp_url.hpp"

#include <stdexcept>

namespace aes67 {

namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string formatHost(const std::string& host) {
  if (host.empty()) throw std::invalid_argument("RTSP URL host is empty");
  for (char c : host) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || c == '@') {
      throw std::invalid_argument("RTSP URL host \"" + host + "\" has a character a host name cannot have");
    }
  }
  return host;
}

}  // namespace

RtspUrl parseRtspUrl(const std::string& url) {
  const std::string scheme = "rtsp://";
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("\"" + url + "\" is not an RTSP URL (" + why + "): write rtsp://host[:port]/path");
  };
  if (url.size() < scheme.size()) throw bad("too short");
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = url[i] >= 'A' && url[i] <= 'Z' ? static_cast<char>(url[i] - 'A' + 'a') : url[i];
    if (c != scheme[i]) throw bad("the scheme is not rtsp://");
  }
  for (char c : url) {
    if (c <= 0x20 || c >= 0x7f) throw bad("spaces, controls or non-ASCII bytes must be percent-encoded");
  }
  RtspUrl u;
  const std::size_t slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash == std::string::npos ? std::string::npos : slash - scheme.size());
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (authority.find('@') != std::string::npos) throw bad("user information is not supported");
  const std::size_t colon = authority.rfind(':');
  u.host = authority.substr(0, colon);
  if (u.host.empty()) throw bad("no host");
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    unsigned long value = 0;
    if (port.empty() || port.size() > 5) throw bad("port \"" + port + "\" is not 1-65535");
    for (char c : port) {
      if (c < '0' || c > '9') throw bad("port \"" + port + "\" is not 1-65535");
      value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value == 0 || value > 65535) throw bad("port " + port + " is not 1-65535");
    u.port = static_cast<std::uint16_t>(value);
  }
  return u;
}

std::string percentEncode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string percentDecode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) throw std::invalid_argument("\"" + text + "\": '%' at " + std::to_string(i) + " is not followed by two hex digits");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string ravennaSessionUrlByName(const std::string& host, std::uint16_t port, const std::string& sessionName) {
  if (sessionName.empty()) throw std::invalid_argument("RAVENNA session name is empty");
  return "rtsp://" + formatHost(host) + ":" + std::to_string(port) + "/by-name/" + percentEncode(sessionName);
}

std::string ravennaSessionUrlById(const std::string& host, std::uint16_t port, std::uint64_t id) {
  return "rtsp://" + formatHost(host) + ":" + std::to_string(port) + "/by-id/" + std::to_string(id);
}

}  // namespace aes67
