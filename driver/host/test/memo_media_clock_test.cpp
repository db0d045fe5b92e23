// MemoMediaClock answers exactly what its PTP media clock answers, repeats included, across
// the mapping's frequency changes and steps (the version its kept answers are keyed by).
#include "driver/host/memo_media_clock.hpp"

#include <gtest/gtest.h>

#include "engine/ptp/ptp_media_clock.hpp"
#include "engine/ptp/ptp_time_mapping.hpp"

namespace aes67 {
namespace {

TEST(MemoMediaClock, AnswersAsItsClockDoesThroughEveryMappingChange) {
  PtpTimeMapping mapping;
  const PtpMediaClock clock(mapping, 48000, 0);
  const MemoMediaClock memo(clock, mapping);
  EXPECT_EQ(memo.sampleRate(), 48000u);
  const Nanoseconds local = 5'000'000'123;
  const SampleTime sample = 240'017;
  for (int change = 0; change < 12; ++change) {
    // The same two questions several times (answers kept), before and after each change.
    for (int repeat = 0; repeat < 3; ++repeat) {
      ASSERT_EQ(memo.sampleAt(local), clock.sampleAt(local)) << "change " << change;
      ASSERT_EQ(memo.localTimeOf(sample), clock.localTimeOf(sample)) << "change " << change;
    }
    if (change % 2 == 0) mapping.setFrequency(local - 1'000'000, 25'000.0 * (change + 1));
    else mapping.step(local - 2'000'000, 20'833 * change);
  }
  // A new question after the same one: its own answer, not the kept one.
  EXPECT_EQ(memo.sampleAt(local + 1'000'000), clock.sampleAt(local + 1'000'000));
  EXPECT_EQ(memo.localTimeOf(sample + 48), clock.localTimeOf(sample + 48));
}

}  // namespace
}  // namespace aes67
