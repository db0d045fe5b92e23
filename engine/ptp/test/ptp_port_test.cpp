// PtpPort without any network: messages are built with the codec, handed in with their
// receive times, and what the port emits is checked against IEEE 1588-2008.
#include "engine/ptp/ptp_port.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace aes67 {
namespace {

constexpr Nanoseconds kMs = 1'000'000;
constexpr Nanoseconds kS = 1'000'000'000;
const ClockIdentity kUs = ClockIdentity::fromValue(0x0200000afffe0002ull);
const ClockIdentity kGm = ClockIdentity::fromValue(0x001d7ffffe80024aull);
const ClockIdentity kGm2 = ClockIdentity::fromValue(0x28993affff267e2bull);

struct Wire {
  std::vector<std::uint8_t> bytes;
};

PtpMessage header(PtpMessageType type, ClockIdentity from, std::uint16_t seq, std::uint8_t domain = 0) {
  PtpMessage m;
  m.header.messageType = type;
  m.header.domainNumber = domain;
  m.header.sourcePortIdentity = {from, 1};
  m.header.sequenceId = seq;
  m.header.logMessageInterval = type == PtpMessageType::kAnnounce ? 1 : -3;
  return m;
}

Wire wire(const PtpMessage& m) {
  Wire w;
  w.bytes.resize(256);
  w.bytes.resize(writePtp(m, w.bytes.data(), w.bytes.size()));
  return w;
}

Wire announce(ClockIdentity gm, std::uint16_t seq, std::uint8_t priority1 = 128, std::uint8_t domain = 0, std::uint16_t steps = 0) {
  PtpMessage m = header(PtpMessageType::kAnnounce, gm, seq, domain);
  m.announce.grandmasterIdentity = gm;
  m.announce.grandmasterPriority1 = priority1;
  m.announce.grandmasterClockQuality = {6, 0x21, 0x4E5D};
  m.announce.stepsRemoved = steps;
  return wire(m);
}

Wire sync(ClockIdentity gm, std::uint16_t seq, bool twoStep, Nanoseconds t1 = 0) {
  PtpMessage m = header(PtpMessageType::kSync, gm, seq);
  if (twoStep) m.header.flags = ptp_flags::kTwoStep;
  else m.timestamp = PtpTimestamp::fromNanos(t1);
  return wire(m);
}

Wire followUp(ClockIdentity gm, std::uint16_t seq, Nanoseconds t1, std::int64_t correction = 0) {
  PtpMessage m = header(PtpMessageType::kFollowUp, gm, seq);
  m.timestamp = PtpTimestamp::fromNanos(t1);
  m.header.correctionField = correction;
  return wire(m);
}

Wire delayResp(ClockIdentity gm, std::uint16_t seq, Nanoseconds t4, PortIdentity requester, std::int8_t logInterval = -3) {
  PtpMessage m = header(PtpMessageType::kDelayResp, gm, seq);
  m.timestamp = PtpTimestamp::fromNanos(t4);
  m.portIdentity = requester;
  m.header.logMessageInterval = logInterval;
  return wire(m);
}

class PtpPortTest : public ::testing::Test {
 protected:
  PtpPortConfig config() {
    PtpPortConfig c;
    c.clockIdentity = kUs;
    c.seed = 5;
    return c;
  }
  void feed(PtpPort& port, const Wire& w, Nanoseconds at) { port.handle(w.bytes.data(), w.bytes.size(), at); }
  std::vector<PtpPortEvent> drain(PtpPort& port) {
    std::vector<PtpPortEvent> out;
    PtpPortEvent e;
    while (port.nextEvent(e)) out.push_back(e);
    return out;
  }
  // Two Announces 2 s apart: the grandmaster qualifies (FOREIGN_MASTER_THRESHOLD = 2).
  void qualify(PtpPort& port, ClockIdentity gm, Nanoseconds at = 0, std::uint8_t priority1 = 128) {
    feed(port, announce(gm, 1, priority1), at);
    feed(port, announce(gm, 2, priority1), at + 2 * kS);
  }
};

TEST_F(PtpPortTest, RefusesDomainsOutside0To127) {
  PtpPortConfig c = config();
  c.domainNumber = 128;
  EXPECT_THROW(PtpPort{c}, std::invalid_argument);
  c.domainNumber = 127;
  EXPECT_NO_THROW(PtpPort{c});
}

TEST_F(PtpPortTest, CountsAndIgnoresOtherDomainsOwnMessagesAndPtpv1) {
  PtpPort port(config());
  feed(port, announce(kGm, 1, 128, 1), 0);
  feed(port, announce(kGm, 1, 128, 200), 0);
  feed(port, announce(kUs, 1), 0);
  std::vector<std::uint8_t> v1(124, 0);
  v1[1] = 0x01;  // versionPTP 1 (IEEE 1588-2002)
  port.handle(v1.data(), v1.size(), 0);
  const std::uint8_t junk[3] = {0, 2, 0};
  port.handle(junk, sizeof junk, 0);
  const auto& c = port.counters();
  EXPECT_EQ(c.datagrams, 5u);
  EXPECT_EQ(c.dropped[static_cast<std::size_t>(PtpPortDrop::kOtherDomain)], 1u);
  EXPECT_EQ(c.dropped[static_cast<std::size_t>(PtpPortDrop::kReservedDomain)], 1u);
  EXPECT_EQ(c.dropped[static_cast<std::size_t>(PtpPortDrop::kOwnMessage)], 1u);
  EXPECT_EQ(c.ptpv1(), 1u);
  EXPECT_EQ(c.malformed[static_cast<std::size_t>(PtpParseError::kTruncated)], 1u);
  EXPECT_EQ(port.foreignMasters().size(), 0u);
  EXPECT_TRUE(drain(port).empty());
}

TEST_F(PtpPortTest, AMasterQualifiesAfterTwoAnnouncesWithinFourIntervals) {
  PtpPort port(config());
  feed(port, announce(kGm, 1), 0);
  EXPECT_FALSE(port.hasParent()) << "one Announce is not enough";
  EXPECT_EQ(port.state(), PtpPortState::kListening);
  // The next one 9 s later: outside FOREIGN_MASTER_TIME_WINDOW (4 x 2 s) of the first.
  port.poll(5 * kS);  // not yet timed out (3 x 2 s)
  feed(port, announce(kGm, 2), 9 * kS);
  EXPECT_FALSE(port.hasParent());
  feed(port, announce(kGm, 3), 11 * kS);
  ASSERT_TRUE(port.hasParent());
  EXPECT_EQ(port.parent().dataset.grandmasterIdentity, kGm);
  EXPECT_EQ(port.state(), PtpPortState::kUncalibrated);
  port.setCalibrated(true);
  EXPECT_EQ(port.state(), PtpPortState::kSlave);
  const auto events = drain(port);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, PtpPortEventKind::kParentChanged);
  EXPECT_FALSE(events[0].grandmasterChanged) << "the first grandmaster is not a change";
  EXPECT_EQ(port.counters().parentChanges, 1u);
  EXPECT_EQ(port.counters().grandmasterChanges, 0u);
}

