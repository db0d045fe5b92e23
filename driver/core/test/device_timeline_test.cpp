// Zero time stamps: one per period, on the period's boundaries, latched, with host-time
// spacing that follows the media clock's rate (drift included) so the HAL's rate scalar is
// honest. Expected host times are computed here in long double from the clock's definition,
// independently of the integer arithmetic the clocks and the device use.
#include "driver/core/device_timeline.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "driver/core/device.hpp"
#include "driver/core/test/test_clocks.hpp"

namespace aes67 {
namespace {

constexpr std::uint32_t kPeriod = 16384;

// Nanoseconds one period lasts when media time runs at rate x (1 + ppm/1e6).
long double periodNs(std::uint32_t rate, double ppm) { return kPeriod * 1e9L / (rate * (1.0L + ppm / 1e6L)); }

// Walks host time in steps of `step` and collects each new stamp: the HAL calls
// GetZeroTimeStamp at least once per period; here several times per period.
std::vector<ZeroTimeStamp> walk(Device& d, Nanoseconds from, Nanoseconds to, Nanoseconds step) {
  std::vector<ZeroTimeStamp> stamps;
  for (Nanoseconds t = from; t < to; t += step) {
    const ZeroTimeStamp z = d.getZeroTimeStamp(t);
    // The stamp is the latest boundary at or before now, and the next one is after now.
    EXPECT_LE(z.hostTime, t);
    EXPECT_GT(d.timeline().hostTimeOf(z.sampleTime + kPeriod), t);
    if (stamps.empty() || z.sampleTime != stamps.back().sampleTime) stamps.push_back(z);
  }
  return stamps;
}

class ZeroTimeStamps : public ::testing::TestWithParam<std::tuple<std::uint32_t, double>> {};

TEST_P(ZeroTimeStamps, ArePeriodApartWithTheClocksRate) {
  const auto [rate, ppm] = GetParam();
  const Nanoseconds epoch = 123'456'789;  // media time 0 is not host time 0
  LocalMediaClock clock(rate, epoch, ppm);
  DeviceConfig c;
  c.sampleRate = rate;
  Device d(c, clock);
  const Nanoseconds start = 7'000'000'123;
  d.startIO(start);
  // Sample 0 is the first media sample at or after StartIO.
  EXPECT_GE(d.timeline().hostTimeOf(0), start);
  EXPECT_LT(d.timeline().hostTimeOf(-1), start);
  const long double expected = periodNs(rate, ppm);
  const Nanoseconds span = static_cast<Nanoseconds>(expected * 40);
  const std::vector<ZeroTimeStamp> stamps = walk(d, d.timeline().hostTimeOf(0), start + span, 1'000'000);
  ASSERT_GE(stamps.size(), 39u);
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    EXPECT_EQ(stamps[i].sampleTime, static_cast<SampleTime>(i) * kPeriod);  // every period, none skipped
    EXPECT_EQ(stamps[i].seed, stamps[0].seed);
    // Host time of the boundary from the clock's definition (ceil to the next nanosecond).
    const long double media = d.timeline().anchor() + stamps[i].sampleTime;
    const long double host = epoch + media * 1e9L / (rate * (1.0L + ppm / 1e6L));
    EXPECT_LE(std::fabs(static_cast<long double>(stamps[i].hostTime) - host), 1.0L) << "stamp " << i;
    if (i > 0) {
      EXPECT_LE(std::fabs(static_cast<long double>(stamps[i].hostTime - stamps[i - 1].hostTime) - expected), 1.0L);
    }
  }
  // Host ticks per frame and the rate scalar follow the clock's rate.
  EXPECT_NEAR(d.timeline().hostTicksPerFrame(), static_cast<double>(expected / kPeriod), 1e-4);
  // Stamps are whole nanoseconds: the spacing is exact to 2 ns per period.
  EXPECT_NEAR(d.timeline().rateScalar(), 1.0 + ppm / 1e6, static_cast<double>(2 / expected));
  EXPECT_EQ(d.timeline().stampsPublished(), stamps.size());
}

INSTANTIATE_TEST_SUITE_P(RatesAndDrift, ZeroTimeStamps,
                         ::testing::Combine(::testing::Values(44100u, 48000u, 96000u, 192000u, 384000u),
                                            ::testing::Values(0.0, 50.0, -80.0)));

TEST(ZeroTimeStamp, FollowsADriftEstimateThatChanges) {
  // A PTP servo's estimate: +20 ppm, then -35 ppm from 2 s on, then +5 ppm from 4 s on.
  test::PiecewiseDriftClock clock(48000, {{0, 20.0}, {2'000'000'000, -35.0}, {4'000'000'000, 5.0}});
  DeviceConfig c;
  Device d(c, clock);
  d.startIO(0);
  const std::vector<ZeroTimeStamp> stamps = walk(d, 0, 6'000'000'000, 500'000);
  ASSERT_GT(stamps.size(), 15u);
  int checked = 0;
  for (std::size_t i = 1; i < stamps.size(); ++i) {
    const Nanoseconds from = stamps[i - 1].hostTime;
    const Nanoseconds to = stamps[i].hostTime;
    // Periods entirely inside one segment last exactly what that segment's rate says.
    for (auto [begin, end, ppm] : {std::tuple{0LL, 2'000'000'000LL, 20.0}, std::tuple{2'000'000'000LL, 4'000'000'000LL, -35.0},
                                   std::tuple{4'000'000'000LL, 6'000'000'000LL, 5.0}}) {
      if (from >= begin && to <= end) {
        EXPECT_LE(std::fabs(static_cast<long double>(to - from) - periodNs(48000, ppm)), 1.0L) << "period " << i;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 15);
  // After the last change the device reports the last segment's rate.
  EXPECT_NEAR(d.timeline().rateScalar(), 1.0 + 5.0 / 1e6, static_cast<double>(2 / periodNs(48000, 5.0)));
}

// A clock whose estimate the test moves by hand, like a servo correcting mid-period.
class AdjustableClock final : public MediaClock {
 public:
  std::uint32_t sampleRate() const override { return 48000; }
  SampleTime sampleAt(Nanoseconds t) const override { return LocalMediaClock(48000, epoch, ppm).sampleAt(t); }
  Nanoseconds localTimeOf(SampleTime s) const override { return LocalMediaClock(48000, epoch, ppm).localTimeOf(s); }
  Nanoseconds epoch = 0;
  double ppm = 0;
};

TEST(ZeroTimeStamp, IsLatchedWhenFirstSeen) {
  AdjustableClock clock;
  DeviceConfig c;
  Device d(c, clock);
  d.startIO(0);
  const ZeroTimeStamp first = d.getZeroTimeStamp(400'000'000);  // inside period 1
  ASSERT_EQ(first.sampleTime, kPeriod);
  clock.epoch = 3'000;  // the estimate moves by 3 us
  clock.ppm = 10;
  const ZeroTimeStamp again = d.getZeroTimeStamp(400'000'001);
  EXPECT_EQ(again.sampleTime, first.sampleTime);
  EXPECT_EQ(again.hostTime, first.hostTime);  // the HAL's predictor never sees a stamp move
  const ZeroTimeStamp next = d.getZeroTimeStamp(700'000'000);  // period 2 uses the new estimate
  EXPECT_EQ(next.sampleTime, 2 * kPeriod);
  EXPECT_EQ(next.hostTime, clock.localTimeOf(d.timeline().anchor() + 2 * kPeriod));
}

TEST(ZeroTimeStamp, BeforeTheFirstBoundaryIsSampleZeroAndANewTimeLineHasANewSeed) {
  LocalMediaClock clock(48000);
  DeviceConfig c;
  Device d(c, clock);
  d.startIO(1'000'000'000);
  const ZeroTimeStamp z = d.getZeroTimeStamp(1'000'000'000);
  EXPECT_EQ(z.sampleTime, 0);
  EXPECT_EQ(z.hostTime, d.timeline().hostTimeOf(0));
  d.stopIO();
  d.startIO(2'000'000'000);
  const ZeroTimeStamp y = d.getZeroTimeStamp(2'000'000'000);
  EXPECT_EQ(y.sampleTime, 0);
  EXPECT_NE(y.seed, z.seed);
  EXPECT_GE(y.hostTime, 2'000'000'000);
  EXPECT_EQ(d.counters().zeroTimeStampCalls, 2u);
}

TEST(ZeroTimeStamp, SkippedPeriodsStillGiveTheTrueSpacing) {
  LocalMediaClock clock(48000, 0, 100.0);
  DeviceConfig c;
  Device d(c, clock);
  d.startIO(0);
  d.getZeroTimeStamp(0);
  d.getZeroTimeStamp(5'000'000'000);  // nobody asked for ~14 periods
  EXPECT_NEAR(d.timeline().rateScalar(), 1.0001, static_cast<double>(2 / periodNs(48000, 100.0)));
}

}  // namespace
}  // namespace aes67
