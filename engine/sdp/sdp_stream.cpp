#include "engine/sdp/sdp_stream.hpp"

#include <stdexcept>

namespace aes67 {

namespace {

// RFC 3551 table 4: the static L16 payload types (no rtpmap needed).
struct StaticPayload {
  std::uint8_t pt;
  std::uint32_t rate;
  std::uint32_t channels;
};
constexpr StaticPayload kStaticL16[] = {{10, 44100, 2}, {11, 44100, 1}};

// Media level first, then session level (RFC 8866 §5: media attributes override).
const SdpAttribute* either(const SdpMedia& m, const SdpSession& s, const char* name) {
  const SdpAttribute* a = m.attribute(name);
  return a ? a : s.attribute(name);
}

}  // namespace

SdpStream describeStream(const std::string& text, std::optional<std::size_t> mediaIndex) {
  return describeStream(parseSdp(text), mediaIndex);
}

SdpStream describeStream(const SdpSession& s, std::optional<std::size_t> mediaIndex) {
  std::size_t index = s.media.size();
  if (mediaIndex) {
    index = *mediaIndex;
  } else {
    for (std::size_t i = 0; i < s.media.size(); ++i) {
      if (s.media[i].media == "audio") {
        index = i;
        break;
      }
    }
  }
  if (index >= s.media.size() || s.media[index].media != "audio") {
    throw SdpError(SdpErrorReason::kNoAudioMedia, 0, "no \"m=audio\" line: an AES67 stream needs one");
  }
  const SdpMedia& m = s.media[index];
  SdpStream d;
  d.mediaIndex = index;
  d.name = s.name;
  d.origin = s.origin;

  const SdpConnection* c = !m.connections.empty() ? &m.connections.front() : (s.connection ? &*s.connection : nullptr);
  if (!c) throw SdpError(SdpErrorReason::kNoConnection, m.line, "no \"c=\" line at session or media level");
  try {
    d.destination.address = parseIpv4(c->address);
  } catch (const std::invalid_argument&) {
    throw SdpError(SdpErrorReason::kBadConnection, c->line,
                   "\"" + c->address + "\" is not an IPv4 address (the engine receives IPv4 only)");
  }
  if (c->addrType != "IP4") throw SdpError(SdpErrorReason::kBadConnection, c->line, "address type must be IP4");
  d.ttl = c->ttl;
  d.destination.port = m.port;

  if (m.formats.empty()) throw SdpError(SdpErrorReason::kBadMediaLine, m.line, "no payload type in \"m=\"");
  std::uint8_t pt = 0;
  {
    const std::string& f = m.formats.front();
    unsigned v = 0;
    bool ok = !f.empty() && f.size() <= 3;
    for (char ch : f) ok = ok && ch >= '0' && ch <= '9';
    if (ok) v = static_cast<unsigned>(std::stoul(f));
    if (!ok || v > 127) throw SdpError(SdpErrorReason::kBadMediaLine, m.line, "payload type \"" + f + "\" must be 0..127");
    pt = static_cast<std::uint8_t>(v);
  }
  d.format.payloadType = pt;

  const SdpAttribute* rtpmapLine = nullptr;
  std::optional<SdpRtpmap> rtpmap;
  for (const SdpAttribute* a : m.attributesNamed("rtpmap")) {
    // Read the payload type only: another format's malformed rtpmap is not ours to judge.
    const std::string v = a->value;
    const std::size_t sp = v.find(' ');
    if (v.substr(0, sp) == std::to_string(pt)) {
      rtpmapLine = a;
      rtpmap = parseRtpmap(*a);
      break;
    }
  }
  std::string encodingName;
  if (rtpmap) {
    encodingName = rtpmap->encoding;
    d.format.sampleRate = rtpmap->clockRate;
    d.format.channels = rtpmap->channelCount();
    if (!rtpmap->channels) {
      d.notes.push_back({"rtpmap has no channel count: RFC 3551 §4.5 says that means 1 channel", rtpmapLine->line});
    }
  } else {
    const StaticPayload* st = nullptr;
    for (const auto& sp : kStaticL16)
      if (sp.pt == pt) st = &sp;
    if (!st) {
      throw SdpError(SdpErrorReason::kNoRtpmap, m.line,
                     "no \"a=rtpmap:" + std::to_string(pt) + " ...\" for dynamic payload type " + std::to_string(pt));
    }
    encodingName = "L16";
    d.format.sampleRate = st->rate;
    d.format.channels = st->channels;
  }
  const auto encoding = parsePcmEncoding(encodingName);
  if (!encoding) {
    throw SdpError(SdpErrorReason::kUnsupportedEncoding, rtpmapLine ? rtpmapLine->line : m.line,
                   "encoding \"" + encodingName + "\" is not L16, L24 or L32");
  }
  d.format.encoding = *encoding;

  const SdpAttribute* ptime = either(m, s, "ptime");
  const SdpAttribute* framecount = m.attribute("framecount");
  std::uint64_t frames = 0;
  if (ptime) {
    frames = parsePtime(*ptime).framesAt(d.format.sampleRate);
    if (frames < 1) {
      throw SdpError(SdpErrorReason::kBadPtime, ptime->line,
                     ptime->value + " ms is less than one sample at " + std::to_string(d.format.sampleRate) + " Hz");
    }
    if (frames > 0xFFFFFFFFu) throw SdpError(SdpErrorReason::kBadPtime, ptime->line, "packet time too long");
  } else if (framecount) {
    // Legacy RAVENNA attribute: a sample count where ptime is missing.
    frames = parseFramecount(*framecount);
  } else {
    // ffmpeg and VLC write no ptime (FIELD-NOTES; issue 8's crossings). AES67 §7.2.1 makes
    // 1 ms the packet time every device supports, so assume it; the receiver plays packets of
    // any size by their timestamps, and lint still reports the missing attribute.
    frames = (d.format.sampleRate + 500) / 1000;
    d.notes.push_back({"no \"a=ptime:\": assumed 1 ms (AES67 §7.2.1); lint reports it", m.line});
  }
  d.framesPerPacket = static_cast<std::uint32_t>(frames);
  d.ptimeUs = packetMicroseconds(frames, d.format.sampleRate);

  if (const SdpAttribute* a = either(m, s, "maxptime")) {
    const std::uint64_t maxFrames = parsePtime(*a, SdpErrorReason::kBadMaxptime).framesAt(d.format.sampleRate);
    d.maxptimeUs = packetMicroseconds(maxFrames, d.format.sampleRate);
  }

  const SdpAttribute* filter = m.attribute("source-filter");
  if (!filter) filter = s.attribute("source-filter");
  if (filter) {
    const SdpSourceFilter f = parseSourceFilter(*filter);
    if (f.include && !f.sources.empty()) {
      try {
        d.sourceFilter = parseIpv4(f.sources.front());
      } catch (const std::invalid_argument&) {
        throw SdpError(SdpErrorReason::kBadSourceFilter, filter->line,
                       "source \"" + f.sources.front() + "\" is not an IPv4 address");
      }
    }
  }

  for (const auto* list : {&m.attributes, &s.attributes}) {
    if (d.ptpRefclk) break;
    for (const SdpAttribute& a : *list) {
      // Only ptp= references matter here; localmac=, ntp= and the like are skipped.
      if (a.name != "ts-refclk" || a.value.find("ptp=") != a.value.find_first_not_of(" \t")) continue;
      SdpTsRefclk r = parseTsRefclk(a);
      if (r.isPtp()) {
        d.ptpRefclk = r;
        break;
      }
    }
  }

  if (const SdpAttribute* a = either(m, s, "mediaclk")) {
    const SdpMediaclk mc = parseMediaclk(*a);
    if (mc.kind != SdpMediaclk::Kind::kDirect) {
      throw SdpError(SdpErrorReason::kBadMediaclk, a->line,
                     "the engine places audio by PTP time and needs \"a=mediaclk:direct=<offset>\" (RFC 7273 §5.2)");
    }
    d.mediaclkOffset = mc.offset;
    d.format.mediaclkOffset = mc.offset;
  }

  if (m.information) d.channelLabels = parseChannelLabels(*m.information);
  for (const char* dir : {"sendonly", "recvonly", "sendrecv", "inactive"}) {
    if (m.attribute(dir)) d.direction = dir;
  }
  if (d.direction.empty()) {
    for (const char* dir : {"sendonly", "recvonly", "sendrecv", "inactive"}) {
      if (s.attribute(dir)) d.direction = dir;
    }
  }
  const SdpAttribute* keywds = s.attribute("keywds");
  if (!keywds) keywds = m.attribute("keywds");
  if (keywds) {
    std::string k = keywds->value;
    const std::size_t a = k.find_first_not_of(" \t");
    const std::size_t b = k.find_last_not_of(" \t");
    d.keywords = a == std::string::npos ? "" : k.substr(a, b - a + 1);
  }
  if (const SdpAttribute* a = either(m, s, "clock-domain")) d.clockDomain = parseClockDomain(*a);
  return d;
}

}  // namespace aes67