TEST_F(PtpPortTest, DropsStepsRemoved255AndCountsAFullTable) {
  PtpPort port(config());
  feed(port, announce(kGm, 1, 128, 0, 255), 0);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kStepsRemoved)], 1u);
  for (std::uint64_t i = 0; i < ForeignMasterTable::kCapacity + 3; ++i) {
    feed(port, announce(ClockIdentity::fromValue(0x1000 + i), 1), 0);
  }
  EXPECT_EQ(port.foreignMasters().size(), ForeignMasterTable::kCapacity);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kForeignTableFull)], 3u);
}

TEST_F(PtpPortTest, PairsTwoStepSyncWithFollowUpEitherOrderAndCountsMissingOnes) {
  PtpPort port(config());
  qualify(port, kGm);
  drain(port);
  const Nanoseconds t1 = 1'767'225'600'000'000'000;
  feed(port, sync(kGm, 10, true), 3 * kS);
  EXPECT_TRUE(drain(port).empty()) << "a two-step Sync waits for its Follow_Up";
  feed(port, followUp(kGm, 10, t1, 3 << 16), 3 * kS + 50'000);
  auto events = drain(port);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, PtpPortEventKind::kSync);
  EXPECT_EQ(events[0].sync.t1, t1);
  EXPECT_EQ(events[0].sync.t2, 3 * kS) << "t2 is the Sync's receive time, not the Follow_Up's";
  EXPECT_EQ(events[0].sync.correction, 3 << 16);
  EXPECT_EQ(events[0].sync.logSyncInterval, -3);

  // Follow_Up first (they travel on different sockets).
  feed(port, followUp(kGm, 11, t1 + 125 * kMs), 3 * kS + 125 * kMs + 10);
  feed(port, sync(kGm, 11, true), 3 * kS + 125 * kMs);
  events = drain(port);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sync.t1, t1 + 125 * kMs);
  EXPECT_EQ(events[0].sync.t2, 3 * kS + 125 * kMs);

  // A Sync whose Follow_Up never comes.
  feed(port, sync(kGm, 12, true), 3 * kS + 250 * kMs);
  feed(port, sync(kGm, 13, true), 3 * kS + 375 * kMs);
  EXPECT_EQ(port.counters().syncWithoutFollowUp, 1u);
  feed(port, followUp(kGm, 13, t1 + 375 * kMs), 3 * kS + 375 * kMs + 10);
  EXPECT_EQ(drain(port).size(), 1u);

  // One-step: the Sync carries t1.
  feed(port, sync(kGm, 14, false, t1 + 500 * kMs), 3 * kS + 500 * kMs);
  events = drain(port);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sync.t1, t1 + 500 * kMs);
  EXPECT_EQ(port.counters().syncSamples, 4u);
}

