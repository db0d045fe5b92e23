// DutClock's lock figures, in virtual time against the engine's SimulatedMaster: the first
// lock counts from the clock's start (time with no grandmaster included), the latest lock's
// acquisition from when the slave had a grandmaster and no lock. Each expected figure is
// what the test saw at the polls themselves (the first poll with a parent, the poll that
// lost lock), not a typed-in number.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "driver/host/dut_clock.hpp"
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
      if (dut_->slave()->status().hasParent && parentSince_ < 0) parentSince_ = now;
      if (!dut_->slave()->status().hasParent) parentSince_ = -1;
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
  // The first poll of the current stretch in which the slave had a parent (-1: none now).
  Nanoseconds parentSince_ = -1;
};

const auto locks = [](const DutClockPoll& p, Nanoseconds) { return p.lockChanged; };

TEST(DutClock, AcquisitionLeavesOutTheWaitWithNoGrandmasterAndRestartsWithEachLock) {
  DutClockRig r;
  const DutClockCounters& c = r.dut_->counters();
  // No grandmaster for 5 s: nothing to acquire.
  const Nanoseconds gmStart = 5 * kS;
  EXPECT_EQ(r.runUntil(gmStart, [](const DutClockPoll&, Nanoseconds) { return false; }), -1);
  EXPECT_EQ(c.firstLockAt, -1);
  EXPECT_EQ(c.lastAcquisitionNs, -1);

  r.master_->setSilent(false);
  Nanoseconds parentAt = -1;
  const Nanoseconds lockedAt = r.runUntil(gmStart + 60 * kS, [&](const DutClockPoll& p, Nanoseconds) {
    if (parentAt < 0) parentAt = r.parentSince_;
    return p.lockChanged;
  });
  ASSERT_GT(lockedAt, 0) << "the DUT's slave locked to the simulated grandmaster";
  ASSERT_TRUE(r.dut_->locked());
  ASSERT_GE(parentAt, gmStart);
  EXPECT_EQ(c.firstLockAt, lockedAt);
  EXPECT_EQ(c.lastAcquisitionNs, lockedAt - parentAt);
  // The first lock since the start holds the 5 s with no grandmaster; the acquisition does not.
  EXPECT_GE(c.firstLockAt - c.startedAt, gmStart + c.lastAcquisitionNs);

  // Lock lost with the grandmaster still there (no Follow_Up: no samples), then back: the
  // acquisition counts from the poll that lost lock.
  r.runUntil(lockedAt + 5 * kS, [](const DutClockPoll&, Nanoseconds) { return false; });
  r.master_->setFollowUp(false);
  const Nanoseconds lostAt = r.runUntil(lockedAt + 60 * kS, locks);
  ASSERT_GT(lostAt, 0);
  ASSERT_FALSE(r.dut_->locked());
  ASSERT_GE(r.parentSince_, 0) << "the grandmaster still announces";
  EXPECT_EQ(c.lockLosses, 1u);
  r.master_->setFollowUp(true);
  const Nanoseconds relockedAt = r.runUntil(lostAt + 60 * kS, locks);
  ASSERT_GT(relockedAt, 0);
  EXPECT_EQ(c.locks, 2u);
  EXPECT_EQ(c.lastAcquisitionNs, relockedAt - lostAt);
  EXPECT_EQ(c.firstLockAt, lockedAt);

  // The grandmaster goes silent: lock lost, then the parent; while there is none nothing is
  // acquired, and the next acquisition counts from the first poll with the grandmaster back.
  r.master_->setSilent(true);
  const Nanoseconds lost2 = r.runUntil(relockedAt + 60 * kS, locks);
  ASSERT_GT(lost2, 0);
  const Nanoseconds orphan = r.runUntil(lost2 + 60 * kS, [&](const DutClockPoll&, Nanoseconds) { return r.parentSince_ < 0; });
  ASSERT_GT(orphan, 0) << "the slave drops the silent grandmaster";
  const Nanoseconds back = orphan + 3 * kS;
  r.runUntil(back, [](const DutClockPoll&, Nanoseconds) { return false; });
  r.master_->setSilent(false);
  Nanoseconds parent3 = -1;
  const Nanoseconds relock2 = r.runUntil(back + 60 * kS, [&](const DutClockPoll& p, Nanoseconds) {
    if (parent3 < 0) parent3 = r.parentSince_;
    return p.lockChanged;
  });
  ASSERT_GT(relock2, 0);
  ASSERT_GE(parent3, back);
  EXPECT_EQ(c.lastAcquisitionNs, relock2 - parent3);
  EXPECT_EQ(c.lockLosses, 2u);
  EXPECT_EQ(c.firstLockAt, lockedAt);
}

}  // namespace
}  // namespace aes67
