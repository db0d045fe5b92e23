// PtpTimeMapping and PtpMediaClock: continuity under servo updates, exact inverses, the
// AES67 / ST 2110-10 RTP timestamp.
#include "engine/ptp/ptp_media_clock.hpp"

#include <cmath>
#include <gtest/gtest.h>

#include "engine/base/prng.hpp"
#include "engine/ptp/ptp_time_mapping.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kEpoch = 1'767'225'600'000'000'000;  // 2026-01-01 on the PTP timescale

TEST(PtpTimeMapping, StaysContinuousWhenTheFrequencyChanges) {
  PtpTimeMapping m;
  m.step(0, kEpoch);
  Prng prng(3);
  Nanoseconds previous = m.ptpTimeAt(0);
  Nanoseconds local = 0;
  for (int i = 0; i < 100'000; ++i) {
    local += 1 + static_cast<Nanoseconds>(prng.below(2'000'000));
    if (prng.below(8) == 0) {
      const Nanoseconds before = m.ptpTimeAt(local);
      m.setFrequency(local, (prng.uniform() - 0.5) * 400'000);  // +-200 ppm
      ASSERT_EQ(m.ptpTimeAt(local), before) << "re-anchored where it was";
    }
    const Nanoseconds now = m.ptpTimeAt(local);
    ASSERT_GE(now, previous) << "PTP time never goes back between steps";
    previous = now;
  }
  EXPECT_EQ(m.steps(), 1u);
}

TEST(PtpTimeMapping, RunsAtItsFrequencyAndInvertsExactly) {
  PtpTimeMapping m;
  m.step(1'000, kEpoch);
  m.setFrequency(1'000, 100'000);  // PTP runs 100 ppm faster than local
  EXPECT_EQ(m.ptpTimeAt(1'000 + 1'000'000'000) - m.ptpTimeAt(1'000), 1'000'100'000);
  Prng prng(9);
  for (int i = 0; i < 100'000; ++i) {
    const Nanoseconds ptp = kEpoch + static_cast<Nanoseconds>(prng.below(3'600'000'000'000ull));
    const Nanoseconds local = m.localTimeOf(ptp);
    ASSERT_GE(m.ptpTimeAt(local), ptp);
    ASSERT_LT(m.ptpTimeAt(local - 1), ptp) << "the first local ns that reaches it";
  }
  m.step(5'000, -250);
  EXPECT_EQ(m.steps(), 2u);
}

// The inverse's one-mapping answer (ppb >= 0) is checked where it could go wrong: rates of
// a fraction of a ppb to 0 (the rounding's steps far apart) and far from the anchor, on both
// sides of it, for PTP times each local ns reaches and each it skips.
TEST(PtpTimeMapping, InvertsExactlyAtRatesNearZeroOnBothSidesOfTheAnchor) {
  Prng prng(17);
  for (double ppb : {0.0, 0.25, 0.5, 1.0, 3.0, 999.5, -0.25, -1.0, -3.0}) {
    PtpTimeMapping m;
    m.step(7'000, kEpoch);
    m.setFrequency(7'000, ppb);
    for (int i = 0; i < 20'000; ++i) {
      const Nanoseconds ptp = kEpoch + static_cast<Nanoseconds>(prng.below(7'200'000'000'000ull)) - 3'600'000'000'000;
      const Nanoseconds local = m.localTimeOf(ptp);
      ASSERT_GE(m.ptpTimeAt(local), ptp) << ppb;
      ASSERT_LT(m.ptpTimeAt(local - 1), ptp) << ppb << " the first local ns that reaches it";
    }
    // Where the rounding moves, a local ns repeats the PTP time before it (ppb < 0) or PTP
    // skips a ns (ppb > 0): each such time asked for exactly.
    if (ppb == 0.0) continue;
    int found = 0;
    for (int n = 0; n < 40; ++n) {
      const double at = (n + 0.5) * 1e9 / std::abs(ppb);
      for (Nanoseconds e = static_cast<Nanoseconds>(at) - 2; e <= static_cast<Nanoseconds>(at) + 2; ++e) {
        for (const Nanoseconds side : {e, -e}) {
          const Nanoseconds l = 7'000 + side;
          const Nanoseconds before = m.ptpTimeAt(l - 1);
          const Nanoseconds here = m.ptpTimeAt(l);
          if (here - before == 1) continue;
          ++found;
          for (const Nanoseconds ptp : {before, before + 1, here}) {
            const Nanoseconds local = m.localTimeOf(ptp);
            ASSERT_GE(m.ptpTimeAt(local), ptp) << ppb << " at " << side;
            ASSERT_LT(m.ptpTimeAt(local - 1), ptp) << ppb << " at " << side << ": the first local ns that reaches it";
          }
        }
      }
    }
    EXPECT_GT(found, 0) << ppb << ": no rounding step found to ask about";
  }
}

TEST(PtpMediaClock, SampleTimesAreExactInversesAtEveryRate) {
  PtpTimeMapping m;
  m.step(0, kEpoch + 123'456'789);
  m.setFrequency(0, -37'123.5);
  for (std::uint32_t rate : {44'100u, 48'000u, 88'200u, 96'000u, 192'000u, 384'000u}) {
    PtpMediaClock clock(m, rate);
    const SampleTime first = clock.sampleAt(0);
    for (SampleTime s = first; s < first + 20'000; s += 7) {
      const Nanoseconds t = clock.localTimeOf(s);
      ASSERT_EQ(clock.sampleAt(t), s) << rate;
      ASSERT_EQ(clock.sampleAt(t - 1), s - 1) << rate;
    }
  }
}

// AES67 / ST 2110-10: the RTP timestamp is (PTP seconds since the epoch x rate) + the
// mediaclk:direct= offset, mod 2^32. Checked against 128-bit arithmetic from PTP time.
TEST(PtpMediaClock, RtpTimestampIsPtpTimeTimesRatePlusTheMediaclkOffset) {
  PtpTimeMapping m;
  m.step(0, kEpoch);
  m.setFrequency(0, 12'345.0);
  Prng prng(11);
  for (std::uint32_t rate : {44'100u, 48'000u, 96'000u}) {
    const std::uint32_t offset = static_cast<std::uint32_t>(prng.next());
    PtpMediaClock clock(m, rate, offset);
    for (int i = 0; i < 10'000; ++i) {
      const Nanoseconds local = static_cast<Nanoseconds>(prng.below(86'400'000'000'000ull));
      const unsigned __int128 ptp = static_cast<unsigned __int128>(m.ptpTimeAt(local));
      const auto samples = static_cast<std::uint64_t>(ptp * rate / 1'000'000'000u);
      ASSERT_EQ(clock.rtpTimestampAt(local), static_cast<std::uint32_t>(samples + offset));
    }
  }
}

TEST(PtpMediaClock, DriftFollowsTheServoEstimateNotTheProportionalKicks) {
  PtpTimeMapping m;
  PtpMediaClock clock(m, 48'000);
  m.setFrequency(0, 100'700.0);  // the loop's output: estimate plus a proportional correction
  m.publishFrequencyEstimate(100'000.0);
  EXPECT_DOUBLE_EQ(clock.driftPpm(), 100.0);
  EXPECT_DOUBLE_EQ(clock.rateScalar(), 1.0001);
  EXPECT_THROW(PtpMediaClock(m, 0), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
