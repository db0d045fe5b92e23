#include "engine/sdp/sdp_session.hpp"

#include "engine/sdp/sdp_numbers.hpp"

#include <algorithm>

namespace aes67 {

const char* toString(SdpErrorReason reason) {
  switch (reason) {
    case SdpErrorReason::kEmpty: return "empty";
    case SdpErrorReason::kBadLine: return "bad-line";
    case SdpErrorReason::kUnknownType: return "unknown-type";
    case SdpErrorReason::kBadVersion: return "bad-version";
    case SdpErrorReason::kBadOrigin: return "bad-origin";
    case SdpErrorReason::kNoSessionName: return "no-session-name";
    case SdpErrorReason::kBadConnection: return "bad-connection";
    case SdpErrorReason::kBadTiming: return "bad-timing";
    case SdpErrorReason::kBadMediaLine: return "bad-media-line";
    case SdpErrorReason::kBadAttribute: return "bad-attribute";
    case SdpErrorReason::kNoAudioMedia: return "no-audio-media";
    case SdpErrorReason::kNoConnection: return "no-connection";
    case SdpErrorReason::kNoRtpmap: return "no-rtpmap";
    case SdpErrorReason::kBadRtpmap: return "bad-rtpmap";
    case SdpErrorReason::kUnsupportedEncoding: return "unsupported-encoding";
    case SdpErrorReason::kNoPtime: return "no-ptime";
    case SdpErrorReason::kBadPtime: return "bad-ptime";
    case SdpErrorReason::kBadMaxptime: return "bad-maxptime";
    case SdpErrorReason::kBadTsRefclk: return "bad-ts-refclk";
    case SdpErrorReason::kBadMediaclk: return "bad-mediaclk";
    case SdpErrorReason::kBadSourceFilter: return "bad-source-filter";
    case SdpErrorReason::kCount: break;
  }
  return "unknown";
}

namespace {
std::string describeError(SdpErrorReason reason, int line, const std::string& detail) {
  return (line > 0 ? "SDP line " + std::to_string(line) + ": " : std::string("SDP: ")) + toString(reason) + ": " + detail;
}
}  // namespace

SdpError::SdpError(SdpErrorReason reason, int line, const std::string& detail)
    : std::runtime_error(describeError(reason, line, detail)), reason_(reason), line_(line), detail_(detail) {}

namespace {

const SdpAttribute* findAttribute(const std::vector<SdpAttribute>& list, const std::string& name) {
  for (const auto& a : list)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<const SdpAttribute*> findAttributes(const std::vector<SdpAttribute>& list, const std::string& name) {
  std::vector<const SdpAttribute*> out;
  for (const auto& a : list)
    if (a.name == name) out.push_back(&a);
  return out;
}

std::vector<std::string> splitSpaces(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

bool isToken(const std::string& s) {
  // RFC 8866 token-char: visible ASCII except a few separators; good enough to refuse spaces/controls.
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

std::string writeConnection(const SdpConnection& c) {
  std::string s = "c=" + c.netType + " " + c.addrType + " " + c.address;
  if (c.ttl) s += "/" + std::to_string(*c.ttl);
  if (c.count) s += "/" + std::to_string(*c.count);
  return s + "\r\n";
}

SdpConnection parseConnectionLine(const std::string& value, int line) {
  const auto parts = splitSpaces(value);
  SdpConnection c;
  c.line = line;
  if (parts.size() != 3 || !isToken(parts[0]) || !isToken(parts[1])) {
    throw SdpError(SdpErrorReason::kBadConnection, line, "expected \"c=IN IP4 <address>[/<ttl>]\"");
  }
  c.netType = parts[0];
  c.addrType = parts[1];
  if (!parseConnectionAddress(c.addrType, parts[2], c)) {
    throw SdpError(SdpErrorReason::kBadConnection, line,
                   "\"" + parts[2] + "\" is not <address>[/<ttl 0-255>[/<count>]]");
  }
  return c;
}

}  // namespace

bool parseConnectionAddress(const std::string& addrType, const std::string& text, SdpConnection& out) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = text.find('/', start);
    pieces.push_back(text.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (pieces.empty() || pieces.size() > 3 || !isToken(pieces[0])) return false;
  out.address = pieces[0];
  out.ttl.reset();
  out.count.reset();
  std::uint64_t v = 0;
  if (addrType == "IP6") {
    // RFC 8866 §5.7: IPv6 has no TTL, only a count.
    if (pieces.size() > 2) return false;
    if (pieces.size() == 2) {
      if (!parseUnsigned(pieces[1], 0xFFFFFFFFu, v) || v == 0) return false;
      out.count = static_cast<std::uint32_t>(v);
    }
    return true;
  }
  if (pieces.size() >= 2) {
    if (!parseUnsigned(pieces[1], 255, v)) return false;
    out.ttl = static_cast<std::uint32_t>(v);
  }
  if (pieces.size() == 3) {
    if (!parseUnsigned(pieces[2], 0xFFFFFFFFu, v) || v == 0) return false;
    out.count = static_cast<std::uint32_t>(v);
  }
  return true;
}

const SdpAttribute* SdpMedia::attribute(const std::string& name) const { return findAttribute(attributes, name); }
std::vector<const SdpAttribute*> SdpMedia::attributesNamed(const std::string& name) const {
  return findAttributes(attributes, name);
}
const SdpAttribute* SdpSession::attribute(const std::string& name) const { return findAttribute(attributes, name); }
std::vector<const SdpAttribute*> SdpSession::attributesNamed(const std::string& name) const {
  return findAttributes(attributes, name);
}

SdpSession parseSdp(const std::string& text) {
  // Lines end in CRLF (RFC 8866 §5), LF or a lone CR: count them the same way the lab's
  // codec does so line numbers agree.
  std::vector<std::string> lines;
  {
    std::string current;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\r' || c == '\n') {
        lines.push_back(current);
        current.clear();
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      } else {
        current += c;
      }
    }
    lines.push_back(current);
  }
  const bool empty = std::all_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find_first_not_of(" \t") == std::string::npos;
  });
  if (empty) throw SdpError(SdpErrorReason::kEmpty, 0, "the SDP text is empty");

