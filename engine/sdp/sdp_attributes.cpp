#include "engine/sdp/sdp_attributes.hpp"

#include "engine/sdp/sdp_numbers.hpp"

#include <algorithm>
#include <cctype>

namespace aes67 {

namespace {

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  const std::size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> splitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::vector<std::string> splitSpaces(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& p : splitOn(text, ' '))
    if (!p.empty()) out.push_back(p);
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// n octets of two hex digits joined by '-' (EUI-64 for PTP, EUI-48 for localmac).
bool isDashedHex(const std::string& s, std::size_t octets) {
  const auto parts = splitOn(s, '-');
  if (parts.size() != octets) return false;
  return std::all_of(parts.begin(), parts.end(), [](const std::string& p) {
    return p.size() == 2 && std::isxdigit(static_cast<unsigned char>(p[0])) && std::isxdigit(static_cast<unsigned char>(p[1]));
  });
}

}  // namespace

SdpRtpmap parseRtpmap(const SdpAttribute& a) {
  auto fail = [&a](const std::string& why) -> SdpError {
    return SdpError(SdpErrorReason::kBadRtpmap, a.line, why + " (expected \"a=rtpmap:<pt> <encoding>/<rate>[/<channels>]\", e.g. \"a=rtpmap:97 L24/48000/2\")");
  };
  const std::string v = trim(a.value);
  const std::size_t space = v.find(' ');
  if (space == std::string::npos) throw fail("no encoding after the payload type");
  std::uint64_t pt = 0;
  if (!parseUnsigned(v.substr(0, space), 127, pt)) throw fail("payload type \"" + v.substr(0, space) + "\" must be 0..127");
  const auto parts = splitOn(trim(v.substr(space + 1)), '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) throw fail("\"" + v.substr(space + 1) + "\" is not <encoding>/<rate>");
  SdpRtpmap r;
  r.payloadType = static_cast<std::uint8_t>(pt);
  r.encoding = parts[0];
  std::uint64_t n = 0;
  if (!parseUnsigned(parts[1], 0xFFFFFFFFu, n) || n == 0) throw fail("clock rate \"" + parts[1] + "\" must be a positive integer");
  r.clockRate = static_cast<std::uint32_t>(n);
  if (parts.size() == 3) {
    if (!parseUnsigned(parts[2], 0xFFFFFFFFu, n) || n == 0) throw fail("channel count \"" + parts[2] + "\" must be a positive integer");
    r.channels = static_cast<std::uint32_t>(n);
  }
  return r;
}

std::uint64_t SdpPtime::framesAt(std::uint32_t rate) const {
  // Round half up of numerator * rate / (scale * 1000); the product fits: numerator <
  // 10^12 (checked on parse) and rate < 2^32.
  const unsigned __int128 num = static_cast<unsigned __int128>(numerator) * rate;
  const unsigned __int128 den = static_cast<unsigned __int128>(scale) * 1000;
  return static_cast<std::uint64_t>((num * 2 + den) / (den * 2));
}

SdpPtime parsePtime(const SdpAttribute& a, SdpErrorReason reason) {
  const std::string v = trim(a.value);
  auto fail = [&]() -> SdpError {
    return SdpError(reason, a.line, "\"" + v.substr(0, 40) + "\" is not a positive number of ms (e.g. \"1\", \"0.125\", \"0.333\")");
  };
  const std::size_t dot = v.find('.');
  const std::string whole = v.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : v.substr(dot + 1);
  if (whole.empty() && fraction.empty()) throw fail();
  if (whole.size() > 6 || fraction.size() > 6) throw fail();  // 1000 s packets or sub-ns fractions: nonsense
  std::uint64_t w = 0, f = 0;
  if (!whole.empty() && !parseUnsigned(whole, 999999, w)) throw fail();
  if (!fraction.empty() && !parseUnsigned(fraction, 999999, f)) throw fail();
  SdpPtime p;
  p.scale = 1;
  for (std::size_t i = 0; i < fraction.size(); ++i) p.scale *= 10;
  p.numerator = w * p.scale + f;
  if (p.numerator == 0) throw fail();
  return p;
}

std::uint32_t packetMicroseconds(std::uint64_t frames, std::uint32_t rate) {
  return static_cast<std::uint32_t>((frames * 2'000'000 + rate) / (2 * static_cast<std::uint64_t>(rate)));
}

std::string formatPtime(std::uint32_t frames, std::uint32_t rate) {
  const std::uint32_t us = packetMicroseconds(frames, rate);
  std::string s = std::to_string(us / 1000);
  std::uint32_t rest = us % 1000;
  if (rest != 0) {
    std::string digits = std::to_string(rest);
    digits.insert(0, 3 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    s += "." + digits;
  }
  return s;
}

std::uint32_t parseFramecount(const SdpAttribute& a) {
  std::uint64_t n = 0;
  if (!parseUnsigned(trim(a.value), 0xFFFFFFFFu, n) || n == 0) {
    throw SdpError(SdpErrorReason::kBadPtime, a.line, "framecount must be a positive integer of samples per packet");
  }
  return static_cast<std::uint32_t>(n);
}

SdpTsRefclk parseTsRefclk(const SdpAttribute& a) {
  SdpTsRefclk r;
  r.raw = a.value;
  const std::string v = trim(a.value);
  if (v.rfind("ptp=", 0) == 0) {
    auto fail = [&a]() -> SdpError {
      return SdpError(SdpErrorReason::kBadTsRefclk, a.line,
                      "expected \"a=ts-refclk:ptp=IEEE1588-2008:XX-XX-XX-XX-XX-XX-XX-XX:<domain 0-127>\" or \":traceable\"");
    };
    const auto parts = splitOn(v.substr(4), ':');
    static const char* kVersions[] = {"IEEE1588-2002", "IEEE1588-2008", "IEEE1588-2019", "IEEE802.1AS-2011"};
    if (parts.size() < 2 || parts.size() > 3 || std::none_of(std::begin(kVersions), std::end(kVersions), [&](const char* k) { return parts[0] == k; })) {
      throw fail();
    }
    r.ptpVersion = parts[0];
    if (parts[1] == "traceable") {
      if (parts.size() != 2) throw fail();
      r.kind = SdpTsRefclk::Kind::kPtpTraceable;
      return r;
    }
    if (!isDashedHex(parts[1], 8)) throw fail();
    r.kind = SdpTsRefclk::Kind::kPtp;
    r.gmid = upper(parts[1]);
    if (parts.size() == 3) {
      std::uint64_t d = 0;
      if (!parseUnsigned(parts[2], 127, d)) throw fail();  // RFC 7273 §4.8 ptp-domain: 0-127
      r.domain = static_cast<std::uint32_t>(d);
    }
    return r;
  }
  if (v.rfind("localmac=", 0) == 0) {
    if (!isDashedHex(v.substr(9), 6)) {
      throw SdpError(SdpErrorReason::kBadTsRefclk, a.line, "expected \"a=ts-refclk:localmac=XX-XX-XX-XX-XX-XX\"");
    }
    r.kind = SdpTsRefclk::Kind::kLocalMac;
    r.mac = upper(v.substr(9));
    return r;
  }
  r.kind = SdpTsRefclk::Kind::kOther;  // ntp=, gps, local...: kept, not a PTP reference
  return r;
}

std::string formatTsRefclk(const SdpTsRefclk& r) {
  switch (r.kind) {
    case SdpTsRefclk::Kind::kPtp:
      return "ptp=" + r.ptpVersion + ":" + r.gmid + (r.domain ? ":" + std::to_string(*r.domain) : "");
    case SdpTsRefclk::Kind::kPtpTraceable: return "ptp=" + r.ptpVersion + ":traceable";
    case SdpTsRefclk::Kind::kLocalMac: return "localmac=" + r.mac;
    case SdpTsRefclk::Kind::kOther: break;
  }
  return r.raw;
}

SdpMediaclk parseMediaclk(const SdpAttribute& a) {
  SdpMediaclk m;
  m.raw = a.value;
  const auto parts = splitSpaces(a.value);
  auto fail = [&a](const std::string& why) -> SdpError {
    return SdpError(SdpErrorReason::kBadMediaclk, a.line, why + " (expected \"a=mediaclk:direct=<offset>[ rate=<n>/<d>]\")");
  };
  if (parts.empty()) throw fail("empty mediaclk");
  if (parts[0] == "sender") {
    m.kind = SdpMediaclk::Kind::kSender;
    return m;
  }
  if (parts[0].rfind("direct", 0) != 0) {
    m.kind = SdpMediaclk::Kind::kOther;  // IEEE1722=, streamid=: kept, not usable by the engine
    return m;
  }
  m.kind = SdpMediaclk::Kind::kDirect;
  if (parts[0] != "direct") {
    std::uint64_t off = 0;
    if (parts[0][6] != '=' || !parseUnsigned(parts[0].substr(7), 0xFFFFFFFFu, off)) {
      throw fail("offset \"" + parts[0].substr(std::min<std::size_t>(parts[0].size(), 7)) + "\" must be 0..4294967295");
    }
    m.offset = static_cast<std::uint32_t>(off);
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].rfind("rate=", 0) != 0) throw fail("unknown parameter \"" + parts[i] + "\"");
    const auto nd = splitOn(parts[i].substr(5), '/');
    std::uint64_t n = 0, d = 1;
    if (nd.size() > 2 || !parseUnsigned(nd[0], 0xFFFFFFFFu, n) || n == 0 ||
        (nd.size() == 2 && (!parseUnsigned(nd[1], 0xFFFFFFFFu, d) || d == 0))) {
      throw fail("rate \"" + parts[i].substr(5) + "\" must be <n>/<d>");
    }
    m.rateNumerator = static_cast<std::uint32_t>(n);
    m.rateDenominator = static_cast<std::uint32_t>(d);
  }
  return m;
}

SdpSourceFilter parseSourceFilter(const SdpAttribute& a) {
  const auto parts = splitSpaces(a.value);
  if (parts.size() < 5 || (parts[0] != "incl" && parts[0] != "excl")) {
    throw SdpError(SdpErrorReason::kBadSourceFilter, a.line,
                   "expected \"a=source-filter: incl IN IP4 <destination> <source> ...\" (RFC 4570)");
  }
  SdpSourceFilter f;
  f.include = parts[0] == "incl";
  f.netType = parts[1];
  f.addrType = parts[2];
  f.destination = parts[3];
  f.sources.assign(parts.begin() + 4, parts.end());
  return f;
}

std::string formatSourceFilter(const SdpSourceFilter& f) {
  std::string s = std::string(" ") + (f.include ? "incl" : "excl") + " " + f.netType + " " + f.addrType + " " + f.destination;
  for (const auto& src : f.sources) s += " " + src;
  return s;
}

std::optional<std::uint32_t> parseClockDomain(const SdpAttribute& a) {
  const auto parts = splitSpaces(a.value);
  std::uint64_t d = 0;
  if (parts.size() != 2 || parts[0] != "PTPv2" || !parseUnsigned(parts[1], 255, d)) return std::nullopt;
  return static_cast<std::uint32_t>(d);
}

std::vector<std::string> parseChannelLabels(const std::string& information) {
  std::string body = information;
  // Strip Dante's "<n> channels:" prefix (same rule as the lab: ^\s*\d+\s+channels?\s*:).
  auto space = [&body](std::size_t k) { return k < body.size() && (body[k] == ' ' || body[k] == '\t'); };
  std::size_t i = 0;
  while (space(i)) ++i;
  std::size_t j = i;
  while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) ++j;
  std::size_t k = j;
  while (space(k)) ++k;
  if (j > i && k > j) {
    std::string word;
    while (k < body.size() && std::isalpha(static_cast<unsigned char>(body[k]))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(body[k++])));
    }
    while (space(k)) ++k;
    if ((word == "channel" || word == "channels") && k < body.size() && body[k] == ':') body = body.substr(k + 1);
  }
  std::vector<std::string> out;
  for (const auto& part : splitOn(body, ',')) {
    const std::string t = trim(part);
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

}  // namespace aes67
