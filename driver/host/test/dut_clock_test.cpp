// DutClock's lock figures, in virtual time against the engine's SimulatedMaster: the first
// lock counts from the clock's start (time with no grandmaster included), the latest lock's
// acquisition from the first Sync sample of its grandmaster the slave took while unlocked.
// Each expected figure is what the test saw at the polls themselves (the first poll that
// took a sample), and each is bounded by what the test did (the grandmaster's start, its
// Follow_Up back, its return from silence), never a typed-in number.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "driver/host/dut_clock.hpp"
#include "engine/base/prng.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/ptp/test/simulated_master.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kS = kNanosPerSecond;

class DutClockRig {
 public:
  DutClockRig() : network_(clock_, 50'000) {
    Transport& m = network_.addHost("gm", parseIpv4("10.0.0.1"));
    master_ = std::make_unique<test::SimulatedMaster>(m, test::SimulatedMasterConfig{});
    master_->setSilent(true);
    Transport& d = network_.addHost("dut", parseIpv4("10.0.0.2"));
    DutPtpConfig c;
    c.enabled = true;
    c.slave.port.clockIdentity = ClockIdentity::fromValue(0x0200000afffe0002ull);
    dut_ = std::make_unique<DutClock>(d, 48'000, c);
  }

  // Runs until `stop` says so after a DutClock poll (or `limit`); returns the virtual time then, -1 if never.
  Nanoseconds runUntil(Nanoseconds limit, const std::function<bool(const DutClockPoll&, Nanoseconds)>& stop) {
    for (int guard = 0; guard < 10'000'000; ++guard) {
      const Nanoseconds next = std::min({network_.nextDeliveryTime(), masterDue_, dutDue_});
      if (next > limit) return -1;
      if (next > clock_.now()) clock_.advanceTo(next);
      network_.deliverDue();
      const Nanoseconds now = clock_.now();
      masterDue_ = master_->poll(now);
      const DutClockPoll p = dut_->poll();
      dutDue_ = p.next;
      const bool parent = dut_->slave()->status().hasParent;
      const std::uint64_t samples = dut_->slave()->port().counters().syncSamples;
      if (dut_->locked() || !parent) sampleSince_ = -1;
      else if (sampleSince_ < 0 && samples != samples_) sampleSince_ = now;
      samples_ = samples;
      hasParent_ = parent;
      if (stop(p, now)) return now;
    }
    return -1;
  }

  VirtualClock clock_{0};
  VirtualNetwork network_;
  std::unique_ptr<test::SimulatedMaster> master_;
  std::unique_ptr<DutClock> dut_;
  Nanoseconds masterDue_ = 0;
  Nanoseconds dutDue_ = 0;
  // The first poll, unlocked with a parent, that took a Sync sample (-1: locked, or none yet).
  Nanoseconds sampleSince_ = -1;
  std::uint64_t samples_ = 0;
  bool hasParent_ = false;
};

const auto locks = [](const DutClockPoll& p, Nanoseconds) { return p.lockChanged; };

const auto never = [](const DutClockPoll&, Nanoseconds) { return false; };

TEST(DutClock, AcquisitionLeavesOutTimeWithNoGrandmasterTimeAndRestartsWithEachLock) {
  DutClockRig r;
  const DutClockCounters& c = r.dut_->counters();
  // A poll's acquisition start, kept by `stop` below until the lock ends it.
  Nanoseconds began = -1;
  const auto lockKeepingStart = [&](const DutClockPoll& p, Nanoseconds) {
    if (began < 0) began = r.sampleSince_;
    return p.lockChanged;
  };

  // No grandmaster for 5 s: nothing to acquire.
  const Nanoseconds gmStart = 5 * kS;
  EXPECT_EQ(r.runUntil(gmStart, never), -1);
  EXPECT_EQ(c.firstLockAt, -1);
  EXPECT_EQ(c.lastAcquisitionNs, -1);

  r.master_->setSilent(false);
  const Nanoseconds lockedAt = r.runUntil(gmStart + 60 * kS, lockKeepingStart);
  ASSERT_GT(lockedAt, 0) << "the DUT's slave locked to the simulated grandmaster";
  ASSERT_TRUE(r.dut_->locked());
  ASSERT_GE(began, gmStart);
  EXPECT_EQ(c.firstLockAt, lockedAt);
  EXPECT_EQ(c.lastAcquisitionNs, lockedAt - began);
  // The first lock since the start holds the 5 s with no grandmaster; the acquisition does not.
  EXPECT_GE(c.firstLockAt - c.startedAt, gmStart + c.lastAcquisitionNs);

  // No Follow_Up (no samples) with the grandmaster still announcing: lock lost; the
  // acquisition counts from the first sample once Follow_Up is back, not from the loss.
  r.runUntil(lockedAt + 5 * kS, never);
  r.master_->setFollowUp(false);
  const Nanoseconds lostAt = r.runUntil(lockedAt + 60 * kS, locks);
  ASSERT_GT(lostAt, 0);
  ASSERT_FALSE(r.dut_->locked());
  ASSERT_TRUE(r.hasParent_) << "the grandmaster still announces";
  EXPECT_EQ(c.lockLosses, 1u);
  const Nanoseconds followUpBack = lostAt + 2 * kS;
  r.runUntil(followUpBack, never);
  r.master_->setFollowUp(true);
  began = -1;
  const Nanoseconds relockedAt = r.runUntil(followUpBack + 60 * kS, lockKeepingStart);
  ASSERT_GT(relockedAt, 0);
  ASSERT_GE(began, followUpBack);
  EXPECT_EQ(c.locks, 2u);
  EXPECT_EQ(c.lastAcquisitionNs, relockedAt - began);
  EXPECT_EQ(c.firstLockAt, lockedAt);

  // Silent (Announce too) until lock is lost, back before the slave drops it as parent: the
  // time it was followed but silent is no part of the acquisition.
  r.master_->setSilent(true);
  const Nanoseconds lost2 = r.runUntil(relockedAt + 60 * kS, locks);
  ASSERT_GT(lost2, 0);
  const Nanoseconds back = lost2 + kS;
  r.runUntil(back, never);
  ASSERT_TRUE(r.hasParent_) << "still the parent 1 s after lock was lost (before the announce timeout)";
  r.master_->setSilent(false);
  began = -1;
  const Nanoseconds relock2 = r.runUntil(back + 60 * kS, lockKeepingStart);
  ASSERT_GT(relock2, 0);
  ASSERT_GE(began, back);
  EXPECT_EQ(c.lastAcquisitionNs, relock2 - began);

  // Silent until the slave drops it, back 3 s later: acquired from its first sample then.
  r.master_->setSilent(true);
  ASSERT_GT(r.runUntil(relock2 + 60 * kS, locks), 0);
  const Nanoseconds orphan = r.runUntil(relock2 + 120 * kS, [&](const DutClockPoll&, Nanoseconds) { return !r.hasParent_; });
  ASSERT_GT(orphan, 0) << "the slave drops the silent grandmaster";
  const Nanoseconds back2 = orphan + 3 * kS;
  r.runUntil(back2, never);
  r.master_->setSilent(false);
  began = -1;
  const Nanoseconds relock3 = r.runUntil(back2 + 60 * kS, lockKeepingStart);
  ASSERT_GT(relock3, 0);
  ASSERT_GE(began, back2);
  EXPECT_EQ(c.lastAcquisitionNs, relock3 - began);
  EXPECT_EQ(c.lockLosses, 3u);
  EXPECT_EQ(c.locks, 4u);
  EXPECT_EQ(c.firstLockAt, lockedAt);
  std::printf("DutClock in virtual time: first lock %.3f s from the start (grandmaster at %.0f s), acquisitions ending at %.3f / %.3f / %.3f / %.3f s; the last %.3f s\n",
              lockedAt / 1e9, gmStart / 1e9, lockedAt / 1e9, relockedAt / 1e9, relock2 / 1e9, relock3 / 1e9, c.lastAcquisitionNs / 1e9);
}

// The DUT's clock steps once when it first locks (the gross offset) and never on a relock to
// a grandmaster on the same time: a restart of the grandmaster (silent until the slave drops
// it, back with the same identity and time) re-acquires with the path delay measured anew and
// relocks with the media clock slewed, not moved. A grandmaster back with its time moved by
// 50 us, 1 ms or 1 s is stepped to, once, by that much. Delivery jitter (exponential, mean
// 2 us) stands in for software time stamps.
TEST(DutClock, StepsOnceAtTheFirstLockAndNotOnARelockToTheSameTime) {
  DutClockRig r;
  Prng prng(11);
  r.network_.setImpairment([&prng](const VirtualPacket&, std::vector<Nanoseconds>& extra) {
    extra[0] = static_cast<Nanoseconds>(std::llround(prng.exponential(2'000)));
  });
  const DutClockCounters& c = r.dut_->counters();
  r.master_->setSilent(false);
  const Nanoseconds lockedAt = r.runUntil(60 * kS, locks);
  ASSERT_GT(lockedAt, 0);
  EXPECT_EQ(c.steps, 1u) << "the first lock steps once, the last step " << c.lastStepNs << " ns";
  r.runUntil(lockedAt + 10 * kS, never);
  Nanoseconds t = lockedAt + 10 * kS;
  for (const Nanoseconds moved : {Nanoseconds{0}, Nanoseconds{0}, Nanoseconds{50'000}, Nanoseconds{0}, Nanoseconds{-1'000'000}, Nanoseconds{1'000'000'000}}) {
    const std::uint64_t steps = c.steps;
    // The grandmaster restarts: silent until the slave drops it, back 1 s later (moved or not).
    r.master_->setSilent(true);
    const Nanoseconds orphan = r.runUntil(t + 60 * kS, [&](const DutClockPoll&, Nanoseconds) { return !r.hasParent_; });
    ASSERT_GT(orphan, 0);
    r.runUntil(orphan + kS, never);
    r.master_->stepTime(moved);
    r.master_->setSilent(false);
    const Nanoseconds relocked = r.runUntil(orphan + 60 * kS, [&](const DutClockPoll& p, Nanoseconds) { return p.lockChanged && r.dut_->locked(); });
    ASSERT_GT(relocked, 0) << moved;
    EXPECT_EQ(c.steps, steps + (moved != 0 ? 1 : 0)) << "moved " << moved << " ns; the last step " << c.lastStepNs << " ns";
    if (moved != 0) {
      EXPECT_NEAR(static_cast<double>(c.lastStepNs), static_cast<double>(moved), 10'000.0);
    }
    std::printf("grandmaster back %lld ns moved: relocked %.2f s after it was dropped, steps %llu (the last %lld ns)\n", static_cast<long long>(moved),
                (relocked - orphan) / 1e9, static_cast<unsigned long long>(c.steps), static_cast<long long>(c.lastStepNs));
    r.runUntil(relocked + 10 * kS, never);
    t = relocked + 10 * kS;
  }
}

}  // namespace
}  // namespace aes67
