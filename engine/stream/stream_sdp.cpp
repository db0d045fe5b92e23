#include "engine/stream/stream_sdp.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

std::string writeTxSdp(const TxStreamConfig& c, Ipv4Address sourceAddress, const SdpTsRefclk& reference) {
  const std::string source = formatIpv4(sourceAddress);
  const std::string group = formatIpv4(c.destination.address);
  SdpSession s;
  s.origin.sessionId = c.sessionId;
  s.origin.sessionVersion = std::to_string(c.sessionVersion);
  s.origin.address = source;
  s.name = c.name.empty() ? c.id : c.name;
  SdpConnection conn;
  conn.address = group;
  if (isMulticast(c.destination.address)) conn.ttl = c.ttl;  // RFC 8866 §5.7: IPv4 multicast needs a TTL
  s.connection = conn;
  s.timings.push_back(SdpTiming{});
  SdpMedia m;
  m.port = c.destination.port;
  m.formats = {std::to_string(c.format.payloadType)};
  if (!c.channelLabels.empty()) {
    std::string labels = std::to_string(c.format.channels) + " channels: ";
    for (std::size_t i = 0; i < c.channelLabels.size(); ++i) labels += (i ? ", " : "") + c.channelLabels[i];
    m.information = labels;
  }
  auto attr = [&m](const std::string& name, const std::string& value) { m.attributes.push_back(SdpAttribute{name, value, true, 0}); };
  attr("rtpmap", std::to_string(c.format.payloadType) + " " + toString(c.format.encoding) + "/" +
                     std::to_string(c.format.sampleRate) + "/" + std::to_string(c.format.channels));
  if (sourceAddress != 0 && isMulticast(c.destination.address)) {
    // Media level only: a session-level filter hid the source from Dante (FIELD-NOTES, aes67-linux-daemon#94).
    SdpSourceFilter f;
    f.destination = group;
    f.sources = {source};
    attr("source-filter", formatSourceFilter(f));
  }
  attr("ptime", formatPtime(c.framesPerPacket, c.format.sampleRate));
  attr("ts-refclk", formatTsRefclk(reference));
  attr("mediaclk", "direct=" + std::to_string(c.format.mediaclkOffset));
  if (!c.direction.empty()) m.attributes.push_back(SdpAttribute{c.direction, "", false, 0});
  s.media.push_back(std::move(m));
  return writeSdp(s);
}

RxStreamDescription describeRxStream(const std::string& text, const std::string& timing) {
  if (!timing.empty() && timing != "media-clock" && timing != "sender") {
    throw std::invalid_argument("timing must be \"media-clock\", \"sender\" or empty, not \"" + timing + "\"");
  }
  SdpSession session = parseSdp(text);
  // The media section describeStream would pick: the first m=audio.
  std::size_t index = session.media.size();
  for (std::size_t i = 0; i < session.media.size(); ++i) {
    if (session.media[i].media == "audio") {
      index = i;
      break;
    }
  }
  bool hasRefclk = session.attribute("ts-refclk") != nullptr;
  bool hasMediaclk = session.attribute("mediaclk") != nullptr;
  bool saysSender = false;
  auto isSender = [](const SdpAttribute& a) { return parseMediaclk(a).kind == SdpMediaclk::Kind::kSender; };
  for (const SdpAttribute& a : session.attributes) saysSender = saysSender || (a.name == "mediaclk" && isSender(a));
  if (index < session.media.size()) {
    const SdpMedia& m = session.media[index];
    hasRefclk = hasRefclk || m.attribute("ts-refclk") != nullptr;
    hasMediaclk = hasMediaclk || m.attribute("mediaclk") != nullptr;
    for (const SdpAttribute& a : m.attributes) saysSender = saysSender || (a.name == "mediaclk" && isSender(a));
  }
  RxStreamDescription d;
  d.senderClocked = timing == "sender" || (timing.empty() && (saysSender || (!hasRefclk && !hasMediaclk)));
  if (saysSender) {
    auto drop = [](std::vector<SdpAttribute>& attrs) {
      attrs.erase(std::remove_if(attrs.begin(), attrs.end(), [](const SdpAttribute& a) { return a.name == "mediaclk"; }), attrs.end());
    };
    drop(session.attributes);
    if (index < session.media.size()) drop(session.media[index].attributes);
  }
  d.stream = describeStream(session);
  return d;
}

SdpTsRefclk traceablePtpReference() {
  SdpTsRefclk r;
  r.kind = SdpTsRefclk::Kind::kPtpTraceable;
  r.ptpVersion = "IEEE1588-2008";
  return r;
}

SdpTsRefclk grandmasterReference(const std::array<std::uint8_t, 8>& identity, std::uint8_t domain) {
  SdpTsRefclk r;
  r.kind = SdpTsRefclk::Kind::kPtp;
  r.ptpVersion = "IEEE1588-2008";
  char gmid[24];
  std::snprintf(gmid, sizeof gmid, "%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X", identity[0], identity[1], identity[2],
                identity[3], identity[4], identity[5], identity[6], identity[7]);
  r.gmid = gmid;
  r.domain = domain;
  return r;
}

}  // namespace aes67
