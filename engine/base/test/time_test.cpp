#include "engine/base/time.hpp"

#include <gtest/gtest.h>

#include "engine/base/clock.hpp"

namespace aes67 {
namespace {

TEST(Time, SamplesAndNanosecondsConvertExactly) {
  EXPECT_EQ(samplesToNanos(48, 48000), 1'000'000);
  EXPECT_EQ(samplesToNanos(6, 48000), 125'000);
  EXPECT_EQ(samplesToNanos(441, 44100), 10'000'000);
  // 24 hours at 384 kHz does not overflow.
  EXPECT_EQ(samplesToNanos(384000LL * 86400, 384000), 86400LL * kNanosPerSecond);
  EXPECT_EQ(nanosToSamples(1'000'000, 48000), 48);
  EXPECT_EQ(nanosToSamples(1'020'000, 48000), 48) << "floor, not round";
  EXPECT_EQ(nanosToSamples(-1, 48000), -1) << "floor below zero";
  EXPECT_EQ(nanosToSamples(-20'833, 48000), -1);
  EXPECT_EQ(nanosToSamples(-20'834, 48000), -2);
  for (SampleTime s = -1000; s < 1000; ++s) EXPECT_EQ(nanosToSamples(samplesToNanos(s, 44100), 44100), s);
}

TEST(Time, RtpTimestampComparisonsHoldAcrossTheWrap) {
  EXPECT_EQ(rtpTimestampDiff(10, 0xFFFFFFF6u), 20);
  EXPECT_EQ(rtpTimestampDiff(0xFFFFFFF6u, 10), -20);
  EXPECT_TRUE(rtpTimestampBefore(0xFFFFFF00u, 0x100));
  EXPECT_FALSE(rtpTimestampBefore(0x100, 0xFFFFFF00u));
  EXPECT_FALSE(rtpTimestampBefore(5, 5));
  EXPECT_TRUE(rtpTimestampBefore(0x7FFFFFFFu, 0x80000000u));
}

TEST(Time, SequenceComparisonsHoldAcrossTheWrap) {
  EXPECT_EQ(sequenceDiff(2, 65534), 4);
  EXPECT_EQ(sequenceDiff(65534, 2), -4);
  EXPECT_TRUE(sequenceBefore(65535, 0));
  EXPECT_FALSE(sequenceBefore(0, 65535));
  EXPECT_TRUE(sequenceBefore(100, 101));
}

TEST(Time, UnwrappersExtendAcrossManyWraps) {
  SequenceUnwrapper seq;
  std::int64_t expected = 65530;
  std::uint16_t s = 65530;
  for (int i = 0; i < 200'000; ++i) {
    ASSERT_EQ(seq.unwrap(s), expected);
    ++s;
    ++expected;
  }
  // A reordered (older) value maps below the reference and does not move it.
  EXPECT_EQ(seq.unwrap(static_cast<std::uint16_t>(s - 3)), expected - 3);
  EXPECT_EQ(seq.unwrap(s), expected);

  RtpTimestampUnwrapper ts;
  EXPECT_EQ(ts.unwrap(0xFFFFFF00u), 0xFFFFFF00LL);
  EXPECT_EQ(ts.unwrap(0x100u), 0x100000100LL);
  EXPECT_EQ(ts.unwrap(0xFFFFFFF0u), 0xFFFFFFF0LL) << "late packet from before the wrap";
}

TEST(VirtualClock, MovesOnlyForward) {
  VirtualClock clock(100);
  EXPECT_EQ(clock.now(), 100);
  clock.advanceBy(50);
  EXPECT_EQ(clock.now(), 150);
  clock.advanceTo(150);
  EXPECT_THROW(clock.advanceTo(149), std::invalid_argument);
  EXPECT_EQ(clock.now(), 150);
}

TEST(RealClock, IsMonotonic) {
  RealClock clock;
  Nanoseconds last = clock.now();
  for (int i = 0; i < 10000; ++i) {
    const Nanoseconds t = clock.now();
    ASSERT_GE(t, last);
    last = t;
  }
}

}  // namespace
}  // namespace aes67