TEST_F(PtpPortTest, IgnoresSyncFromOtherMastersAndBadTimestamps) {
  PtpPort port(config());
  feed(port, sync(kGm, 1, false, 5), 0);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kNoParent)], 1u);
  qualify(port, kGm);
  feed(port, sync(kGm2, 1, false, 5), 3 * kS);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kNotFromParent)], 1u);
  PtpMessage bad = header(PtpMessageType::kSync, kGm, 2);
  bad.timestamp = {1'700'000'000, 1'000'000'000};  // nanoseconds out of range
  feed(port, wire(bad), 3 * kS);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kBadTimestamp)], 1u);
  drain(port);
  EXPECT_EQ(port.counters().syncSamples, 0u);
}

TEST_F(PtpPortTest, SendsDelayReqAfterTheFirstSyncAndMatchesOnlyItsDelayResp) {
  PtpPort port(config());
  qualify(port, kGm);
  const Nanoseconds t0 = 3 * kS;
  EXPECT_EQ(port.poll(t0), port.foreignMasters().nextExpiry(3)) << "no Delay_Req before a Sync";
  PtpOutgoing out;
  EXPECT_FALSE(port.nextOutgoing(out));
  feed(port, sync(kGm, 1, false, 1000 * kS), t0);
  port.poll(t0);
  ASSERT_TRUE(port.nextOutgoing(out));
  PtpMessage req;
  ASSERT_EQ(parsePtp(out.data.data(), out.size, req), PtpParseError::kNone);
  EXPECT_TRUE(out.event);
  EXPECT_EQ(req.header.messageType, PtpMessageType::kDelayReq);
  EXPECT_EQ(req.header.controlField, 1);
  EXPECT_EQ(req.header.logMessageInterval, 0x7F);
  EXPECT_EQ(req.header.sourcePortIdentity, port.portIdentity());
  EXPECT_EQ(req.header.domainNumber, 0);
  EXPECT_EQ(req.header.messageLength, 44);
  port.transmitted(PtpMessageType::kDelayReq, req.header.sequenceId, t0 + 100);
  drain(port);

  const PortIdentity other{ClockIdentity::fromValue(0x77), 1};
  feed(port, delayResp(kGm, req.header.sequenceId, 1000 * kS + 500, other), t0 + kMs);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kNotForUs)], 1u);
  feed(port, delayResp(kGm, static_cast<std::uint16_t>(req.header.sequenceId + 1), 1000 * kS + 500, port.portIdentity()), t0 + kMs);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kUnmatched)], 1u);
  feed(port, delayResp(kGm, req.header.sequenceId, 1000 * kS + 500, port.portIdentity(), 0), t0 + kMs);
  auto events = drain(port);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, PtpPortEventKind::kDelay);
  EXPECT_EQ(events[0].delay.t3, t0 + 100);
  EXPECT_EQ(events[0].delay.t4, 1000 * kS + 500);
  EXPECT_EQ(port.logMinDelayReqInterval(), 0) << "the master's Delay_Resp sets the request interval";
  feed(port, delayResp(kGm, req.header.sequenceId, 1000 * kS + 500, port.portIdentity()), t0 + kMs);
  EXPECT_EQ(port.counters().dropped[static_cast<std::size_t>(PtpPortDrop::kUnmatched)], 2u) << "answered once only";
}