  SdpSession s;
  bool haveVersion = false, haveOrigin = false, haveName = false;
  SdpMedia* media = nullptr;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const int n = static_cast<int>(i + 1);
    if (l.empty()) continue;  // a blank line (often the trailing one) carries nothing
    if (l.size() < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z') {
      throw SdpError(SdpErrorReason::kBadLine, n, "expected \"<type letter>=<value>\", got \"" + l.substr(0, 40) + "\"");
    }
    const char type = l[0];
    const std::string value = l.substr(2);
    if (!haveVersion) {
      if (type != 'v' || value != "0") throw SdpError(SdpErrorReason::kBadVersion, n, "the first line must be \"v=0\"");
      haveVersion = true;
      continue;
    }
    if (type == 'a') {
      SdpAttribute a;
      const std::size_t colon = value.find(':');
      a.name = value.substr(0, colon);
      a.hasValue = colon != std::string::npos;
      if (a.hasValue) a.value = value.substr(colon + 1);
      a.line = n;
      if (a.name.empty()) throw SdpError(SdpErrorReason::kBadAttribute, n, "an attribute needs a name (\"a=<name>[:<value>]\")");
      (media ? media->attributes : s.attributes).push_back(std::move(a));
      continue;
    }
    if (type == 'm') {
      const auto parts = splitSpaces(value);
      if (parts.size() < 3) {
        throw SdpError(SdpErrorReason::kBadMediaLine, n, "expected \"m=<media> <port>[/<count>] <proto> <fmt> ...\"");
      }
      SdpMedia m;
      m.line = n;
      m.media = parts[0];
      const std::size_t slash = parts[1].find('/');
      std::uint64_t v = 0;
      if (!parseUnsigned(parts[1].substr(0, slash), 65535, v)) {
        throw SdpError(SdpErrorReason::kBadMediaLine, n, "port \"" + parts[1] + "\" must be 0..65535");
      }
      m.port = static_cast<std::uint16_t>(v);
      if (slash != std::string::npos) {
        if (!parseUnsigned(parts[1].substr(slash + 1), 0xFFFF, v) || v == 0) {
          throw SdpError(SdpErrorReason::kBadMediaLine, n, "port count in \"" + parts[1] + "\" must be a positive number");
        }
        m.portCount = static_cast<std::uint32_t>(v);
      }
      m.proto = parts[2];
      m.formats.assign(parts.begin() + 3, parts.end());
      if (!isToken(m.media) || !isToken(m.proto)) throw SdpError(SdpErrorReason::kBadMediaLine, n, "media and proto must be tokens");
      s.media.push_back(std::move(m));
      media = &s.media.back();
      continue;
    }
    if (media) {
      switch (type) {
        case 'i':
          if (media->information) throw SdpError(SdpErrorReason::kBadLine, n, "a second \"i=\" in one media section");
          media->information = value;
          media->informationLine = n;
          break;
        case 'c': media->connections.push_back(parseConnectionLine(value, n)); break;
        case 'b':
        case 'k': media->fields.push_back(SdpField{type, value, n}); break;
        case 'v': case 'o': case 's': case 'u': case 'e': case 'p': case 't': case 'r': case 'z':
          throw SdpError(SdpErrorReason::kBadLine, n, std::string("\"") + type + "=\" belongs before the first \"m=\"");
        default:
          throw SdpError(SdpErrorReason::kUnknownType, n, std::string("type \"") + type + "=\" is not defined by RFC 8866");
      }
      continue;
    }
    switch (type) {
      case 'v': throw SdpError(SdpErrorReason::kBadVersion, n, "a second \"v=\" line");
      case 'o': {
        if (haveOrigin) throw SdpError(SdpErrorReason::kBadOrigin, n, "a second \"o=\" line");
        const auto parts = splitSpaces(value);
        if (parts.size() != 6 || !allDigits(parts[1]) || !allDigits(parts[2]) || !isToken(parts[0]) || !isToken(parts[3]) ||
            !isToken(parts[4])) {
          throw SdpError(SdpErrorReason::kBadOrigin, n, "expected \"o=<user> <id> <version> IN IP4 <address>\"");
        }
        s.origin = SdpOrigin{parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], n};
        haveOrigin = true;
        break;
      }
      case 's':
        if (haveName) throw SdpError(SdpErrorReason::kBadLine, n, "a second \"s=\" line");
        if (value.empty()) throw SdpError(SdpErrorReason::kNoSessionName, n, "\"s=\" is empty (RFC 8866 §5.3: use \"s= \")");
        s.name = value;
        s.nameLine = n;
        haveName = true;
        break;
      case 'i':
        if (s.information) throw SdpError(SdpErrorReason::kBadLine, n, "a second session-level \"i=\"");
        s.information = value;
        s.informationLine = n;
        break;
      case 'u': case 'e': case 'p': s.preConnection.push_back(SdpField{type, value, n}); break;
      case 'c':
        if (s.connection) throw SdpError(SdpErrorReason::kBadConnection, n, "a second session-level \"c=\"");
        s.connection = parseConnectionLine(value, n);
        break;
      case 'b': s.bandwidths.push_back(SdpField{type, value, n}); break;
      case 't': {
        const auto parts = splitSpaces(value);
        SdpTiming t;
        t.line = n;
        if (parts.size() != 2 || !parseUnsigned(parts[0], UINT64_MAX, t.start) || !parseUnsigned(parts[1], UINT64_MAX, t.stop)) {
          throw SdpError(SdpErrorReason::kBadTiming, n, "expected \"t=<start> <stop>\" (NTP seconds; \"t=0 0\" for permanent)");
        }
        s.timings.push_back(std::move(t));
        break;
      }
      case 'r':
        if (s.timings.empty()) throw SdpError(SdpErrorReason::kBadTiming, n, "\"r=\" needs a \"t=\" before it");
        s.timings.back().repeats.push_back(SdpField{type, value, n});
        break;
      case 'z': case 'k': s.postTiming.push_back(SdpField{type, value, n}); break;
      default:
        throw SdpError(SdpErrorReason::kUnknownType, n, std::string("type \"") + type + "=\" is not defined by RFC 8866");
    }
  }
  if (!haveOrigin) throw SdpError(SdpErrorReason::kBadOrigin, 0, "no \"o=\" line (\"o=<user> <id> <version> IN IP4 <address>\")");
  if (!haveName) throw SdpError(SdpErrorReason::kNoSessionName, 0, "no \"s=\" line (RFC 8866 §5.3: use \"s= \" if unnamed)");
  return s;
}

