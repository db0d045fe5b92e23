#include "engine/sdp/sdp_lint.hpp"

#include <algorithm>
#include <optional>

#include "engine/base/endpoint.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/sdp/sdp_attributes.hpp"
#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

const char* toString(SdpSeverity s) {
  switch (s) {
    case SdpSeverity::kError: return "error";
    case SdpSeverity::kWarning: return "warning";
    case SdpSeverity::kInfo: return "info";
  }
  return "?";
}

bool isAes67(const std::vector<SdpFinding>& findings) {
  return std::none_of(findings.begin(), findings.end(), [](const SdpFinding& f) { return f.severity == SdpSeverity::kError; });
}

namespace {

// AES67-2018 §7.2 packet times in µs (333 stands for 1/3 ms) and §7.1 rates.
constexpr std::uint32_t kPacketTimesUs[] = {125, 250, 333, 1000, 4000};
constexpr std::uint32_t kRates[] = {44100, 48000, 96000};
// FIELD-NOTES "Payload budget" (unverified as a standard figure).
constexpr std::uint32_t kPayloadBudgetBytes = 1440;

const SdpAttribute* either(const SdpMedia& m, const SdpSession& s, const char* name) {
  const SdpAttribute* a = m.attribute(name);
  return a ? a : s.attribute(name);
}

}  // namespace

