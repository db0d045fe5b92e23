// SapAnnouncer and SapListener on the VirtualNetwork in virtual time: announce, change,
// delete, time-out, flood eviction, and every bad datagram counted by reason.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "engine/sap/sap_announcer.hpp"
#include "engine/sap/sap_listener.hpp"

namespace aes67 {
namespace {

std::string sdp(const std::string& name, int version = 1, const std::string& id = "100") {
  return "v=0\r\no=- " + id + " " + std::to_string(version) + " IN IP4 10.0.0.1\r\ns=" + name +
         "\r\nc=IN IP4 239.69.0.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n";
}

struct Lab {
  VirtualClock clock{0};
  VirtualNetwork network{clock, 100'000};
  Transport& a = network.addHost("announcer", parseIpv4("10.0.0.1"));
  Transport& b = network.addHost("listener", parseIpv4("10.0.0.2"));
  void runUntil(Nanoseconds t, SapAnnouncer* announcer, SapListener& listener) {
    while (clock.now() < t) {
      Nanoseconds next = announcer ? announcer->poll() : t;
      network.deliverDue();
      listener.poll();
      next = std::min({next, network.nextDeliveryTime(), t});
      if (next <= clock.now()) next = clock.now() + 1;
      clock.advanceTo(next);
    }
    network.deliverDue();
    listener.poll();
  }
};

TEST(SapSessions, ListenerFindsAnnouncedSessionAndSeesItsDeletion) {
  Lab lab;
  SapListener listener(lab.b);
  std::vector<std::string> events;
  listener.setCallback([&](SapEvent e, const SapSession& s) { events.push_back(std::string(toString(e)) + ":" + s.sdp.substr(0, 3)); });
  SapAnnouncerConfig config;
  config.interval = 30 * kNanosPerSecond;
  SapAnnouncer announcer(lab.a, config);
  const auto h = announcer.add(sdp("one"));
  lab.runUntil(95 * kNanosPerSecond, &announcer, listener);
  ASSERT_EQ(listener.sessionCount(), 1u);
  const SapSession s = listener.sessions()[0];
  EXPECT_EQ(s.sdp, sdp("one"));
  EXPECT_EQ(formatIpv4(s.origin), "10.0.0.1");
  EXPECT_EQ(s.msgIdHash, announcer.hashOf(h));
  EXPECT_EQ(s.announcements, 4u);  // t = 0, 30, 60, 90 s
  EXPECT_EQ(s.interval, 30 * kNanosPerSecond);
  EXPECT_EQ(announcer.stats().announcementsSent, 4u);
  EXPECT_EQ(listener.stats().added, 1u);

  announcer.update(h, sdp("one", 2));
  lab.runUntil(96 * kNanosPerSecond, &announcer, listener);
  ASSERT_EQ(listener.sessionCount(), 1u);
  EXPECT_EQ(listener.sessions()[0].sdp, sdp("one", 2));
  // The update sends a deletion of the old hash first, then the new announcement.
  EXPECT_EQ(listener.stats().deleted, 1u);
  EXPECT_EQ(listener.stats().added, 2u);

  announcer.remove(h);
  lab.runUntil(97 * kNanosPerSecond, nullptr, listener);
  EXPECT_EQ(listener.sessionCount(), 0u);
  EXPECT_EQ(listener.stats().deleted, 2u);
  EXPECT_EQ(events, (std::vector<std::string>{"added:v=0", "deleted:v=0", "added:v=0", "deleted:v=0"}));
  EXPECT_THROW(announcer.remove(h), std::invalid_argument);
  EXPECT_THROW(announcer.update(h, sdp("x")), std::invalid_argument);
  EXPECT_THROW(announcer.add("not sdp"), std::invalid_argument);
}

TEST(SapSessions, ANewHashForTheSameOriginSessionIsAChangeNotASecondSession) {
  SapListener listener{SapListenerConfig{}};
  DatagramInfo info;
  SapBuildOptions o;
  o.origin = parseIpv4("10.0.0.1");
  o.sdp = sdp("x", 1);
  o.msgIdHash = 1;
  auto p1 = buildSap(o);
  listener.handle(p1.data(), p1.size(), info, 0);
  o.sdp = sdp("x", 2);
  o.msgIdHash = 2;
  auto p2 = buildSap(o);
  listener.handle(p2.data(), p2.size(), info, kNanosPerSecond);
  ASSERT_EQ(listener.sessionCount(), 1u);
  EXPECT_EQ(listener.sessions()[0].msgIdHash, 2);
  EXPECT_EQ(listener.stats().changed, 1u);
  // Another o= session id from the same origin is a second session.
  o.sdp = sdp("y", 1, "200");
  o.msgIdHash = 3;
  auto p3 = buildSap(o);
  listener.handle(p3.data(), p3.size(), info, kNanosPerSecond);
  EXPECT_EQ(listener.sessionCount(), 2u);
  // A deletion of an unknown session is counted, nothing else happens.
  o.deletion = true;
  o.msgIdHash = 99;
  auto d = buildSap(o);
  listener.handle(d.data(), d.size(), info, kNanosPerSecond);
  EXPECT_EQ(listener.stats().unknownDeletions, 1u);
  EXPECT_EQ(listener.sessionCount(), 2u);
}

TEST(SapSessions, TimeOutIsTenIntervalsOrTheFloorWhicheverIsLonger) {
  Lab lab;
  SapListenerConfig lc;
  lc.minimumTimeout = 60 * kNanosPerSecond;  // short floor for the test
  SapListener listener(lab.b, lc);
  std::vector<SapEvent> events;
  listener.setCallback([&](SapEvent e, const SapSession&) { events.push_back(e); });
  {
    SapAnnouncerConfig config;
    config.interval = 10 * kNanosPerSecond;
    SapAnnouncer announcer(lab.a, config);
    const auto h = announcer.add(sdp("t"));
    lab.runUntil(25 * kNanosPerSecond, &announcer, listener);  // heard at 0, 10, 20
    ASSERT_EQ(listener.sessionCount(), 1u);
    EXPECT_EQ(listener.timeoutOf(listener.sessions()[0]), 100 * kNanosPerSecond);  // 10 x 10 s > 60 s
    EXPECT_EQ(announcer.hashOf(h), listener.sessions()[0].msgIdHash);
    // Silence without a deletion reaching the listener: the network loses the announcer's
    // deletion when it goes.
    lab.network.setImpairment([](const VirtualPacket&, std::vector<Nanoseconds>& d) { d.clear(); });
  }  // the announcer's deletion is lost
  lab.network.setImpairment(nullptr);
  EXPECT_EQ(listener.nextExpiry(), listener.sessions()[0].lastHeard + 100 * kNanosPerSecond);
  lab.runUntil(119 * kNanosPerSecond, nullptr, listener);
  EXPECT_EQ(listener.sessionCount(), 1u);
  lab.runUntil(121 * kNanosPerSecond, nullptr, listener);
  EXPECT_EQ(listener.sessionCount(), 0u);
  EXPECT_EQ(listener.stats().timedOut, 1u);
  EXPECT_EQ(events.back(), SapEvent::kTimedOut);
  EXPECT_EQ(listener.nextExpiry(), INT64_MAX);

  // With one announcement only, the assumed 30 s interval gives 300 s; the RFC's one-hour
  // floor wins by default.
  SapListener rfc{SapListenerConfig{}};
  SapBuildOptions o;
  o.sdp = sdp("once");
  auto p = buildSap(o);
  rfc.handle(p.data(), p.size(), DatagramInfo{}, 0);
  EXPECT_EQ(rfc.timeoutOf(rfc.sessions()[0]), 3600 * kNanosPerSecond);
  rfc.expire(3599 * kNanosPerSecond);
  EXPECT_EQ(rfc.sessionCount(), 1u);
  rfc.expire(3600 * kNanosPerSecond);
  EXPECT_EQ(rfc.sessionCount(), 0u);
}

TEST(SapSessions, AFloodIsBoundedAndEvictsTheOldest) {
  SapListenerConfig lc;
  lc.maxSessions = 16;
  SapListener listener(lc);
  std::vector<std::uint16_t> evicted;
  listener.setCallback([&](SapEvent e, const SapSession& s) {
    if (e == SapEvent::kEvicted) evicted.push_back(s.msgIdHash);
  });
  for (int i = 0; i < 1000; ++i) {
    SapBuildOptions o;
    o.origin = parseIpv4("10.0.0.1") + static_cast<Ipv4Address>(i);
    o.msgIdHash = static_cast<std::uint16_t>(i + 1);
    o.sdp = sdp("flood", 1, std::to_string(i));
    const auto p = buildSap(o);
    listener.handle(p.data(), p.size(), DatagramInfo{}, i);
  }
  EXPECT_EQ(listener.sessionCount(), 16u);
  EXPECT_EQ(listener.stats().evicted, 984u);
  EXPECT_EQ(evicted.front(), 1);
  EXPECT_EQ(evicted.back(), 984);
  for (const auto& s : listener.sessions()) EXPECT_GT(s.msgIdHash, 984);
  EXPECT_THROW(SapListener(SapListenerConfig{{}, "", 0}), std::invalid_argument);
}

TEST(SapSessions, EveryBadDatagramIsCountedByReason) {
  Lab lab;
  SapListener listener(lab.b);
  auto socket = lab.a.open(SocketOptions{});
  const Ipv4Endpoint group{kSapGroupAdminScope, kSapPort};
  auto send = [&](std::vector<std::uint8_t> b) { socket->send(group, b.data(), b.size()); };
  auto raw = [](std::initializer_list<int> l) {
    std::vector<std::uint8_t> v;
    for (int x : l) v.push_back(static_cast<std::uint8_t>(x));
    return v;
  };
  send(raw({0x20, 0}));                                   // truncated
  send(raw({0x40, 0, 0, 0, 1, 2, 3, 4}));                 // bad version
  send(raw({0x21, 0, 0, 0, 1, 2, 3, 4, 1, 2}));           // decompress failed (or no zlib)
  send(raw({0x20, 0, 0, 0, 1, 2, 3, 4, 'x'}));            // bad payload type
  send(raw({0x22, 0, 0, 0, 1, 2, 3, 4, 1}));              // encrypted
  auto v6 = raw({0x30, 0, 0, 1, 0xFF, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1});
  const std::string s = sdp("v6");
  v6.insert(v6.end(), s.begin(), s.end());
  send(v6);                                               // IPv6 origin
  SapBuildOptions o;
  o.payloadType = "text/plain";
  o.sdp = "hello";
  send(buildSap(o));                                      // not SDP
  o.payloadType = "application/sdp";
  o.sdp = "v=0\r\nthis is not sdp\r\n";
  send(buildSap(o));                                      // bad SDP
  o.sdp = std::string(70000, 'v');
  send(buildSap(o));                                      // oversize
  lab.network.deliverDue();
  lab.clock.advanceBy(1'000'000);
  lab.network.deliverDue();
  listener.poll();
  const auto& st = listener.stats();
  EXPECT_EQ(st.received, 9u);
  EXPECT_EQ(st.droppedTotal(), 9u);
  auto dropped = [&st](SapDropReason r) { return st.dropped[static_cast<std::size_t>(r)]; };
  EXPECT_EQ(dropped(SapDropReason::kTruncated), 1u);
  EXPECT_EQ(dropped(SapDropReason::kBadVersion), 1u);
  EXPECT_EQ(dropped(sapHasZlib() ? SapDropReason::kDecompressFailed : SapDropReason::kNoZlib), 1u);
  EXPECT_EQ(dropped(SapDropReason::kBadPayloadType), 1u);
  EXPECT_EQ(dropped(SapDropReason::kEncrypted), 1u);
  EXPECT_EQ(dropped(SapDropReason::kIpv6Origin), 1u);
  EXPECT_EQ(dropped(SapDropReason::kNotSdp), 1u);
  EXPECT_EQ(dropped(SapDropReason::kBadSdp), 1u);
  EXPECT_EQ(dropped(SapDropReason::kOversize), 1u);
  EXPECT_EQ(listener.sessionCount(), 0u);
  for (int r = 0; r < static_cast<int>(SapDropReason::kCount); ++r) EXPECT_STRNE(toString(static_cast<SapDropReason>(r)), "unknown");
  for (auto e : {SapEvent::kAdded, SapEvent::kChanged, SapEvent::kDeleted, SapEvent::kTimedOut, SapEvent::kEvicted}) {
    EXPECT_STRNE(toString(e), "unknown");
  }
  SapListener sansIo{SapListenerConfig{}};
  EXPECT_THROW(sansIo.poll(), std::logic_error);
  SapListenerConfig twoPorts;
  twoPorts.groups = {{kSapGroupAdminScope, 9875}, {kSapGroupGlobal, 9876}};
  EXPECT_THROW(SapListener(lab.b, twoPorts), std::invalid_argument);
  twoPorts.groups.clear();
  EXPECT_THROW(SapListener(lab.b, twoPorts), std::invalid_argument);
}

TEST(SapSessions, BandwidthRuleAndJitteredSchedule) {
  // RFC 2974 §3.1: 8 x ads x size / 4000 bps, never below 300 s.
  EXPECT_EQ(sapBandwidthInterval(500, 1, 4000), 300 * kNanosPerSecond);
  EXPECT_EQ(sapBandwidthInterval(500, 400, 4000), 400 * kNanosPerSecond);
  EXPECT_THROW(sapBandwidthInterval(500, 1, 0), std::invalid_argument);
  Lab lab;
  SapListener listener(lab.b);
  SapAnnouncerConfig config;
  config.useBandwidthRule = true;
  config.seed = 42;
  SapAnnouncer announcer(lab.a, config);
  const auto h = announcer.add(sdp("rfc"));
  EXPECT_EQ(announcer.intervalFor(h), 300 * kNanosPerSecond);
  std::vector<Nanoseconds> heard;
  listener.setCallback([&](SapEvent, const SapSession&) {});
  Nanoseconds last = -1;
  while (lab.clock.now() < 3000 * kNanosPerSecond) {
    const Nanoseconds next = announcer.poll();
    if (announcer.stats().announcementsSent != heard.size()) heard.push_back(lab.clock.now());
    if (next > lab.clock.now()) lab.clock.advanceTo(next);
    ASSERT_NE(next, last);
    last = next;
  }
  ASSERT_GE(heard.size(), 8u);
  for (std::size_t i = 1; i < heard.size(); ++i) {
    const Nanoseconds gap = heard[i] - heard[i - 1];
    EXPECT_GE(gap, 200 * kNanosPerSecond);  // 300 s - 1/3
    EXPECT_LE(gap, 400 * kNanosPerSecond);  // 300 s + 1/3
  }
  SapAnnouncerConfig bad;
  bad.interval = 0;
  EXPECT_THROW(SapAnnouncer(lab.a, bad), std::invalid_argument);
  EXPECT_THROW(announcer.intervalFor(999), std::invalid_argument);
  EXPECT_THROW(announcer.hashOf(999), std::invalid_argument);
}

TEST(SapSessions, StopSendsADeletionPerSessionAndALongPauseDoesNotBurst) {
  Lab lab;
  SapListener listener(lab.b);
  auto announcer = std::make_unique<SapAnnouncer>(lab.a);
  EXPECT_EQ(announcer->origin(), parseIpv4("10.0.0.1"));
  announcer->add(sdp("a", 1, "1"));
  announcer->add(sdp("b", 1, "2"));
  lab.runUntil(kNanosPerSecond, announcer.get(), listener);
  EXPECT_EQ(listener.sessionCount(), 2u);
  lab.clock.advanceBy(1000 * kNanosPerSecond);  // nobody polled for 1000 s
  announcer->poll();
  EXPECT_EQ(announcer->stats().announcementsSent, 4u);  // one each, not 33 each
  announcer.reset();                                    // destructor stops
  lab.runUntil(1002 * kNanosPerSecond, nullptr, listener);
  EXPECT_EQ(listener.sessionCount(), 0u);
  EXPECT_EQ(listener.stats().deleted, 2u);
}

}  // namespace
}  // namespace aes67
