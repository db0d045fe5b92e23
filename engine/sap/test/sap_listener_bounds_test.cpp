// What the network can throw at the engine's SapListener (issue 9, Bounds): a flood of
// 100,000 distinct sessions, announcements whose zlib payload inflates to tens of kB, and
// datagrams from empty to 64 KiB. Nothing crashes, every datagram is counted (a session
// kept, or dropped by reason), the oldest sessions are evicted and counted, and the heap
// never exceeds a bound computed from the configuration: maxSessions x (what one session
// may hold). A counting operator new/delete in this test binary measures the bytes live and
// their peak.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "engine/sap/sap_listener.hpp"
#include "test-support/counting_heap.hpp"

namespace aes67 {
namespace {

std::uint64_t dropped(const SapListenerStats& s, SapDropReason r) { return s.dropped[static_cast<std::size_t>(r)]; }

// One figure set as a JSON line for bench/bounds.ts (which runs these tests and prints the
// figures beside the lab's).
void report(const std::string& name, std::initializer_list<std::pair<const char*, long long>> figures) {
  std::string line = "{\"name\":\"" + name + "\"";
  for (const auto& [key, value] : figures) line += ",\"" + std::string(key) + "\":" + std::to_string(value);
  std::printf("[ bounds-json ] %s}\n", line.c_str());
}

void expectEveryDatagramAccountedFor(const SapListenerStats& s) {
  EXPECT_EQ(s.received, s.announcements + s.deletions + s.droppedTotal())
      << "a datagram was neither an announcement, nor a deletion, nor dropped with a reason";
}

// An AES67 SDP for session `i`, `padTo` bytes long at least (a=x-pad lines, as a
// legitimately long SDP or the payload of a zlib bomb would be).
std::string sdpOf(std::uint32_t i, std::size_t padTo = 0) {
  std::string s = "v=0\r\no=- " + std::to_string(1000000 + i) + " 1 IN IP4 10.67.0.1\r\ns=flood " + std::to_string(i) +
                  "\r\nc=IN IP4 239.69.0.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n";
  while (s.size() < padTo) s += "a=x-pad:" + std::string(std::min<std::size_t>(100, padTo - s.size() + 1), 'p') + "\r\n";
  return s;
}

std::vector<std::uint8_t> announcement(std::uint32_t i, const std::string& sdp, bool compressed = false) {
  SapBuildOptions o;
  o.origin = parseIpv4("10.64.0.0") + i;  // a distinct announcer per session
  o.msgIdHash = static_cast<std::uint16_t>(1 + i % 65535);
  o.sdp = sdp;
  o.compressed = compressed;
  return buildSap(o);
}

// What one held session may cost: its SDP text and o= key (each at most the SDP limit),
// the map node and the strings' bookkeeping.
std::int64_t perSessionBound(const SapListenerConfig& c) {
  return static_cast<std::int64_t>(2 * (c.maxSdpBytes + 1) + 512);
}
// What one handle() may hold while it works: the inflated payload, the parsed SDP and a
// session on its way into the table, each bounded by the 64 KiB a datagram can carry.
constexpr std::int64_t kTransientBound = 8 * static_cast<std::int64_t>(kSapMaxPayload);

struct Flood {
  std::int64_t idle = 0;   // heap of the idle listener
  std::int64_t full = 0;   // heap when the table first held maxSessions
  std::int64_t peak = 0;   // the highest the heap went, from before the first datagram
  std::int64_t end = 0;
  std::uint64_t evictedEvents = 0;
  std::uint32_t oldestSurvivor = 0xFFFFFFFF;
};

// `count` distinct sessions into a sans-IO listener; announcement i is heard at i ms.
Flood flood(SapListener& listener, std::uint32_t count, std::size_t padTo, bool compressed) {
  Flood f;
  listener.setCallback([&f](SapEvent e, const SapSession&) { f.evictedEvents += e == SapEvent::kEvicted ? 1 : 0; });
  f.idle = heapLiveBytes();
  restartHeapPeak();
  for (std::uint32_t i = 0; i < count; ++i) {
    // The test's own SDP and datagram (under 130 kB) count in the peak too: within kTransientBound.
    const std::vector<std::uint8_t> p = announcement(i, sdpOf(i, padTo), compressed);
    listener.handle(p.data(), p.size(), DatagramInfo{}, static_cast<Nanoseconds>(i) * 1'000'000);
    if (f.full == 0 && listener.sessionCount() == listener.config().maxSessions) f.full = heapLiveBytes();
  }
  f.peak = heapPeakBytes();
  f.end = heapLiveBytes();
  for (const SapSession& s : listener.sessions()) f.oldestSurvivor = std::min(f.oldestSurvivor, s.origin - parseIpv4("10.64.0.0"));
  return f;
}

// 100,000 distinct sessions, each a typical AES67 SDP of about 200 bytes, at two session
// limits: the table holds the newest maxSessions, every other one was evicted and counted
// (and reported through the callback), and the heap stays under maxSessions x the bound of
// one session. Once the table is full it does not grow at all.
TEST(SapListenerBounds, AHundredThousandDistinctSessionsAreBoundedByTheSessionLimit) {
  constexpr std::uint32_t kSessions = 100000;
  for (std::size_t maxSessions : {std::size_t{64}, std::size_t{1024}}) {
    SCOPED_TRACE("maxSessions " + std::to_string(maxSessions));
    SapListenerConfig c;
    c.maxSessions = maxSessions;
    const std::int64_t before = heapLiveBytes();
    std::int64_t idle = 0;
    Flood f;
    {
      SapListener listener(c);
      idle = heapLiveBytes() - before;
      f = flood(listener, kSessions, 0, false);
      const SapListenerStats& s = listener.stats();
      EXPECT_EQ(listener.sessionCount(), maxSessions);
      EXPECT_EQ(s.added, kSessions);
      EXPECT_EQ(s.evicted, kSessions - maxSessions);
      EXPECT_EQ(f.evictedEvents, s.evicted);
      EXPECT_EQ(f.oldestSurvivor, kSessions - maxSessions) << "the least recently heard were evicted";
      EXPECT_EQ(s.droppedTotal(), 0u);
      expectEveryDatagramAccountedFor(s);
    }
    const std::int64_t bound = static_cast<std::int64_t>(maxSessions) * perSessionBound(c) + kTransientBound;
    EXPECT_LE(f.peak - f.idle, bound);
    EXPECT_LE(f.end - f.full, static_cast<std::int64_t>(maxSessions) * 16) << "the full table grew under the flood";
    EXPECT_GE(f.end - f.full, -static_cast<std::int64_t>(maxSessions) * 16);
    EXPECT_EQ(heapLiveBytes(), before) << "the listener freed everything it held";
    std::printf("[ bounds ] SAP flood, 100,000 sessions, maxSessions %zu: idle listener %lld B, full table %lld B, "
                "peak %lld B (bound %lld B), end %lld B, %.0f B per session\n",
                maxSessions, static_cast<long long>(idle), static_cast<long long>(f.full - f.idle),
                static_cast<long long>(f.peak - f.idle), static_cast<long long>(bound),
                static_cast<long long>(f.end - f.idle), static_cast<double>(f.full - f.idle) / static_cast<double>(maxSessions));
    report("sap-flood", {{"sessions", kSessions},
                         {"maxSessions", static_cast<long long>(maxSessions)},
                         {"maxSdpBytes", static_cast<long long>(c.maxSdpBytes)},
                         {"idleBytes", idle},
                         {"fullBytes", f.full - f.idle},
                         {"peakBytes", f.peak - f.idle},
                         {"endBytes", f.end - f.idle},
                         {"boundBytes", bound},
                         {"evicted", static_cast<long long>(kSessions - maxSessions)}});
  }
}

// Announcements that are small on the wire and large once inflated (a zlib bomb's shape):
// 3,000 distinct sessions whose SDP inflates to 60 kB, under the 64 KiB a datagram may
// carry. An SDP longer than maxSdpBytes is dropped as sdp-too-large before it is parsed
// or kept; SDPs at the limit are kept, and the heap stays under maxSessions x one session.
TEST(SapListenerBounds, ZlibPayloadsThatInflateToTensOfKilobytesCannotFillTheHeap) {
  if (!sapHasZlib()) GTEST_SKIP() << "built without zlib: compressed SAP is dropped as no-zlib (see SapPacket tests)";
  SapListenerConfig c;
  c.maxSessions = 1024;
  constexpr std::uint32_t kSessions = 3000;
  Flood big;
  {
    SapListener listener(c);
    big = flood(listener, kSessions, 60000, true);
    const SapListenerStats& s = listener.stats();
    EXPECT_EQ(dropped(s, SapDropReason::kSdpTooLarge), kSessions);
    EXPECT_EQ(listener.sessionCount(), 0u);
    expectEveryDatagramAccountedFor(s);
  }
  EXPECT_LE(big.peak - big.idle, kTransientBound) << "nothing of a too-large SDP is kept";
  EXPECT_EQ(big.end, big.idle);
  Flood atLimit;
  {
    SapListener listener(c);
    atLimit = flood(listener, kSessions, c.maxSdpBytes - 100, true);
    const SapListenerStats& s = listener.stats();
    EXPECT_EQ(s.droppedTotal(), 0u);
    EXPECT_EQ(listener.sessionCount(), c.maxSessions);
    EXPECT_EQ(s.evicted, kSessions - c.maxSessions);
    expectEveryDatagramAccountedFor(s);
  }
  const std::int64_t bound = static_cast<std::int64_t>(c.maxSessions) * perSessionBound(c) + kTransientBound;
  EXPECT_LE(atLimit.peak - atLimit.idle, bound);
  // The same 60 kB flood with the cap lifted to what a datagram may carry (the listener
  // before maxSdpBytes): the table holds maxSessions of them. This is what the cap bounds.
  SapListenerConfig uncapped = c;
  uncapped.maxSdpBytes = kSapMaxPayload;
  Flood before;
  {
    SapListener listener(uncapped);
    before = flood(listener, kSessions, 60000, true);
    EXPECT_EQ(listener.sessionCount(), c.maxSessions);
  }
  EXPECT_GE(before.full - before.idle, static_cast<std::int64_t>(c.maxSessions) * 60000);
  std::printf("[ bounds ] SAP zlib payloads: 3,000 inflating to 60 kB: peak %lld B, all dropped as sdp-too-large "
              "(%lld B with the cap lifted); 3,000 at the %zu B limit: peak %lld B (bound %lld B)\n",
              static_cast<long long>(big.peak - big.idle), static_cast<long long>(before.peak - before.idle), c.maxSdpBytes,
              static_cast<long long>(atLimit.peak - atLimit.idle), static_cast<long long>(bound));
  report("sap-zlib", {{"sessions", kSessions},
                      {"maxSessions", static_cast<long long>(c.maxSessions)},
                      {"maxSdpBytes", static_cast<long long>(c.maxSdpBytes)},
                      {"atLimitPeakBytes", atLimit.peak - atLimit.idle},
                      {"atLimitFullBytes", atLimit.full - atLimit.idle},
                      {"boundBytes", bound},
                      {"tooLargePeakBytes", big.peak - big.idle},
                      {"uncappedPeakBytes", before.peak - before.idle}});
}

// Through the network path: every length from 0 to 12 bytes, authentication data claiming
// more than the datagram holds, a zlib stream that inflates past 64 KiB, one cut short, a
// 65,507-byte datagram (the largest UDP payload) carrying a valid SAP header and SDP (a
// datagram larger than the listener's buffer is SapSessions.EveryBadDatagramIsCountedByReason's).
// Each is dropped for its own reason, none is kept, and a real announcement among them is
// still found.
TEST(SapListenerBounds, OversizeAndUndersizeDatagramsAreDroppedByReasonAndARealOneStillCounts) {
  VirtualClock clock(0);
  VirtualNetwork network(clock, 100'000);
  Transport& a = network.addHost("a", parseIpv4("10.0.0.1"));
  Transport& b = network.addHost("b", parseIpv4("10.0.0.2"));
  SapListener listener(b);
  auto socket = a.open(SocketOptions{});
  const Ipv4Endpoint group{kSapGroupAdminScope, kSapPort};
  auto send = [&](const std::vector<std::uint8_t>& d) { socket->send(group, d.data(), d.size()); };
  std::uint64_t sent = 0;
  const std::vector<std::uint8_t> valid = announcement(7, sdpOf(7));
  for (std::size_t n = 0; n <= 12; ++n) {
    send(std::vector<std::uint8_t>(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n)));
    ++sent;
  }
  // Lengths 0-7 cut the header or origin (truncated); 8-12 cut into "application/sdp\0"
  // before its NUL (bad-payload-type).
  std::vector<std::uint8_t> auth = valid;
  auth[1] = 255;  // 1,020 bytes of authentication data announced, about 200 present
  send(auth);
  ++sent;
  std::uint64_t decompress = 0;
  if (sapHasZlib()) {
    SapBuildOptions o;
    o.origin = parseIpv4("10.0.0.1");
    o.msgIdHash = 99;
    o.compressed = true;
    o.sdp = std::string(kSapMaxPayload + 1000, 'v');  // inflates past 64 KiB
    send(buildSap(o));
    std::vector<std::uint8_t> cut = announcement(8, sdpOf(8), true);
    cut.resize(cut.size() - 4);  // the stream's end is missing
    send(cut);
    sent += 2;
    decompress = 2;
  }
  std::vector<std::uint8_t> jumbo = announcement(9, sdpOf(9, 65507 - 30));
  jumbo.resize(65507);
  send(jumbo);
  ++sent;
  send(announcement(10, sdpOf(10)));
  ++sent;
  clock.advanceBy(1'000'000);
  network.deliverDue();
  listener.poll();
  const SapListenerStats& s = listener.stats();
  EXPECT_EQ(s.received, sent);
  expectEveryDatagramAccountedFor(s);
  EXPECT_EQ(dropped(s, SapDropReason::kTruncated), 8u + 1u);
  EXPECT_EQ(dropped(s, SapDropReason::kBadPayloadType), 5u);
  EXPECT_EQ(dropped(s, sapHasZlib() ? SapDropReason::kDecompressFailed : SapDropReason::kNoZlib), decompress);
  EXPECT_EQ(dropped(s, SapDropReason::kSdpTooLarge), 1u) << "the 65,507-byte datagram";
  EXPECT_EQ(listener.sessionCount(), 1u);
  EXPECT_EQ(listener.sessions().front().origin, parseIpv4("10.64.0.10"));
}

}  // namespace
}  // namespace aes67