std::vector<SdpFinding> lintSdp(const std::string& text) {
  std::vector<SdpFinding> out;
  auto add = [&out](SdpSeverity sev, const char* code, const char* clause, const std::string& message, int line = 0) {
    out.push_back(SdpFinding{sev, code, clause, message, line});
  };
  SdpSession s;
  try {
    s = parseSdp(text);
  } catch (const SdpError& e) {
    add(SdpSeverity::kError, "parse", "RFC 8866 §5", e.what(), e.line());
    return out;
  }
  // Attribute errors become findings; the lint goes on with the other checks.
  auto attempt = [&](auto&& fn) {
    try {
      fn();
      return true;
    } catch (const SdpError& e) {
      add(SdpSeverity::kError, toString(e.reason()), "RFC 8866 §6", e.what(), e.line());
      return false;
    }
  };

  if (s.timings.empty()) add(SdpSeverity::kError, "missing-timing", "RFC 8866 §5.9", "no \"t=\" line (use \"t=0 0\")");
  const SdpMedia* m = nullptr;
  for (const auto& media : s.media)
    if (media.media == "audio") {
      m = &media;
      break;
    }
  if (!m) {
    add(SdpSeverity::kError, "no-audio-media", "AES67-2018 §8.1", "no \"m=audio\" line");
    return out;
  }
  if (m->proto != "RTP/AVP") {
    add(SdpSeverity::kError, "bad-proto", "AES67-2018 §8.1", "transport \"" + m->proto + "\" is not RTP/AVP", m->line);
  }

  // Connection: multicast needs a TTL.
  const SdpConnection* c = !m->connections.empty() ? &m->connections.front() : (s.connection ? &*s.connection : nullptr);
  bool multicast = false;
  if (!c) {
    add(SdpSeverity::kError, "missing-connection", "RFC 8866 §5.7", "no \"c=\" line at session or media level", m->line);
  } else {
    try {
      multicast = isMulticast(parseIpv4(c->address));
    } catch (const std::invalid_argument&) {
      add(SdpSeverity::kError, "bad-connection", "AES67-2018 §6", "\"" + c->address + "\" is not an IPv4 address", c->line);
    }
    if (multicast && !c->ttl) {
      add(SdpSeverity::kError, "missing-ttl", "RFC 8866 §5.7", "an IPv4 multicast \"c=\" needs a TTL (e.g. \"/32\")", c->line);
    }
    if (multicast && (parseIpv4(c->address) >> 24) != 239) {
      add(SdpSeverity::kInfo, "not-admin-scoped", "RFC 2365", c->address + " is outside the administratively scoped 239.0.0.0/8", c->line);
    }
  }

  // Payload type, rtpmap, encoding, rate.
  std::optional<SdpRtpmap> rtpmap;
  int rtpmapLine = 0;
  if (m->formats.empty()) {
    add(SdpSeverity::kError, "bad-media-line", "RFC 8866 §5.14", "no payload type in \"m=\"", m->line);
  } else {
    const std::string& pt = m->formats.front();
    const bool numeric = !pt.empty() && pt.size() <= 3 && std::all_of(pt.begin(), pt.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    const unsigned ptValue = numeric ? static_cast<unsigned>(std::stoul(pt)) : 999;
    if (ptValue < 96 || ptValue > 127) {
      add(SdpSeverity::kWarning, "static-payload-type", "RFC 3551 §6 / AES67-2018 §8.1",
          "payload type " + pt + " is not dynamic (96-127): AES67 streams use a dynamic type with an rtpmap", m->line);
    }
    for (const SdpAttribute* a : m->attributesNamed("rtpmap")) {
      if (a->value.substr(0, a->value.find(' ')) != pt) continue;
      rtpmapLine = a->line;
      attempt([&] { rtpmap = parseRtpmap(*a); });
      break;
    }
    if (!rtpmap && rtpmapLine == 0 && !(ptValue == 10 || ptValue == 11)) {
      add(SdpSeverity::kError, "missing-rtpmap", "RFC 8866 §6.6", "no \"a=rtpmap:" + pt + " ...\"", m->line);
    }
  }
  std::uint32_t rate = 0, channels = 0;
  std::optional<PcmEncoding> encoding;
  if (rtpmap) {
    rate = rtpmap->clockRate;
    channels = rtpmap->channelCount();
    encoding = parsePcmEncoding(rtpmap->encoding);
    if (!rtpmap->channels) {
      add(SdpSeverity::kWarning, "rtpmap-no-channels", "RFC 3551 §4.5",
          "rtpmap has no channel count, which means 1 channel; write it (\"" + rtpmap->encoding + "/" + std::to_string(rate) + "/1\")",
          rtpmapLine);
    }
    if (!encoding || *encoding == PcmEncoding::kL32) {
      add(SdpSeverity::kError, "bad-encoding", "AES67-2018 §7.1",
          "encoding \"" + rtpmap->encoding + "\" is not an AES67 encoding (L16 or L24)", rtpmapLine);
    }
    if (std::find(std::begin(kRates), std::end(kRates), rate) == std::end(kRates)) {
      add(SdpSeverity::kError, "bad-rate", "AES67-2018 §7.1",
          std::to_string(rate) + " Hz: AES67 uses 48 kHz (44.1 and 96 kHz optional)", rtpmapLine);
    }
  } else if (!m->formats.empty() && (m->formats.front() == "10" || m->formats.front() == "11")) {
    rate = 44100;
    channels = m->formats.front() == "10" ? 2 : 1;
    encoding = PcmEncoding::kL16;
  }

  // Packet time.
  const SdpAttribute* ptime = either(*m, s, "ptime");
  std::uint64_t frames = 0;
  if (!ptime) {
    add(SdpSeverity::kError, "missing-ptime", "AES67-2018 §8.1", "missing \"a=ptime:\" (e.g. \"a=ptime:1\")", m->line);
  } else if (rate > 0) {
    attempt([&] { frames = parsePtime(*ptime).framesAt(rate); });
    if (frames > 0) {
      const std::uint32_t us = packetMicroseconds(frames, rate);
      if (std::find(std::begin(kPacketTimesUs), std::end(kPacketTimesUs), us) == std::end(kPacketTimesUs)) {
        add(SdpSeverity::kWarning, "packet-time", "AES67-2018 §7.2",
            "packet time " + std::to_string(us) + " µs is not one of 125, 250, 333, 1000, 4000 µs", ptime->line);
      }
    }
  }
  if (const SdpAttribute* a = either(*m, s, "maxptime"); a && rate > 0) {
    std::uint64_t maxFrames = 0;
    attempt([&] { maxFrames = parsePtime(*a, SdpErrorReason::kBadMaxptime).framesAt(rate); });
    if (maxFrames > 0 && frames > 0 && maxFrames < frames) {
      add(SdpSeverity::kError, "maxptime-below-ptime", "RFC 8866 §6.5", "maxptime is below ptime", a->line);
    }
  }
  if (const SdpAttribute* a = m->attribute("framecount")) {
    add(SdpSeverity::kInfo, "legacy-framecount", "AES67-2018 §8.1", "a=framecount is legacy; a=ptime carries the packet time", a->line);
  }

  // Reference clock and media clock (RFC 7273).
  bool ptpRefclk = false, anyRefclk = false;
  const std::vector<SdpAttribute>* refclkLists[] = {&m->attributes, &s.attributes};
  for (const auto* list : refclkLists) {
    for (const SdpAttribute& a : *list) {
      if (a.name != "ts-refclk") continue;
      anyRefclk = true;
      attempt([&] { ptpRefclk = ptpRefclk || parseTsRefclk(a).isPtp(); });
    }
  }
  if (!anyRefclk) {
    add(SdpSeverity::kError, "missing-ts-refclk", "AES67-2018 §8.2 / RFC 7273 §4.8",
        "missing \"a=ts-refclk:ptp=IEEE1588-2008:<grandmaster EUI-64>:<domain>\"");
  } else if (!ptpRefclk) {
    add(SdpSeverity::kError, "refclk-not-ptp", "AES67-2018 §8.2", "no ts-refclk names a PTP (IEEE 1588-2008) reference");
  }
  const SdpAttribute* mediaclk = either(*m, s, "mediaclk");
  if (!mediaclk) {
    add(SdpSeverity::kError, "missing-mediaclk", "AES67-2018 §8.3 / RFC 7273 §5", "missing \"a=mediaclk:direct=<offset>\"");
  } else {
    attempt([&] {
      if (parseMediaclk(*mediaclk).kind != SdpMediaclk::Kind::kDirect) {
        add(SdpSeverity::kError, "mediaclk-not-direct", "AES67-2018 §8.3 / RFC 7273 §5.2",
            "mediaclk must be \"direct=<offset>\" referenced to the PTP clock", mediaclk->line);
      }
    });
  }

  // What real gear trips on (FIELD-NOTES).
  for (const SdpAttribute& a : s.attributes) {
    if (a.name == "source-filter") {
      add(SdpSeverity::kWarning, "session-source-filter", "FIELD-NOTES Dante (aes67-linux-daemon#94)",
          "a session-level source-filter hides the source from some receivers: put it in the media section", a.line);
    }
  }
  if (const SdpAttribute* a = either(*m, s, "source-filter")) attempt([&] { parseSourceFilter(*a); });
  if (const SdpAttribute* a = either(*m, s, "clock-domain"); a && !parseClockDomain(*a)) {
    add(SdpSeverity::kWarning, "bad-clock-domain", "RAVENNA", "expected \"a=clock-domain:PTPv2 <domain>\"", a->line);
  }
  const SdpAttribute* keywds = s.attribute("keywds");
  if (keywds && keywds->value == "Dante" && channels > 8) {
    add(SdpSeverity::kWarning, "dante-channels", "FIELD-NOTES Dante", "Dante flows carry at most 8 channels, this one " + std::to_string(channels));
  }
  if (encoding && frames > 0 && frames * channels * bytesPerSample(*encoding) > kPayloadBudgetBytes) {
    add(SdpSeverity::kWarning, "payload-budget", "AES67-2018 §7.3 (MTU)",
        std::to_string(frames * channels * bytesPerSample(*encoding)) + "-byte payload exceeds the common 1440-byte budget");
  }
  const bool direction = std::any_of(m->attributes.begin(), m->attributes.end(), [](const SdpAttribute& a) {
    return a.name == "sendonly" || a.name == "recvonly" || a.name == "sendrecv" || a.name == "inactive";
  });
  if (!direction) add(SdpSeverity::kInfo, "no-direction", "RFC 8866 §6.7", "no direction attribute in the media section");
  return out;
}

}  // namespace aes67