std::string writeSdp(const SdpSession& s) {
  std::string out = "v=0\r\n";
  const SdpOrigin& o = s.origin;
  out += "o=" + o.username + " " + o.sessionId + " " + o.sessionVersion + " " + o.netType + " " + o.addrType + " " + o.address + "\r\n";
  out += "s=" + s.name + "\r\n";
  if (s.information) out += "i=" + *s.information + "\r\n";
  for (const auto& f : s.preConnection) out += std::string(1, f.type) + "=" + f.value + "\r\n";
  if (s.connection) out += writeConnection(*s.connection);
  for (const auto& f : s.bandwidths) out += "b=" + f.value + "\r\n";
  for (const auto& t : s.timings) {
    out += "t=" + std::to_string(t.start) + " " + std::to_string(t.stop) + "\r\n";
    for (const auto& r : t.repeats) out += "r=" + r.value + "\r\n";
  }
  for (const auto& f : s.postTiming) out += std::string(1, f.type) + "=" + f.value + "\r\n";
  auto writeAttributes = [&out](const std::vector<SdpAttribute>& list) {
    for (const auto& a : list) out += "a=" + a.name + (a.hasValue ? ":" + a.value : std::string()) + "\r\n";
  };
  writeAttributes(s.attributes);
  for (const auto& m : s.media) {
    out += "m=" + m.media + " " + std::to_string(m.port) + (m.portCount ? "/" + std::to_string(*m.portCount) : "") + " " + m.proto;
    for (const auto& f : m.formats) out += " " + f;
    out += "\r\n";
    if (m.information) out += "i=" + *m.information + "\r\n";
    for (const auto& c : m.connections) out += writeConnection(c);
    for (const auto& f : m.fields) out += std::string(1, f.type) + "=" + f.value + "\r\n";
    writeAttributes(m.attributes);
  }
  return out;
}

}  // namespace aes67
