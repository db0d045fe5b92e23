// libFuzzer: the SAP parser and a SapListener on arbitrary datagrams. What parses must
// build back into a packet that parses to the same fields; the listener stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/sap/sap_listener.hpp"
#include "engine/sap/sap_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static aes67::SapListener listener([] {
    aes67::SapListenerConfig c;
    c.maxSessions = 8;
    return c;
  }());
  static aes67::Nanoseconds now = 0;
  listener.handle(data, size, aes67::DatagramInfo{}, now += 1'000'000'000);
  if (listener.sessionCount() > 8) std::abort();

  aes67::SapPacket p;
  if (aes67::parseSap(data, size, p) != aes67::SapParseError::kNone || p.encrypted || p.ipv6) return 0;
  aes67::SapBuildOptions o;
  o.deletion = p.deletion;
  o.msgIdHash = p.msgIdHash;
  o.origin = p.origin;
  o.sdp = p.sdp;
  o.payloadType = p.payloadType;
  o.omitPayloadType = !p.payloadTypePresent;
  if (o.omitPayloadType && p.sdp.compare(0, 3, "v=0") != 0) return 0;  // cannot be written without a type
  const auto again = aes67::buildSap(o);
  aes67::SapPacket q;
  if (aes67::parseSap(again.data(), again.size(), q) != aes67::SapParseError::kNone) std::abort();
  if (q.sdp != p.sdp || q.payloadType != p.payloadType || q.msgIdHash != p.msgIdHash || q.origin != p.origin ||
      q.deletion != p.deletion) {
    std::abort();
  }
  return 0;
}
