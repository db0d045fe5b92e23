// The slave against simulated grandmasters on the VirtualNetwork, in virtual time: every
// run is deterministic (seeded) and a minute of PTP takes milliseconds. The slave's error
// is measured against the master's true time (the fixture knows it), not against what
// the slave believes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/ptp/ptp_media_clock.hpp"
#include "engine/ptp/ptp_slave.hpp"
#include "engine/ptp/test/simulated_master.hpp"

namespace aes67 {
namespace {

using test::SimulatedMaster;
using test::SimulatedMasterConfig;

constexpr Nanoseconds kMs = 1'000'000;
constexpr Nanoseconds kS = kNanosPerSecond;

struct ErrorStats {
  double rms = 0;
  double max = 0;
  std::size_t n = 0;
};

class PtpSimulation {
 public:
  explicit PtpSimulation(Nanoseconds pathDelay, double jitterMeanNs, std::uint64_t seed = 7)
      : clock_(0), network_(clock_, pathDelay), prng_(seed) {
    if (jitterMeanNs > 0) {
      network_.setImpairment([this, jitterMeanNs](const VirtualPacket&, std::vector<Nanoseconds>& extra) {
        extra[0] = static_cast<Nanoseconds>(std::llround(prng_.exponential(jitterMeanNs)));
      });
    }
    slaveHost_ = &network_.addHost("slave", parseIpv4("10.0.0.2"));
  }

  SimulatedMaster& addMaster(const std::string& name, const std::string& address, const SimulatedMasterConfig& c) {
    Transport& host = network_.addHost(name, parseIpv4(address));
    masters_.push_back(std::make_unique<SimulatedMaster>(host, c));
    return *masters_.back();
  }

  PtpSlave& startSlave(PtpSlaveConfig config = {}) {
    config.port.clockIdentity = ClockIdentity::fromValue(0x0200000afffe0002ull);
    slave_ = std::make_unique<PtpSlave>(*slaveHost_, config);
    return *slave_;
  }

  // Runs until `until`; samples the slave's true error against `reference` every 10 ms.
  void runUntil(Nanoseconds until, const SimulatedMaster* reference = nullptr) {
    Nanoseconds nextSample = clock_.now();
    for (int guard = 0; guard < 50'000'000; ++guard) {
      Nanoseconds next = network_.nextDeliveryTime();
      std::vector<Nanoseconds> due;
      for (auto& m : masters_) next = std::min(next, masterDue_[m.get()]);
      next = std::min(next, slaveDue_);
      next = std::min(next, nextSample);
      if (next > until) break;
      if (next > clock_.now()) clock_.advanceTo(next);
      network_.deliverDue();
      const Nanoseconds now = clock_.now();
      for (auto& m : masters_) masterDue_[m.get()] = m->poll(now);
      slaveDue_ = slave_->poll();
      if (now >= nextSample) {
        nextSample = now + 10 * kMs;
        record(now, reference);
      }
    }
    if (clock_.now() < until) clock_.advanceTo(until);
  }

  // Error stats of samples taken while the servo was locked, from `from` on.
  ErrorStats lockedErrorSince(Nanoseconds from) const {
    ErrorStats s;
    double sum = 0;
    for (const auto& p : trace_) {
      if (p.at < from || !p.locked) continue;
      sum += p.error * p.error;
      s.max = std::max(s.max, std::abs(p.error));
      ++s.n;
    }
    s.rms = s.n ? std::sqrt(sum / static_cast<double>(s.n)) : 0;
    return s;
  }
  // First time the servo reported lock at or after `from`, or -1.
  Nanoseconds firstLockSince(Nanoseconds from) const {
    for (const auto& p : trace_) {
      if (p.at >= from && p.locked) return p.at;
    }
    return -1;
  }
  // The first lock that follows a loss of lock at or after `from` (a re-lock), or -1.
  Nanoseconds relockAfter(Nanoseconds from) const {
    bool lost = false;
    for (const auto& p : trace_) {
      if (p.at < from) continue;
      if (!p.locked) lost = true;
      if (lost && p.locked) return p.at;
    }
    return -1;
  }
  // Was the servo locked at any sample in [from, to)?
  bool lockedBetween(Nanoseconds from, Nanoseconds to) const {
    for (const auto& p : trace_) {
      if (p.at >= from && p.at < to && p.locked) return true;
    }
    return false;
  }
  // Was the servo unlocked at any sample in [from, to)?
  bool unlockedBetween(Nanoseconds from, Nanoseconds to) const {
    for (const auto& p : trace_) {
      if (p.at >= from && p.at < to && !p.locked) return true;
    }
    return false;
  }
  bool lockedAt(Nanoseconds t) const {
    bool locked = false;
    for (const auto& p : trace_) {
      if (p.at > t) break;
      locked = p.locked;
    }
    return locked;
  }

