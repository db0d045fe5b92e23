// The path delay filter: median, rate recomputation, outliers, a real path change.
#include "engine/ptp/path_delay_filter.hpp"

#include <gtest/gtest.h>

namespace aes67 {
namespace {

// An exchange with t2 - t3 = `local` local ns and t4 - t1 chosen so that the mean path
// delay is `delay` when PTP time runs `ratio` times as fast as local time.
PathDelayExchange exchange(Nanoseconds delay, Nanoseconds local = -60'000'000, double ratio = 1.0) {
  return {local, static_cast<Nanoseconds>(2 * delay - static_cast<double>(local) * ratio)};
}

TEST(PathDelayFilter, MedianOfTheWindow) {
  PathDelayFilter f;
  EXPECT_FALSE(f.valid());
  for (Nanoseconds d : {20'000, 21'000, 19'000, 20'500, 30'000}) f.add(exchange(d), 1.0);
  EXPECT_TRUE(f.valid());
  EXPECT_EQ(f.delay(1.0), 20'500);
}

TEST(PathDelayFilter, RecomputesEveryExchangeAtTheCurrentRate) {
  PathDelayFilter f;
  // Measured while the slave believed the rate was 1.0, truly 1 + 100 ppm: the local
  // interval of 62.5 ms was worth 6.25 us more of PTP time.
  for (int i = 0; i < 5; ++i) f.add(exchange(20'000, -62'500'000, 1.0001), 1.0);
  EXPECT_EQ(f.delay(1.0001), 20'000);
  EXPECT_EQ(f.delay(1.0), 20'000 + 3'125) << "half of the 6.25 us rate error";
}

TEST(PathDelayFilter, RejectsOutliersAndFollowsARealChange) {
  PathDelayFilter f;
  for (int i = 0; i < 9; ++i) f.add(exchange(20'000 + (i % 3) * 200), 1.0);
  EXPECT_FALSE(f.add(exchange(500'000), 1.0)) << "a stalled Delay_Req, or a master time step between t1 and t4";
  EXPECT_FALSE(f.add(exchange(-400'000), 1.0));
  EXPECT_TRUE(f.add(exchange(22'000), 1.0)) << "within the 5 us floor";
  EXPECT_EQ(f.counters().rejected, 2u);
  // The path really changed: five in a row agree with each other, so the window restarts.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(f.add(exchange(80'000), 1.0));
  EXPECT_TRUE(f.add(exchange(80'000), 1.0));
  EXPECT_EQ(f.counters().resets, 1u);
  EXPECT_EQ(f.delay(1.0), 80'000);
  f.reset();
  EXPECT_FALSE(f.valid());
}

}  // namespace
}  // namespace aes67
