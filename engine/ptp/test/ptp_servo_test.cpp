// The servo's state machine and loop, fed synthetic offsets.
#include "engine/ptp/ptp_servo.hpp"

#include <gtest/gtest.h>

#include "engine/base/prng.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace aes67 {
namespace {

constexpr Nanoseconds kT = 125'000'000;  // sync interval -3

// Feeds `n` samples of `offset` 125 ms apart from `at`; returns the last action.
PtpServoAction feed(PtpServo& servo, Nanoseconds& at, Nanoseconds offset, int n, double& freq) {
  PtpServoAction a;
  for (int i = 0; i < n; ++i) {
    a = servo.sample(offset, at, kT, freq);
    if (a.setFrequency) freq = a.frequencyPpb;
    at += kT;
  }
  return a;
}

// A servo past acquisition, tracking with zero offsets.
PtpServo tracking(Nanoseconds& at, double& freq, const PtpServoConfig& config = {}) {
  PtpServo servo(config);
  feed(servo, at, 5'000'000, 1, freq);  // first sample: stepped
  feed(servo, at, 0, config.acquisitionSamples, freq);
  EXPECT_EQ(servo.state(), PtpServoState::kStepping);
  return servo;
}

// A servo locked on zero offsets for a full unlock window (so no earlier spike counts).
PtpServo lockedForAWindow(Nanoseconds& at, double& freq, const PtpServoConfig& config = {}) {
  PtpServo servo = tracking(at, freq, config);
  feed(servo, at, 0, config.unlockWindowSamples, freq);
  EXPECT_TRUE(isLocked(servo.state()));
  return servo;
}

TEST(PtpServo, RefusesConfigurationsWithoutHysteresis) {
  PtpServoConfig c;
  c.unlockThresholdNs = c.lockThresholdNs - 1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.stepThresholdNs = c.unlockThresholdNs;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.acquisitionSamples = 1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.lockOutliers = c.lockSamples;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.unlockWindowSamples = c.unlockSpikes - 1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
}

TEST(PtpServo, FirstSampleStepsThenTheFittedSlopeGivesTheFrequency) {
  PtpServo servo;
  Nanoseconds at = 1'000 * kT;
  PtpServoAction a = servo.sample(-1'767'225'600'000'000'000, at, kT, 0.0);
  EXPECT_TRUE(a.step);
  EXPECT_EQ(a.stepBy, 1'767'225'600'000'000'000);
  EXPECT_EQ(servo.state(), PtpServoState::kUnlocked);
  // The slave runs 50 ppm fast: the offset grows 50 ns per ms, plus noise.
  const Nanoseconds t0 = at + kT;
  for (int i = 0; i < 8; ++i) {
    const Nanoseconds t = t0 + i * kT;
    const Nanoseconds offset = static_cast<Nanoseconds>(50e-6 * static_cast<double>(t - t0)) + (i % 2 ? 40 : -40);
    a = servo.sample(offset, t, kT, 0.0);
    if (i < 7) {
      EXPECT_FALSE(a.step || a.setFrequency) << "the mapping is held still while acquiring";
    }
  }
  ASSERT_TRUE(a.setFrequency);
  EXPECT_NEAR(a.frequencyPpb, -50'000.0, 200.0);
  ASSERT_TRUE(a.step);
  EXPECT_NEAR(static_cast<double>(a.stepBy), -50e-6 * 7 * kT, 200.0) << "removes the offset fitted at the last sample";
  EXPECT_EQ(servo.state(), PtpServoState::kStepping);
  EXPECT_EQ(servo.counters().steps, 2u);
  EXPECT_NEAR(servo.frequencyEstimatePpb(), -50'000.0, 200.0);
}

TEST(PtpServo, PiLoopSlowsDownWhenAheadAndSpeedsUpWhenBehind) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServo servo = tracking(at, freq);
  const double before = servo.frequencyEstimatePpb();
  PtpServoAction a = servo.sample(1'000, at, kT, freq);
  EXPECT_LT(a.frequencyPpb, before);
  EXPECT_LT(servo.frequencyEstimatePpb(), before);
  a = servo.sample(-1'000, at + kT, kT, freq);
  a = servo.sample(-1'000, at + 2 * kT, kT, freq);
  EXPECT_GT(a.frequencyPpb, servo.frequencyEstimatePpb());
}

TEST(PtpServo, LocksOnlyAfterAFullWindowOfSmallOffsetsAndBecomesStable) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = tracking(at, freq, c);
  feed(servo, at, 500, c.lockSamples - 1, freq);
  EXPECT_EQ(servo.state(), PtpServoState::kStepping) << "one sample short of the window";
  feed(servo, at, 500, 1, freq);
  EXPECT_EQ(servo.state(), PtpServoState::kLocked);
  EXPECT_EQ(servo.counters().locks, 1u);
  EXPECT_GE(servo.lockedSince(), 0);
  feed(servo, at, 500, c.stableSamples - c.lockSamples - 1, freq);
  EXPECT_EQ(servo.state(), PtpServoState::kLocked) << "stable needs stableSamples";
  feed(servo, at, 500, 1, freq);
  EXPECT_EQ(servo.state(), PtpServoState::kLockedStable);
  EXPECT_STREQ(shortName(servo.state()), "s3");

  // One isolated offset above the lock threshold is forgiven; two in a row are not, nor
  // two apart.
  for (const auto& pattern : {std::vector<int>{5}, std::vector<int>{5, 6}, std::vector<int>{3, 9}}) {
    Nanoseconds at2 = 0;
    double freq2 = 0;
    PtpServo other = tracking(at2, freq2, c);
    for (int i = 0; i < c.lockSamples; ++i) {
      const bool out = std::find(pattern.begin(), pattern.end(), i) != pattern.end();
      feed(other, at2, out ? c.lockThresholdNs + 1 : 500, 1, freq2);
    }
    EXPECT_EQ(isLocked(other.state()), pattern.size() == 1) << "outliers at " << pattern[0];
  }
}

// The plant the servo steers: the slave's mapping runs at `freq` ppb, the master at
// `masterPpb`, so each interval the offset (slave - master) grows by their difference.
struct Plant {
  double offset = 0;
  double masterPpb = 0;
  void advance(double freqPpb) { offset += (freqPpb - masterPpb) * 1e-9 * static_cast<double>(kT); }
};

// Samples until the servo locks (or `limit`); returns how many it took.
int untilLocked(PtpServo& servo, Plant& plant, Nanoseconds& at, double& freq, int limit) {
  int n = 0;
  while (!isLocked(servo.state()) && n < limit) {
    const PtpServoAction a = servo.sample(std::llround(plant.offset), at, kT, freq);
    if (a.setFrequency) freq = a.frequencyPpb;
    plant.advance(freq);
    at += kT;
    ++n;
  }
  return n;
}

// Acquisition fits the frequency from 8 samples; with software time stamps on a loaded host
// that fit was 10-20 ppm off in the ptp-lock bench's slow trials, and the loop's quiet
// locked-state integral took 8-20 s to pull it in. While stepping it pulls in at linuxptp's
// per-sample gain: the lock window (2 s) plus ~1-2 s.
TEST(PtpServo, AFrequencyErrorLeftByAcquisitionIsPulledInWithinAFewSeconds) {
  const PtpServoConfig c;
  for (const double error : {5'000.0, 10'000.0, 20'000.0, -20'000.0, 40'000.0}) {
    Nanoseconds at = 0;
    double freq = 0;
    PtpServo servo = tracking(at, freq, c);  // acquisition fitted 0 ppb
    Plant plant{0, error};                   // the master really runs `error` off
    const int n = untilLocked(servo, plant, at, freq, 400);
    EXPECT_TRUE(isLocked(servo.state())) << error << " ppb";
    EXPECT_LE(n * kT, 5'000'000'000) << error << " ppb: locked after " << n << " samples";
    // Locked with what the threshold lets through (a few ppm); the quiet loop finishes the
    // job without losing the lock.
    for (int i = 0; i < 160; ++i) {
      const PtpServoAction a = servo.sample(std::llround(plant.offset), at, kT, freq);
      if (a.setFrequency) freq = a.frequencyPpb;
      plant.advance(freq);
      at += kT;
    }
    EXPECT_EQ(servo.counters().lockLosses, 0u) << error << " ppb";
    EXPECT_NEAR(servo.frequencyEstimatePpb(), error, 1'000.0) << error << " ppb, 20 s after the lock";
  }
}

// One late Sync while pulling in (65 us: software stamps on a loaded host, seen in the
// ptp-lock bench) is an isolated outlier the lock window forgives; fed to the loop whole it
// pulled the clock ~10 us off for the next samples and cost the lock a second or more.
TEST(PtpServo, OneLateSyncWhilePullingInDoesNotDelayTheLock) {
  const PtpServoConfig c;
  Nanoseconds at = 0;
  double freq = 0;
  PtpServo servo = tracking(at, freq, c);
  Plant plant;
  int n = 0;
  while (!isLocked(servo.state()) && n < 400) {
    const Nanoseconds measured = std::llround(plant.offset) + (n == 4 ? 65'000 : 0);
    const PtpServoAction a = servo.sample(measured, at, kT, freq);
    if (a.setFrequency) freq = a.frequencyPpb;
    plant.advance(freq);
    at += kT;
    ++n;
  }
  EXPECT_EQ(n, c.lockSamples) << "locked at the first full window, the late Sync forgiven";
  EXPECT_LT(std::abs(plant.offset), 5'000.0) << "the late Sync moved the clock by little";
}

// Locked, the integral moves ki x offset x interval a sample (the quiet estimate the
// driver's rate scalar follows), as before the pull-in gain was added.
TEST(PtpServo, LockedTheIntegralMovesKiTimesOffsetTimesInterval) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServo servo = tracking(at, freq);
  feed(servo, at, 0, PtpServoConfig{}.lockSamples, freq);
  ASSERT_TRUE(isLocked(servo.state()));
  const double before = servo.frequencyEstimatePpb();
  servo.sample(1'000, at, kT, freq);
  const double seconds = static_cast<double>(kT) * 1e-9;
  const double ki = std::min(0.3 * std::pow(seconds, 0.4), 0.3 / seconds);
  EXPECT_NEAR(servo.frequencyEstimatePpb() - before, -ki * 1'000 * seconds, 1e-6);
}

TEST(PtpServo, ASpikeIsHeldBackRecurringSpikesUnlock) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = lockedForAWindow(at, freq, c);
  const double estimate = servo.frequencyEstimatePpb();
  PtpServoAction a = servo.sample(c.unlockThresholdNs + 5'000, at, kT, freq);
  at += kT;
  EXPECT_FALSE(a.setFrequency || a.step) << "a single spike does not pull the clock";
  EXPECT_EQ(servo.frequencyEstimatePpb(), estimate);
  EXPECT_TRUE(isLocked(servo.state()));
  EXPECT_EQ(servo.counters().spikes, 1u);
  // A master whose every 4th Sync is off (ptp_simulation_test's case): unlocked by the
  // unlockSpikes-th within unlockWindowSamples, not before.
  for (int spike = 2; spike <= c.unlockSpikes; ++spike) {
    EXPECT_TRUE(isLocked(servo.state())) << "spike " << spike;
    feed(servo, at, 0, 3, freq);
    servo.sample(spike % 2 ? c.unlockThresholdNs + 5'000 : -(c.unlockThresholdNs + 5'000), at, kT, freq);
    at += kT;
  }
  EXPECT_EQ(servo.state(), PtpServoState::kStepping) << "unlockSpikes spikes within unlockWindowSamples";
  EXPECT_EQ(servo.counters().lockLosses, 1u);
}

// Recorded from the software DUT's status during a HIL run on a loaded 2-core host (the
// lab's grandmaster and the DUT over veth): three Syncs 24-59 us late within 0.7 s, the
// ones between them within 2 us. The host's, not the clock's: the lock holds (the old rule,
// 3 spikes within 16 samples, unlocked here) and the loop does not follow them.
TEST(PtpServo, ABurstOfLateSyncsBetweenGoodOnesKeepsTheLock) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = lockedForAWindow(at, freq, c);
  const double estimate = servo.frequencyEstimatePpb();
  for (const Nanoseconds offset : {-5'814, 26'661, 1'427, -472, 23'938, 6'906, -1'358, 59'164, -2'548, 118}) {
    servo.sample(offset, at, kT, freq);
    at += kT;
    EXPECT_TRUE(isLocked(servo.state())) << "after " << offset;
  }
  EXPECT_EQ(servo.counters().spikes, 3u);
  EXPECT_EQ(servo.counters().lockLosses, 0u);
  EXPECT_NEAR(servo.frequencyEstimatePpb(), estimate, 100.0) << "the late Syncs did not pull the frequency";
}

// Offsets beyond the unlock threshold that persist are not noise: the master's time (or
// ours) moved by more than the lock window. Unlocked at the stepConfirmSamples-th in a row.
TEST(PtpServo, SpikesThatPersistUnlock) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = lockedForAWindow(at, freq, c);
  const auto steps = servo.counters().steps;
  for (int i = 1; i < c.stepConfirmSamples; ++i) {
    feed(servo, at, 50'000, 1, freq);
    EXPECT_TRUE(isLocked(servo.state())) << "held back: " << i << " in a row";
  }
  feed(servo, at, 50'000, 1, freq);
  EXPECT_FALSE(isLocked(servo.state())) << "a 50 us offset that persists";
  EXPECT_EQ(servo.counters().lockLosses, 1u);
  EXPECT_EQ(servo.counters().steps, steps) << "below the step threshold: pulled in, not stepped";
}

TEST(PtpServo, ALargeOffsetIsSteppedOnlyOnceItPersists) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = tracking(at, freq, c);
  feed(servo, at, 0, c.lockSamples, freq);
  const auto steps = servo.counters().steps;
  PtpServoAction a;
  for (int i = 0; i < c.stepConfirmSamples - 1; ++i) {
    a = servo.sample(2'000'000, at, kT, freq);
    at += kT;
    EXPECT_FALSE(a.step);
  }
  a = servo.sample(2'000'000, at, kT, freq);
  EXPECT_TRUE(a.step);
  EXPECT_EQ(a.stepBy, -2'000'000);
  EXPECT_EQ(servo.counters().steps, steps + 1);
  EXPECT_EQ(servo.state(), PtpServoState::kStepping);
  EXPECT_EQ(servo.counters().lockLosses, 1u);
  // An isolated large offset between normal ones never steps.
  feed(servo, at, 0, 5, freq);
  servo.sample(2'000'000, at, kT, freq);
  feed(servo, at, 0, 5, freq);
  EXPECT_EQ(servo.counters().steps, steps + 1);
}

// A slave clock the servo steers, steps included: its true error (slave - master) moves each
// interval by the servo's frequency less the master's; measured with seeded Gaussian noise.
struct SteppedPlant {
  SteppedPlant(double truthNs, double master, double noiseSd, std::uint64_t seed)
      : truth(truthNs), masterPpb(master), noiseSdNs(noiseSd), prng(seed) {}
  double truth;
  double masterPpb;
  double noiseSdNs;
  Prng prng;
  std::vector<Nanoseconds> steps;
  PtpServoAction sample(PtpServo& servo, Nanoseconds& at, double& freq, const PtpFitCorrection* correction = nullptr) {
    const PtpServoAction a = servo.sample(std::llround(truth + prng.normal() * noiseSdNs), at, kT, freq, correction);
    if (a.step) {
      truth += static_cast<double>(a.stepBy);
      steps.push_back(a.stepBy);
    }
    if (a.setFrequency) freq = a.frequencyPpb;
    truth += (freq - masterPpb) * 1e-9 * static_cast<double>(kT);
    at += kT;
    return a;
  }
  // Samples until locked (or `limit`); how many it took.
  int untilLocked(PtpServo& servo, Nanoseconds& at, double& freq, int limit) {
    int n = 0;
    while (!isLocked(servo.state()) && n++ < limit) sample(servo, at, freq);
    return n;
  }
  // Locked and tracking for 10 s more: a servo to take a grandmaster restart.
  void lockAndTrack(PtpServo& servo, Nanoseconds& at, double& freq) {
    untilLocked(servo, at, freq, 400);
    for (int i = 0; i < 80; ++i) sample(servo, at, freq);
  }
};

// A fresh acquisition steps once, at its first sample (the gross offset). The fit's residual
// -- that sample's noise, plus the drift while the mapping was held, a few us here -- is left
// to the loop, the fitted frequency applied; the lock comes as soon as before (the lock window
// after acquisition: 1 + 8 + 16 samples, a few more on noise).
TEST(PtpServo, AFreshAcquisitionStepsOnce) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    PtpServo servo;
    SteppedPlant plant(3'000'000, seed % 2 ? 5'000.0 : -5'000.0, 2'000, seed);
    Nanoseconds at = 0;
    double freq = 0;
    const int n = plant.untilLocked(servo, at, freq, 400);
    ASSERT_TRUE(isLocked(servo.state())) << "seed " << seed;
    EXPECT_LE(n, 40) << "seed " << seed;
    ASSERT_EQ(plant.steps.size(), 1u) << "seed " << seed << ": stepped " << plant.steps.size() << " times, the last by " << plant.steps.back();
    EXPECT_EQ(servo.counters().steps, 1u);
    EXPECT_LT(std::fabs(plant.truth), 10'000.0) << "seed " << seed;
  }
}

// A grandmaster restart (same identity, same time): the servo is reset and re-acquires. The
// clock is still on time -- offsets of a few us are noise -- so nothing steps: the first
// sample is within stepThresholdNs and the fit's residual within unlockThresholdNs.
TEST(PtpServo, ARelockToTheSameTimeDoesNotStep) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    PtpServo servo;
    SteppedPlant plant(3'000'000, 2'000, 3'000, seed);
    Nanoseconds at = 0;
    double freq = 0;
    plant.lockAndTrack(servo, at, freq);
    ASSERT_TRUE(isLocked(servo.state()));
    const auto steps = servo.counters().steps;
    servo.reset();
    plant.untilLocked(servo, at, freq, 400);
    EXPECT_TRUE(isLocked(servo.state())) << "seed " << seed;
    EXPECT_EQ(servo.counters().locks, 2u);
    EXPECT_EQ(servo.counters().steps, steps) << "seed " << seed << ": stepped by " << plant.steps.back() << " on relocking";
  }
}

// A relock to a grandmaster whose time did move still steps, once: 50 us (beyond
// unlockThresholdNs, within stepThresholdNs: the fit's residual is stepped), 1 ms and 1 s
// (the first sample is stepped, the fit's residual is noise).
TEST(PtpServo, ARelockToAMovedTimeStepsOnce) {
  for (const double moved : {50'000.0, -50'000.0, 1e6, 1e9}) {
    PtpServo servo;
    SteppedPlant plant(3'000'000, 2'000, 3'000, 3);
    Nanoseconds at = 0;
    double freq = 0;
    plant.untilLocked(servo, at, freq, 400);
    ASSERT_TRUE(isLocked(servo.state()));
    servo.reset();
    plant.truth += moved;
    const auto steps = servo.counters().steps;
    plant.untilLocked(servo, at, freq, 400);
    EXPECT_TRUE(isLocked(servo.state())) << moved;
    EXPECT_EQ(servo.counters().steps, steps + 1) << moved << " ns";
    EXPECT_NEAR(static_cast<double>(plant.steps.back()), -moved, 10'000.0) << moved << " ns";
    EXPECT_LT(std::fabs(plant.truth), 10'000.0) << moved << " ns";
  }
}

// The same two relocks on the stamps of a ptp4l just restarted on a loaded host (sd 7 us, the
// ptp-lock live test's measure): a clock that held over 12 us off (drift, a changed path
// delay) is slewed, not stepped by the fit's noise -- judged against unlockThresholdNs alone,
// ~10 % of such relocks step 20-35 us; one whose master moved by 70 us is still stepped, once.
// The fit's standard error, on average over the seeds, is the least-squares end-point error
// 8 samples of that noise give (0.65 x 7 us), within 20 %.
TEST(PtpServo, ARelockOnNoisyStampsStepsOnlyWhatTheFitShows) {
  constexpr double kNoiseSd = 7'000;
  constexpr int kSeeds = 200;
  for (const double moved : {12'000.0, -12'000.0, 70'000.0, -70'000.0}) {
    int stepped = 0;
    double sumStandardError = 0;
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
      PtpServo servo;
      SteppedPlant plant(3'000'000, 2'000, 2'000, seed);
      Nanoseconds at = 0;
      double freq = 0;
      plant.lockAndTrack(servo, at, freq);
      ASSERT_TRUE(isLocked(servo.state())) << "seed " << seed;
      servo.reset();
      plant.truth += moved;
      plant.noiseSdNs = kNoiseSd;
      const auto steps = servo.counters().steps;
      for (int i = 0; i < PtpServoConfig{}.acquisitionSamples; ++i) plant.sample(servo, at, freq);
      ASSERT_EQ(servo.state(), PtpServoState::kStepping) << "seed " << seed;
      const PtpAcquisitionFit& fit = servo.lastAcquisition();
      sumStandardError += fit.standardErrorNs;
      EXPECT_EQ(fit.stepped, servo.counters().steps > steps) << "seed " << seed;
      if (fit.stepped) ++stepped;
      plant.untilLocked(servo, at, freq, 800);
      EXPECT_TRUE(isLocked(servo.state())) << moved << " ns, seed " << seed;
      EXPECT_LT(std::fabs(plant.truth), 20'000.0) << moved << " ns, seed " << seed;
    }
    EXPECT_NEAR(sumStandardError / kSeeds, 0.65 * kNoiseSd, 0.2 * 0.65 * kNoiseSd) << moved << " ns";
    EXPECT_EQ(stepped, std::fabs(moved) < 20'000 ? 0 : kSeeds) << "of " << kSeeds << " relocks " << moved << " ns off";
  }
}

// What the held delay was wrong by joins the fit's residual: a relock whose offsets say 3 us
// but whose delay, once the frequency is known, moves the time by 30 us more steps by the
// sum; one that moves it by 2 us does not step. The correction is asked at the fitted
// frequency.
TEST(PtpServo, TheFitsResidualIsJudgedWithTheFitCorrection) {
  struct Correction final : PtpFitCorrection {
    Nanoseconds by = 0;
    mutable double askedAt = 0;
    Nanoseconds offsetCorrection(double frequencyPpb) const override {
      askedAt = frequencyPpb;
      return by;
    }
  };
  for (const Nanoseconds by : {Nanoseconds{30'000}, Nanoseconds{2'000}}) {
    Nanoseconds at = 0;
    double freq = 0;
    PtpServo servo = tracking(at, freq);
    servo.reset();
    Correction correction;
    correction.by = by;
    PtpServoAction a;
    for (int i = 0; i < PtpServoConfig{}.acquisitionSamples; ++i) {
      a = servo.sample(3'000, at, kT, 1'000.0, &correction);
      at += kT;
    }
    ASSERT_TRUE(a.setFrequency);
    EXPECT_EQ(correction.askedAt, a.frequencyPpb);
    EXPECT_EQ(a.step, by > 10'000) << by;
    if (a.step) {
      EXPECT_EQ(a.stepBy, -(3'000 + by));
    }
    // The status's account of it: the correction's share, and no scatter in these samples.
    const PtpAcquisitionFit& fit = servo.lastAcquisition();
    EXPECT_EQ(fit.correctionNs, static_cast<double>(by));
    EXPECT_EQ(fit.residualNs, static_cast<double>(3'000 + by));
    EXPECT_EQ(fit.standardErrorNs, 0.0);
    EXPECT_EQ(fit.stepped, a.step);
  }
}

TEST(PtpServo, SamplesThatStopUnlockAndResetKeepsTheFrequency) {
  Nanoseconds at = 0;
  double freq = 0;
  PtpServoConfig c;
  PtpServo servo = tracking(at, freq, c);
  feed(servo, at, 0, c.lockSamples, freq);
  ASSERT_TRUE(isLocked(servo.state()));
  const Nanoseconds last = at - kT;
  EXPECT_EQ(servo.timeoutAt(), last + 1'000'000'000) << "max(1 s, 8 sync intervals)";
  EXPECT_FALSE(servo.checkTimeout(last + 1'000'000'000));
  EXPECT_TRUE(servo.checkTimeout(last + 1'000'000'001));
  EXPECT_EQ(servo.state(), PtpServoState::kUnlocked);
  EXPECT_EQ(servo.counters().sampleTimeouts, 1u);
  EXPECT_EQ(servo.counters().lockLosses, 1u);
  const double estimate = servo.frequencyEstimatePpb();
  servo.reset();
  EXPECT_EQ(servo.state(), PtpServoState::kUnlocked);
  EXPECT_EQ(servo.frequencyEstimatePpb(), estimate);
  // After a reset small offsets are not stepped, only acquired.
  const PtpServoAction a = servo.sample(3'000, at, kT, freq);
  EXPECT_FALSE(a.step);
}

}  // namespace
}  // namespace aes67