  VirtualClock& clock() { return clock_; }
  PtpSlave& slave() { return *slave_; }

 private:
  struct Point {
    Nanoseconds at;
    double error;
    bool locked;
  };
  void record(Nanoseconds now, const SimulatedMaster* reference) {
    if (!slave_) return;
    const bool locked = isLocked(slave_->synchronizer().servo().state());
    double error = 0;
    if (reference) error = static_cast<double>(slave_->mapping().ptpTimeAt(now) - reference->ptpTime(now));
    trace_.push_back({now, error, locked});
  }

  VirtualClock clock_;
  VirtualNetwork network_;
  Prng prng_;
  Transport* slaveHost_;
  std::vector<std::unique_ptr<SimulatedMaster>> masters_;
  std::map<const SimulatedMaster*, Nanoseconds> masterDue_;
  std::unique_ptr<PtpSlave> slave_;
  Nanoseconds slaveDue_ = 0;
  std::vector<Point> trace_;
};

SimulatedMasterConfig driftingMaster() {
  SimulatedMasterConfig c;
  c.ppm = 100.0;
  return c;
}

// linuxptp's own test suite bounds (clknetsim): after lock, rms < 1 us and max < 10 us;
// lock in < 20 s. Master 100 ppm fast, 100 ns path delay, exponential jitter both ways.
TEST(PtpSimulation, LocksToADriftingMasterWithinLinuxptpBounds) {
  for (double jitter : {100.0, 1000.0}) {
    PtpSimulation sim(100, jitter);
    auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
    auto& slave = sim.startSlave();
    sim.runUntil(60 * kS, &master);
    const Nanoseconds lock = sim.firstLockSince(0);
    ASSERT_GE(lock, 0) << "never locked (jitter " << jitter << " ns)";
    const ErrorStats e = sim.lockedErrorSince(lock);
    std::printf("[ figures  ] jitter exp(mean %.0f ns): lock %.3f s, true error after lock rms %.1f ns max %.1f ns (%zu samples), "
                "frequency %.1f ppb, delay %lld ns\n",
                jitter, static_cast<double>(lock) / kS, e.rms, e.max, e.n, slave.status().frequencyPpb,
                static_cast<long long>(slave.status().pathDelay));
    EXPECT_LT(lock, 20 * kS);
    EXPECT_LT(e.rms, 1000.0);
    EXPECT_LT(e.max, 10'000.0);
    EXPECT_NEAR(slave.status().frequencyPpb, 100'000.0, 100.0) << "the master runs 100 ppm fast";
    EXPECT_EQ(slave.status().portState, PtpPortState::kSlave);
    EXPECT_EQ(slave.synchronizer().servo().counters().lockLosses, 0u);
    EXPECT_EQ(formatPtp4l(slave.status().grandmasterIdentity), "001d7f.fffe.80024a");
    EXPECT_GT(master.delayRequests(), 60u * 4) << "Delay_Req at about 8 per second";
  }
}

// IP_MULTICAST_LOOP as ptp4l sets it: off, but where the looped copy's stamp is t3. On veth
// the looped copy, delivered inside the send call, made the Delay_Req's stamped path ~3 us
// shorter than the Sync's (measured: bench/ptp-offset.ts's header), a -1.5 us true error.
// The virtual network delivers a host's own multicast back only with the loop on.
TEST(PtpSimulation, TheSlaveHearsItsOwnDelayReqOnlyWhenItStampsFromTheLoopedCopy) {
  for (PtpTransmitStamp stamp : {PtpTransmitStamp::kKernel, PtpTransmitStamp::kClockAfterSend, PtpTransmitStamp::kMulticastLoopback}) {
    PtpSimulation sim(100, 100);
    auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
    PtpSlaveConfig config;
    config.transmitStamp = stamp;
    auto& slave = sim.startSlave(config);
    sim.runUntil(10 * kS, &master);
    const PtpPortCounters& c = slave.port().counters();
    const std::uint64_t own = c.dropped[static_cast<std::size_t>(PtpPortDrop::kOwnMessage)] + slave.loopbackTransmitStamps();
    ASSERT_GT(master.delayRequests(), 10u * 4) << toString(stamp);
    if (stamp == PtpTransmitStamp::kMulticastLoopback) {
      EXPECT_EQ(slave.loopbackTransmitStamps(), c.delayReqSent) << "each Delay_Req's stamp from its looped copy";
    } else {
      EXPECT_EQ(own, 0u) << toString(stamp) << ": " << c.delayReqSent << " Delay_Req sent, " << own << " came back";
    }
  }
}

}  // namespace
}  // namespace aes67

namespace aes67 {
namespace {

using test::SimulatedMaster;
using test::SimulatedMasterConfig;

constexpr Nanoseconds kS2 = kNanosPerSecond;

TEST(PtpSimulation, MasterTimeStepIsSteppedOnceAndRelocksCounted) {
  PtpSimulation sim(100, 100);
  auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
  auto& slave = sim.startSlave();
  sim.runUntil(30 * kS2, &master);
  ASSERT_TRUE(sim.lockedAt(30 * kS2));
  const auto before = slave.synchronizer().servo().counters();
  master.stepTime(1'000'000);  // the grandmaster jumps 1 ms ahead
  sim.runUntil(60 * kS2, &master);
  const auto after = slave.synchronizer().servo().counters();
  EXPECT_EQ(after.steps - before.steps, 1u) << "one step, not one per Sync";
  EXPECT_EQ(after.lockLosses - before.lockLosses, 1u);
  EXPECT_EQ(after.locks - before.locks, 1u) << "re-locked once";
  EXPECT_EQ(slave.mapping().steps(), slave.synchronizer().servo().counters().steps);
  const Nanoseconds relock = sim.relockAfter(30 * kS2);
  ASSERT_GT(relock, 30 * kS2);
  EXPECT_LT(relock - 30 * kS2, 5 * kS2);
  const ErrorStats e = sim.lockedErrorSince(relock);
  std::printf("[ figures  ] 1 ms master step: re-lock after %.3f s, then rms %.1f ns max %.1f ns\n",
              static_cast<double>(relock - 30 * kS2) / kS2, e.rms, e.max);
  EXPECT_LT(e.rms, 1000.0);
  EXPECT_LT(e.max, 10'000.0);
}

// FIELD-NOTES "PTP that never locks or falsely reports lock": a grandmaster that keeps
// announcing and sending Sync but no Follow_Up gives no time; the slave must say so.
TEST(PtpSimulation, FollowUpThatStopsUnlocksAndNeverFalselyLocks) {
  PtpSimulation sim(100, 100);
  auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
  auto& slave = sim.startSlave();
  sim.runUntil(20 * kS2, &master);
  ASSERT_TRUE(sim.lockedAt(20 * kS2));
  master.setFollowUp(false);
  sim.runUntil(40 * kS2, &master);
  const auto& servo = slave.synchronizer().servo();
  EXPECT_EQ(servo.counters().sampleTimeouts, 1u);
  EXPECT_FALSE(sim.lockedBetween(21 * kS2 + 200'000'000, 40 * kS2)) << "unlocked within 1.2 s of the last Follow_Up";
  EXPECT_EQ(servo.state(), PtpServoState::kUnlocked);
  EXPECT_GT(slave.port().counters().syncWithoutFollowUp, 100u);
  EXPECT_EQ(slave.status().portState, PtpPortState::kUncalibrated) << "still following the master, not calibrated";
  master.setFollowUp(true);
  sim.runUntil(60 * kS2, &master);
  const Nanoseconds relock = sim.firstLockSince(40 * kS2);
  ASSERT_GT(relock, 0);
  EXPECT_LT(relock - 40 * kS2, 10 * kS2);
  EXPECT_LT(sim.lockedErrorSince(relock).max, 10'000.0);
}

// A grandmaster whose Sync times jump (bad firmware, a boundary clock in trouble): some
// Syncs carry a time far off. The slave must not stay or become locked while it happens.
TEST(PtpSimulation, SyncTimesThatJumpUnlockAndNeverFalselyLock) {
  struct Case {
    const char* name;
    std::function<Nanoseconds(std::uint16_t)> jump;
  };
  const std::vector<Case> cases = {
      {"every 4th Sync +2 ms", [](std::uint16_t seq) -> Nanoseconds { return seq % 4 == 0 ? 2'000'000 : 0; }},
      {"every 4th Sync +50 us", [](std::uint16_t seq) -> Nanoseconds { return seq % 4 == 0 ? 50'000 : 0; }},
      {"every Sync random within +-500 us",
       [](std::uint16_t seq) -> Nanoseconds { return static_cast<Nanoseconds>((seq * 2654435761u) % 1'000'001) - 500'000; }},
  };
  for (const auto& c : cases) {
    PtpSimulation sim(100, 100);
    auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
    auto& slave = sim.startSlave();
    sim.runUntil(20 * kS2, &master);
    ASSERT_TRUE(sim.lockedAt(20 * kS2)) << c.name;
    master.setSyncJump(c.jump);
    sim.runUntil(50 * kS2, &master);
    // Unlocked by the 8th bad Sync (unlockSpikes within unlockWindowSamples), 28 Syncs after the first.
    EXPECT_FALSE(sim.lockedBetween(24 * kS2 + kS2 / 2, 50 * kS2)) << c.name << ": locked while the Sync times jump";
    EXPECT_FALSE(isLocked(slave.synchronizer().servo().state())) << c.name;
    master.setSyncJump(nullptr);
    sim.runUntil(80 * kS2, &master);
    const Nanoseconds relock = sim.firstLockSince(50 * kS2);
    EXPECT_GT(relock, 0) << c.name << ": locks again once the master is sane";
    std::printf("[ figures  ] %s: re-lock %.3f s after the jumps stopped\n", c.name, static_cast<double>(relock - 50 * kS2) / kS2);
  }
}

// The other side of the same coin: a lone late Sync now and then (a busy software path)
// is measurement noise. The loop does not follow it and the lock holds.
TEST(PtpSimulation, AnIsolatedLateSyncNeitherUnlocksNorMovesTheClock) {
  PtpSimulation sim(100, 100);
  auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
  auto& slave = sim.startSlave();
  sim.runUntil(20 * kS2, &master);
  ASSERT_TRUE(sim.lockedAt(20 * kS2));
  master.setSyncJump([](std::uint16_t seq) -> Nanoseconds { return seq % 24 == 0 ? -40'000 : 0; });
  sim.runUntil(60 * kS2, &master);
  EXPECT_EQ(slave.synchronizer().servo().counters().lockLosses, 0u);
  EXPECT_GT(slave.synchronizer().servo().counters().spikes, 10u) << "held back, and counted";
  const ErrorStats e = sim.lockedErrorSince(20 * kS2);
  EXPECT_LT(e.max, 1'000.0) << "the clock did not follow the late Syncs";
  EXPECT_FALSE(sim.unlockedBetween(20 * kS2, 60 * kS2)) << "locked at every sample";
}

TEST(PtpSimulation, FailsOverToTheSecondMasterWhenAnnouncesStop) {
  PtpSimulation sim(100, 100);
  SimulatedMasterConfig a = driftingMaster();
  a.priority1 = 100;
  SimulatedMasterConfig b;
  b.identity = ClockIdentity::fromValue(0x28993affff267e2bull);
  b.priority1 = 128;
  b.ppm = -20.0;
  b.epoch += 5'000'000;  // 5 ms away from A
  b.phase = 40'000'000;
  auto& masterA = sim.addMaster("gmA", "10.0.0.1", a);
  auto& masterB = sim.addMaster("gmB", "10.0.0.3", b);
  auto& slave = sim.startSlave();
  sim.runUntil(30 * kS2, &masterA);
  ASSERT_TRUE(sim.lockedAt(30 * kS2));
  EXPECT_EQ(formatPtp4l(slave.status().grandmasterIdentity), "001d7f.fffe.80024a");
  // A announces at 1.5 ms + k x 2 s: its last Announce is the one at 28.0015 s.
  sim.runUntil(29 * kS2, &masterA);
  masterA.setSilent(true);
  sim.runUntil(33'900'000'000, &masterA);
  EXPECT_EQ(formatPtp4l(slave.status().grandmasterIdentity), "001d7f.fffe.80024a") << "not before the announce time-out";
  sim.runUntil(34'200'000'000, &masterB);
  // Announce receipt time-out: 3 intervals of 2 s after A's last Announce (28.0015 + 6 s).
  EXPECT_EQ(formatPtp4l(slave.status().grandmasterIdentity), "28993a.ffff.267e2b");
  EXPECT_EQ(slave.port().counters().grandmasterChanges, 1u);
  EXPECT_GE(slave.port().counters().announceTimeouts, 1u);
  sim.runUntil(70 * kS2, &masterB);
  const Nanoseconds relock = sim.relockAfter(34 * kS2);
  ASSERT_GT(relock, 0);
  const ErrorStats e = sim.lockedErrorSince(relock);
  std::printf("[ figures  ] failover A -> B: locked to B at %.3f s (A's last Announce at 28 s), rms %.1f ns max %.1f ns\n",
              static_cast<double>(relock) / kS2, e.rms, e.max);
  EXPECT_LT(relock, 50 * kS2);
  EXPECT_LT(e.max, 10'000.0);
  EXPECT_NEAR(slave.status().frequencyPpb, -20'000.0, 100.0);
}

TEST(PtpSimulation, ABetterMasterAppearingTakesOver) {
  PtpSimulation sim(100, 100);
  SimulatedMasterConfig b;
  b.identity = ClockIdentity::fromValue(0x28993affff267e2bull);
  b.ppm = -20.0;
  auto& masterB = sim.addMaster("gmB", "10.0.0.3", b);
  auto& slave = sim.startSlave();
  sim.runUntil(30 * kS2, &masterB);
  ASSERT_TRUE(sim.lockedAt(30 * kS2));
  SimulatedMasterConfig a = driftingMaster();
  a.priority1 = 100;  // better
  a.phase = 30 * kS2 + 7'000'000;
  auto& masterA = sim.addMaster("gmA", "10.0.0.1", a);
  sim.runUntil(36 * kS2, &masterA);
  // Qualified after two Announces (FOREIGN_MASTER_THRESHOLD), 2 s apart.
  EXPECT_EQ(formatPtp4l(slave.status().grandmasterIdentity), "001d7f.fffe.80024a");
  EXPECT_EQ(slave.port().counters().grandmasterChanges, 1u);
  sim.runUntil(60 * kS2, &masterA);
  const Nanoseconds relock = sim.relockAfter(31 * kS2);
  ASSERT_GT(relock, 0);
  EXPECT_LT(sim.lockedErrorSince(relock).max, 10'000.0);
  EXPECT_NEAR(slave.status().frequencyPpb, 100'000.0, 100.0);
  EXPECT_EQ(slave.port().foreignMasters().size(), 2u);
}

// The media clock on the servo's mapping: while locked it never steps back, however the
// loop moves the frequency, and its RTP timestamps are the master's (ST 2110-10).
TEST(PtpSimulation, MediaClockIsMonotonicWhileLockedAndMatchesTheMastersRtpTime) {
  PtpSimulation sim(100, 1000);
  auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
  auto& slave = sim.startSlave();
  constexpr std::uint32_t kOffset = 0x12345678;
  PtpMediaClock media(slave.mapping(), 48'000, kOffset);
  sim.runUntil(10 * kS2, &master);
  ASSERT_TRUE(sim.lockedAt(10 * kS2));
  const auto steps = slave.mapping().steps();
  SampleTime previous = media.sampleAt(10 * kS2);
  int checked = 0, equal = 0;
  for (Nanoseconds t = 10 * kS2 + 1'000'000; t <= 40 * kS2; t += 1'000'000) {
    sim.runUntil(t, &master);
    const SampleTime s = media.sampleAt(t);
    ASSERT_GE(s, previous) << "sampleAt went back at " << t;
    previous = s;
    const std::uint32_t truth = rtpTimestampOf(nanosToSamples(master.ptpTime(t), 48'000), kOffset);
    const std::int32_t diff = rtpTimestampDiff(media.rtpTimestampAt(t), truth);
    ASSERT_LE(std::abs(diff), 1) << "RTP time off the master's by " << diff << " samples";
    equal += diff == 0;
    ++checked;
  }
  EXPECT_EQ(slave.mapping().steps(), steps) << "no step while locked";
  EXPECT_GT(equal, checked * 9 / 10) << "the same sample nearly always (error << 20.8 us)";
  EXPECT_NEAR(media.driftPpm(), 100.0, 0.05);
  std::printf("[ figures  ] media clock: %d of %d RTP timestamps equal the master's, drift %.4f ppm\n", equal, checked, media.driftPpm());
}

TEST(PtpSimulation, IsDeterministic) {
  auto run = [] {
    PtpSimulation sim(100, 1000, 99);
    auto& master = sim.addMaster("gm", "10.0.0.1", driftingMaster());
    sim.startSlave();
    sim.runUntil(20 * kS2, &master);
    return sim.slave().mapping().ptpTimeAt(20 * kS2);
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace aes67