// 9.5.11.2: successive Delay_Req at random intervals, uniform over [0, 2^(x+1)] s.
TEST_F(PtpPortTest, DelayReqIntervalsAreRandomisedAroundTheMastersInterval) {
  for (int log : {-3, 0}) {
    PtpPortConfig c = config();
    c.logMinDelayReqInterval = static_cast<std::int8_t>(log);
    PtpPort port(c);
    qualify(port, kGm);
    Nanoseconds now = 3 * kS;
    feed(port, sync(kGm, 1, false, 1000 * kS), now);
    const Nanoseconds mean = log == 0 ? kS : kS / 8;
    std::vector<Nanoseconds> sent;
    PtpOutgoing out;
    std::uint16_t seq = 1;
    // Keep the master alive and answer nothing; step time finely.
    const Nanoseconds step = mean / 64;
    for (int i = 0; sent.size() < 400 && i < 10'000'000; ++i) {
      now += step;
      if (now % (2 * kS) < step) feed(port, announce(kGm, ++seq), now);
      port.poll(now);
      while (port.nextOutgoing(out)) sent.push_back(now);
    }
    ASSERT_EQ(sent.size(), 400u);
    double sum = 0;
    Nanoseconds lo = INT64_MAX, hi = 0;
    for (std::size_t i = 2; i < sent.size(); ++i) {
      const Nanoseconds gap = sent[i] - sent[i - 1];
      sum += static_cast<double>(gap);
      lo = std::min(lo, gap);
      hi = std::max(hi, gap);
    }
    const double avg = sum / static_cast<double>(sent.size() - 2);
    EXPECT_NEAR(avg / static_cast<double>(mean), 1.0, 0.1) << "log " << log;
    EXPECT_LE(hi, 2 * mean + step) << "never beyond 2^(x+1)";
    EXPECT_GE(lo, mean / 16) << "never a burst";
    EXPECT_LT(lo, mean / 4) << "uniform from near zero";
    EXPECT_GT(hi, 7 * mean / 4) << "uniform up to 2^(x+1)";
    EXPECT_EQ(port.counters().delayRespMissing, 0u) << "nothing was transmitted, so nothing is missing";
  }
}

TEST_F(PtpPortTest, AnnounceTimeoutFailsOverOrListens) {
  PtpPort port(config());
  qualify(port, kGm, 0, 100);
  qualify(port, kGm2, 10 * kMs, 128);
  ASSERT_EQ(port.parent().dataset.grandmasterIdentity, kGm) << "priority1 100 beats 128";
  drain(port);
  // kGm2 keeps announcing every 2 s; kGm falls silent after its Announce at 2 s.
  Nanoseconds t = 2 * kS + 10 * kMs;
  for (int i = 0; i < 2; ++i) {
    t += 2 * kS;
    feed(port, announce(kGm2, static_cast<std::uint16_t>(10 + i)), t);
    port.poll(t);
  }
  port.poll(8 * kS - 1);
  EXPECT_EQ(port.parent().dataset.grandmasterIdentity, kGm) << "3 intervals after its last Announce (2 s) have not passed";
  port.poll(8 * kS + 1);
  EXPECT_EQ(port.parent().dataset.grandmasterIdentity, kGm2) << "announceReceiptTimeout: 3 x 2 s after 2 s";
  EXPECT_EQ(port.counters().announceTimeouts, 1u);
  EXPECT_EQ(port.counters().grandmasterChanges, 1u);
  auto events = drain(port);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, PtpPortEventKind::kParentChanged);
  EXPECT_TRUE(events.back().grandmasterChanged);
  // Now kGm2 falls silent too: nobody left, the port listens.
  port.poll(t + 6 * kS + 1);
  EXPECT_EQ(port.counters().announceTimeouts, 2u);
  EXPECT_FALSE(port.hasParent());
  EXPECT_EQ(port.state(), PtpPortState::kListening);
  events = drain(port);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, PtpPortEventKind::kParentLost);
}

TEST_F(PtpPortTest, ABetterMasterTakesOverOnceQualified) {
  PtpPort port(config());
  qualify(port, kGm2, 0, 128);
  feed(port, announce(kGm, 1, 100), 3 * kS);
  EXPECT_EQ(port.parent().dataset.grandmasterIdentity, kGm2) << "one Announce does not qualify";
  feed(port, announce(kGm, 2, 100), 5 * kS);
  EXPECT_EQ(port.parent().dataset.grandmasterIdentity, kGm);
  EXPECT_EQ(port.counters().grandmasterChanges, 1u);
  // The parent's data set follows its Announces: a clockClass change is seen.
  PtpMessage m = header(PtpMessageType::kAnnounce, kGm, 3);
  m.announce.grandmasterIdentity = kGm;
  m.announce.grandmasterPriority1 = 100;
  m.announce.grandmasterClockQuality = {7, 0x21, 0x4E5D};
  feed(port, wire(m), 7 * kS);
  EXPECT_EQ(port.parent().dataset.quality.clockClass, 7);
}

}  // namespace
}  // namespace aes67
