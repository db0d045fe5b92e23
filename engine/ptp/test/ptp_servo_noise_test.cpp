// The servo's noise-aware lock window and its false-lock guard, with a simulated clock
// whose true error the test knows: offsets are the truth plus seeded measurement noise
// (software time stamps on a busy host: the ptp-lock bench saw +/-16 us on veth). Lock must
// come with the truth within the window in use -- lockThresholdNs while the noise allows it,
// the widened window beyond -- and the steadiness guard must keep a clock trending or
// stepped through the window from locking where single offsets would let it. And locked, the
// gains narrowed to the noise must cut the clock's true error, keep the loop damped and still
// follow a frequency change.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/ptp/ptp_servo.hpp"
#include "engine/ptp/test/sample_quantile.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kT = 125'000'000;  // sync interval -3

enum class Noise { kUniform, kGaussian };

// Measurement noise: uniform in +/-amplitude, or Gaussian with sd = amplitude / 2 (so that
// +/-amplitude holds 95 %).
struct NoiseSource {
  Noise kind;
  double amplitudeNs;
  Prng prng;
  double next() {
    if (amplitudeNs == 0) return 0;
    return kind == Noise::kUniform ? (2 * prng.uniform() - 1) * amplitudeNs : prng.normal() * amplitudeNs / 2;
  }
};

// The slave clock the servo steers: its true error (slave - master) moves each interval by
// the servo's frequency less the master's; a step moves it at once.
struct Clock {
  double truthNs = 0;
  double masterPpb = 0;
  void apply(const PtpServoAction& a) {
    if (a.step) truthNs += static_cast<double>(a.stepBy);
  }
  void advance(double freqPpb) { truthNs += (freqPpb - masterPpb) * 1e-9 * static_cast<double>(kT); }
};

struct LockRun {
  int samples = -1;          // samples from the first until the lock (-1: none within the limit)
  int samplesAfterStep = -1; // from the acquisition step (the window cannot start before)
  double truthAtLockNs = 0;  // the clock's true error at the sample that locked
  double maxTruthAfterNs = 0;// the largest |truth| in the 16 samples after the lock
  double windowNs = 0;       // the lock window then
  double noiseNs = 0;        // the noise the servo measured then
};

// A fresh servo on a clock 3 ms off, to its first lock. Acquisition fits the master's
// frequency from its samples; `leftPpb` is what its fit missed (the master's frequency moves
// by that at the acquisition step: the bench saw 10-20 ppm fits on a loaded host).
LockRun closedLoop(const PtpServoConfig& config, double leftPpb, NoiseSource noise, int limit = 800) {
  PtpServo servo(config);
  Clock clock{3'000'000, 0};
  double freq = 0;
  Nanoseconds at = 1'000 * kT;
  LockRun r;
  int stepAt = -1;
  for (int n = 0; n < limit; ++n) {
    const double truth = clock.truthNs;
    const PtpServoAction a = servo.sample(std::llround(truth + noise.next()), at, kT, freq);
    clock.apply(a);
    if (a.setFrequency) freq = a.frequencyPpb;
    if (stepAt < 0 && servo.state() == PtpServoState::kStepping) {
      stepAt = n;
      clock.masterPpb += leftPpb;
    }
    clock.advance(freq);
    at += kT;
    if (isLocked(servo.state())) {
      r.samples = n + 1;
      r.samplesAfterStep = n - stepAt;
      r.truthAtLockNs = truth;
      r.windowNs = servo.lockWindowNs();
      r.noiseNs = servo.measurementNoiseNs();
      for (int i = 0; i < 16; ++i) {
        r.maxTruthAfterNs = std::max(r.maxTruthAfterNs, std::fabs(clock.truthNs));
        const PtpServoAction b = servo.sample(std::llround(clock.truthNs + noise.next()), at, kT, freq);
        clock.apply(b);
        if (b.setFrequency) freq = b.frequencyPpb;
        clock.advance(freq);
        at += kT;
      }
      return r;
    }
  }
  return r;
}

// A servo past acquisition (stepping, pulling in) on a clean clock.
PtpServo pastAcquisition(Nanoseconds& at, double& freq, const PtpServoConfig& config = {}) {
  PtpServo servo(config);
  for (int i = 0; i <= config.acquisitionSamples; ++i) {
    const PtpServoAction a = servo.sample(i == 0 ? 5'000'000 : 0, at, kT, freq);
    if (a.setFrequency) freq = a.frequencyPpb;
    at += kT;
  }
  EXPECT_EQ(servo.state(), PtpServoState::kStepping);
  return servo;
}

// Feeds scripted offsets (the servo's actions ignored: a clock that does not follow it, so
// the script is the truth plus noise); returns the index of the lock, or -1.
int scriptedLock(PtpServo& servo, Nanoseconds& at, double freq, const std::function<double(int)>& truth, NoiseSource& noise, int n) {
  for (int i = 0; i < n; ++i) {
    servo.sample(std::llround(truth(i) + noise.next()), at, kT, freq);
    at += kT;
    if (isLocked(servo.state())) return i;
  }
  return -1;
}

using aes67::test::quantile;

// Scripted truth, seeded noise, 100 seeds: where each locked (index, truth), -1 for never.
struct ScriptedLocks {
  std::vector<int> at;
  std::vector<double> truth;
  std::vector<double> window;
  int locked() const { return static_cast<int>(std::count_if(at.begin(), at.end(), [](int i) { return i >= 0; })); }
  double worstTruth() const {
    double w = 0;
    for (std::size_t k = 0; k < at.size(); ++k)
      if (at[k] >= 0) w = std::max(w, std::fabs(truth[k]));
    return w;
  }
};
ScriptedLocks scripted(const PtpServoConfig& c, const std::function<double(int)>& truth, Noise kind, double amplitudeNs, int n, int seeds = 100) {
  ScriptedLocks r;
  for (int seed = 1; seed <= seeds; ++seed) {
    Nanoseconds at = 0;
    double freq = 0;
    PtpServo servo = pastAcquisition(at, freq, c);
    NoiseSource noise{kind, amplitudeNs, Prng(static_cast<std::uint64_t>(seed))};
    const int i = scriptedLock(servo, at, freq, truth, noise, n);
    r.at.push_back(i);
    r.truth.push_back(i >= 0 ? truth(i) : 0);
    r.window.push_back(servo.lockWindowNs());
  }
  return r;
}

TEST(PtpServoNoise, RefusesAWindowThatIsNoWindow) {
  PtpServoConfig c;
  c.lockNoiseFactor = -1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.lockWindowMaxNs = c.unlockThresholdNs + 1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.lockWindowMaxNs = c.lockThresholdNs - 1;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
  c = {};
  c.noiseSamples = 2;
  EXPECT_THROW(PtpServo{c}, std::invalid_argument);
}

// The noise measure sees the time stamps' spread, not the clock's error or its trend: a
// clean ramp (a frequency error being pulled in) measures ~0, the same ramp plus noise
// measures the noise.
// The noise measure sees the time stamps' spread, not the clock's error or its trend: a
// clean ramp (a frequency error being pulled in) measures 0, the same ramp plus noise
// measures the same for every slope, and near the noise's own standard deviation.
TEST(PtpServoNoise, TheNoiseMeasureIgnoresOffsetAndTrend) {
  const PtpServoConfig c;
  std::vector<double> measured;
  for (const double slopeNs : {0.0, 500.0, 1'500.0}) {
    Nanoseconds at = 0;
    double freq = 0;
    PtpServo clean = pastAcquisition(at, freq, c);
    NoiseSource none{Noise::kUniform, 0, Prng(1)};
    scriptedLock(clean, at, freq, [&](int i) { return -30'000.0 + slopeNs * i; }, none, 64);
    EXPECT_EQ(clean.measurementNoiseNs(), 0.0) << "a ramp of " << slopeNs << " ns a sample";
    EXPECT_EQ(clean.lockWindowNs(), static_cast<double>(c.lockThresholdNs));
    PtpServo noisy = pastAcquisition(at, freq, c);
    NoiseSource gauss{Noise::kGaussian, 8'000, Prng(2)};  // sd 4 us
    scriptedLock(noisy, at, freq, [&](int i) { return -30'000.0 + slopeNs * i; }, gauss, 64);
    measured.push_back(noisy.measurementNoiseNs());
  }
  EXPECT_EQ(measured[0], measured[1]);
  EXPECT_EQ(measured[0], measured[2]);
  // Against the sd of the very noise drawn (same seed, same count), over 20 seeds: MAD of 63
  // differences scatters ~20 % a seed, and is unbiased for Gaussian noise.
  double ratioSum = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Nanoseconds at = 0;
    double freq = 0;
    PtpServo servo = pastAcquisition(at, freq, c);
    NoiseSource gauss{Noise::kGaussian, 8'000, Prng(seed)};
    // 40 us off: no lock ends the run early, all 64 samples are in.
    EXPECT_EQ(scriptedLock(servo, at, freq, [](int) { return 40'000.0; }, gauss, 64), -1);
    Prng again(seed);
    double sq = 0;
    for (int i = 0; i < 64; ++i) sq += std::pow(again.normal() * 4'000, 2);
    const double ratio = servo.measurementNoiseNs() / std::sqrt(sq / 64);
    EXPECT_NEAR(ratio, 1.0, 0.4) << "seed " << seed;
    ratioSum += ratio;
  }
  EXPECT_NEAR(ratioSum / 20, 1.0, 0.12);
}

// (2) Noisy but centred offsets (white noise, +/-16 us uniform and Gaussian of sd 8 us)
// lock within three windows; the fixed 10 us window (lockNoiseFactor 0) mostly does not.
TEST(PtpServoNoise, NoisyButCentredOffsetsLock) {
  const PtpServoConfig c;
  PtpServoConfig fixed;
  fixed.lockNoiseFactor = 0;
  const int within = 3 * c.lockSamples;
  for (const Noise kind : {Noise::kUniform, Noise::kGaussian}) {
    const auto zero = [](int) { return 0.0; };
    const ScriptedLocks r = scripted(c, zero, kind, 16'000, within);
    const ScriptedLocks old = scripted(fixed, zero, kind, 16'000, within);
    std::vector<double> n;
    for (int i : r.at) n.push_back(i + 1);
    std::printf("%s +/-16 us: %d/100 lock within %d samples (median %.0f, max %.0f), window %.1f us; fixed window: %d/100\n",
                kind == Noise::kUniform ? "uniform" : "gaussian", r.locked(), within, quantile(n, 0.5), quantile(n, 1), quantile(r.window, 0.5) / 1e3,
                old.locked());
    EXPECT_EQ(r.locked(), 100);
    EXPECT_LT(old.locked(), kind == Noise::kUniform ? 10 : 60) << "the fixed window would do as well: the test shows nothing";
  }
}

// (1) A clock with a large frequency error it does not correct (12 ppm: 1.5 us a sample)
// trends through zero and through the window: with noise of +/-12 us the window is widened
// and single offsets fit in it around the crossing, while the truth at the window's newest
// sample is beyond lockThresholdNs there. Lock must never come with the truth beyond the
// lock window, and (the guard's power) at most 5 of 100 seeds may lock with it beyond
// lockThresholdNs (16 samples of this noise leave the mean ~2 us uncertain, the fitted end
// ~3 us). Closed loop, acquisition leaving 20-40 ppm, the truth at lock is within the window.
TEST(PtpServoNoise, ATrendThroughTheWindowDoesNotLock) {
  const PtpServoConfig c;
  const auto ramp = [](int i) { return -30'000.0 + 1'500.0 * i; };
  const ScriptedLocks r = scripted(c, ramp, Noise::kUniform, 12'000, 60);
  int beyond = 0;
  for (std::size_t k = 0; k < r.at.size(); ++k) {
    if (r.at[k] < 0) continue;
    EXPECT_LE(std::fabs(r.truth[k]), r.window[k]) << "seed " << k + 1 << ": locked beyond the lock window";
    if (std::fabs(r.truth[k]) > static_cast<double>(c.lockThresholdNs)) ++beyond;
  }
  std::printf("ramp 1.5 us/sample, noise +/-12 us: %d/100 locked, worst |truth| at lock %.1f us; %d beyond 10 us\n", r.locked(), r.worstTruth() / 1e3, beyond);
  EXPECT_LE(beyond, 5) << "locked while the truth was beyond lockThresholdNs";
  for (const double left : {20'000.0, -40'000.0}) {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
      const LockRun run = closedLoop(c, left, NoiseSource{Noise::kUniform, 16'000, Prng(seed)});
      ASSERT_GE(run.samples, 0) << left << " ppb, seed " << seed;
      EXPECT_LE(std::fabs(run.truthAtLockNs), run.windowNs) << left << " ppb, seed " << seed;
    }
  }
}

// (3) The master's time steps by 12 us in the middle of the first window (noise +/-8 us:
// the window widened to ~14 us), or by 24 us under +/-16 us noise (the window at its 20 us
// cap): the offsets straddle the window but their mean and trend do not. Never locked in
// 200 samples (the truth stays off: the clock does not follow here), for any of 100 seeds.
TEST(PtpServoNoise, AStepOfTheMasterInTheWindowDoesNotLock) {
  const PtpServoConfig c;
  for (const auto& [noise, step] : {std::pair{8'000.0, 12'000.0}, std::pair{16'000.0, 24'000.0}}) {
    const double by = step;
    const ScriptedLocks r = scripted(c, [by](int i) { return i < 8 ? 0.0 : -by; }, Noise::kUniform, noise, 200);
    std::printf("%.0f us step at sample 8, noise +/-%.0f us: %d/100 locked\n", step / 1e3, noise / 1e3, r.locked());
    EXPECT_EQ(r.locked(), 0) << "step " << step << " ns, noise " << noise << " ns";
  }
}

// Closed loop over noise levels and what acquisition left, 200 seeds each: every run locks
// within 100 s and with the truth within the lock window in use. Prints the table for the
// report (K=0 in the environment: the same with the fixed window, for comparison).
TEST(PtpServoNoise, ClosedLoopTruthAtLock) {
  PtpServoConfig c;
  if (std::getenv("K")) c.lockNoiseFactor = std::atof(std::getenv("K"));
  for (const Noise kind : {Noise::kUniform, Noise::kGaussian}) {
    for (const double amp : {4'000.0, 8'000.0, 16'000.0, 20'000.0}) {
      for (const double ppb : {0.0, 20'000.0, -40'000.0}) {
        std::vector<double> after, truth;
        int never = 0, beyond = 0;
        double worstAfter = 0;
        for (std::uint64_t seed = 1; seed <= 200; ++seed) {
          const LockRun r = closedLoop(c, ppb, NoiseSource{kind, amp, Prng(seed)});
          if (r.samples < 0) {
            ++never;
            continue;
          }
          after.push_back(r.samplesAfterStep);
          truth.push_back(std::fabs(r.truthAtLockNs));
          EXPECT_LE(std::fabs(r.truthAtLockNs), r.windowNs) << amp << " ns noise, " << ppb << " ppb, seed " << seed;
          if (std::fabs(r.truthAtLockNs) > static_cast<double>(c.lockThresholdNs)) ++beyond;
          worstAfter = std::max(worstAfter, r.maxTruthAfterNs);
        }
        EXPECT_EQ(never, 0) << amp << " ns noise, " << ppb << " ppb";
        const char* name = kind == Noise::kUniform ? "uniform +/-" : "gauss 2sd ";
        if (after.empty()) {
          std::printf("%s%2.0f us, %4.0f ppm left: never locked\n", name, amp / 1e3, ppb / 1e3);
          continue;
        }
        std::printf("%s%2.0f us, %4.0f ppm left: %3d/200 never; samples from the step med %3.0f p90 %3.0f max %3.0f; |truth| at lock med %4.1f p90 %4.1f max %4.1f us, %d > 10 us; max |truth| 2 s after %4.1f us\n",
                    name, amp / 1e3, ppb / 1e3, never, quantile(after, 0.5), quantile(after, 0.9), quantile(after, 1), quantile(truth, 0.5) / 1e3,
                    quantile(truth, 0.9) / 1e3, quantile(truth, 1) / 1e3, beyond, worstAfter / 1e3);
      }
    }
  }
}

// The clock's true error while it runs locked on noisy stamps: a fresh servo on a clock 3 ms
// off (acquisition leaving `leftPpb`), `samples` long; the error over the second half (the
// narrowing done), the lock losses over the whole run, the gain scale at the end.
struct SteadyTruth {
  double sumSquares = 0;
  std::size_t n = 0;
  std::uint64_t lockLosses = 0;
  double scale = 0;
  double rms() const { return std::sqrt(sumSquares / static_cast<double>(n)); }
};
void steadyTruth(SteadyTruth& into, const PtpServoConfig& config, NoiseSource noise, double leftPpb, int samples) {
  PtpServo servo(config);
  Clock clock{3'000'000, 0};
  double freq = 0;
  Nanoseconds at = 1'000 * kT;
  bool acquired = false;
  for (int i = 0; i < samples; ++i) {
    const PtpServoAction a = servo.sample(std::llround(clock.truthNs + noise.next()), at, kT, freq);
    clock.apply(a);
    if (a.setFrequency) freq = a.frequencyPpb;
    if (!acquired && servo.state() != PtpServoState::kUnlocked) {
      acquired = true;
      clock.masterPpb += leftPpb;
    }
    clock.advance(freq);
    at += kT;
    if (i >= samples / 2) {
      into.sumSquares += clock.truthNs * clock.truthNs;
      ++into.n;
    }
  }
  into.lockLosses += servo.counters().lockLosses;
  into.scale += servo.gainScale();
}

// The noise-aware gains. Locked on Gaussian stamp noise of sd 6-8 us (software stamps on a
// busy host), linuxptp's hardware-stamp gains pass ~0.3 sd into the clock; narrowed to the
// noise, the clock's true error rms is at most 3/4 of that and below 0.22 sd, with no more
// lock losses. On quiet stamps (sd 1 us) the gains are the same and so is every figure.
// 20 seeds x 5 minutes a noise level, both ways (noisyGainFloor 1: the fixed gains).
TEST(PtpServoNoise, NoiseAwareGainsCutTheClocksTrueError) {
  const PtpServoConfig narrowing;
  PtpServoConfig fixed;
  fixed.noisyGainFloor = 1;
  for (const double sd : {1'000.0, 4'000.0, 6'000.0, 8'000.0}) {
    SteadyTruth now, before;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const double left = seed % 2 ? 10'000.0 : -10'000.0;
      steadyTruth(now, narrowing, NoiseSource{Noise::kGaussian, 2 * sd, Prng(seed)}, left, 2'400);
      steadyTruth(before, fixed, NoiseSource{Noise::kGaussian, 2 * sd, Prng(seed)}, left, 2'400);
    }
    std::printf("stamp noise sd %.0f us: true error rms %.2f us (%.2f sd), fixed gains %.2f us (%.2f sd): %.2fx; lock losses %lu vs %lu; gain scale %.2f\n",
                sd / 1e3, now.rms() / 1e3, now.rms() / sd, before.rms() / 1e3, before.rms() / sd, now.rms() / before.rms(),
                static_cast<unsigned long>(now.lockLosses), static_cast<unsigned long>(before.lockLosses), now.scale / 20);
    if (sd <= 1'000) {
      EXPECT_EQ(now.rms(), before.rms()) << "quiet stamps keep the gains";
      EXPECT_EQ(now.scale, 20.0);
      continue;
    }
    EXPECT_LE(now.lockLosses, before.lockLosses) << sd;
    if (sd < 6'000) continue;
    EXPECT_LT(now.rms(), 0.75 * before.rms()) << sd;
    EXPECT_LT(now.rms(), 0.22 * sd) << sd;
  }
}

// The narrowed loop keeps its damping. Locked on stamp noise of sd 8 us, every sample the
// loop acts on is checked against linuxptp's gains (pi.c's formula at 1/8 s) and the scale
// the servo reports: kp is scaled by it and ki by its square, so the locked loop's poles stay
// real (its damping ~1.8 at any scale, (kp T)^2 > 4 ki T^2): kp narrowed alone, or ki with
// it, leaves a PI loop that rings once the scale is small.
TEST(PtpServoNoise, NarrowedGainsKeepTheLoopsDamping) {
  const double seconds = static_cast<double>(kT) * 1e-9;
  const double kp = std::min(0.7 * std::pow(seconds, -0.3), 0.7 / seconds);
  const double ki = std::min(0.3 * std::pow(seconds, 0.4), 0.3 / seconds);
  PtpServo servo;
  Clock clock{3'000'000, 0};
  NoiseSource noise{Noise::kGaussian, 16'000, Prng(5)};
  double freq = 0;
  Nanoseconds at = 1'000 * kT;
  int checked = 0;
  double smallest = 1;
  for (int i = 0; i < 2'400; ++i) {
    const bool locked = isLocked(servo.state());
    const double before = servo.frequencyEstimatePpb();
    const Nanoseconds offset = std::llround(clock.truthNs + noise.next());
    const PtpServoAction a = servo.sample(offset, at, kT, freq);
    clock.apply(a);
    if (a.setFrequency) freq = a.frequencyPpb;
    clock.advance(freq);
    at += kT;
    if (!locked || !isLocked(servo.state()) || !a.setFrequency) continue;  // pulling in, or a spike held back
    const double s = servo.gainScale();
    const double o = static_cast<double>(offset);
    ASSERT_NEAR(a.frequencyPpb, servo.frequencyEstimatePpb() - kp * s * o, 1e-6 * std::fabs(kp * o) + 1e-9) << "sample " << i;
    ASSERT_NEAR(servo.frequencyEstimatePpb() - before, -ki * s * s * o * seconds, 1e-6 * std::fabs(ki * o) + 1e-9) << "sample " << i;
    ASSERT_GT(std::pow(kp * s * seconds, 2), 4 * ki * s * s * seconds * seconds) << "sample " << i;
    smallest = std::min(smallest, s);
    ++checked;
  }
  std::printf("%d locked samples checked, gain scale down to %.2f\n", checked, smallest);
  EXPECT_GT(checked, 1'000);
  EXPECT_LT(smallest, 0.3) << "the loop was narrowed";
}

// Narrowed, the loop still follows the master's frequency, without ringing. Locked on stamp
// noise of sd 6 us, the master's frequency moves by 3 ppm; the clock's error, averaged over
// 200 seeds (the noise averages out, the loop's response stays), falls behind, is pulled
// back by the integral without swinging past zero by more than a tenth of its peak, and is
// near zero 150 s later.
TEST(PtpServoNoise, TheNarrowedLoopFollowsAFrequencyStep) {
  const PtpServoConfig c;
  constexpr int kBefore = 1'600, kAfter = 1'200, kSeeds = 200;
  std::vector<double> mean(kAfter, 0.0);
  double scale = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    PtpServo servo(c);
    Clock clock{3'000'000, 0};
    NoiseSource noise{Noise::kGaussian, 12'000, Prng(seed)};
    double freq = 0;
    Nanoseconds at = 1'000 * kT;
    for (int i = 0; i < kBefore + kAfter; ++i) {
      if (i == kBefore) {
        clock.masterPpb += 3'000;
        scale += servo.gainScale() / kSeeds;
      }
      const PtpServoAction a = servo.sample(std::llround(clock.truthNs + noise.next()), at, kT, freq);
      clock.apply(a);
      if (a.setFrequency) freq = a.frequencyPpb;
      clock.advance(freq);
      at += kT;
      if (i >= kBefore) mean[i - kBefore] += clock.truthNs / kSeeds;
    }
  }
  const auto peak = std::max_element(mean.begin(), mean.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  double beyond = 0;
  for (auto it = peak; it != mean.end(); ++it) beyond = std::max(beyond, *peak < 0 ? *it : -*it);
  double tail = 0;
  for (int i = kAfter - 100; i < kAfter; ++i) tail += mean[i] / 100;
  std::printf("3 ppm step, locked at gain scale %.2f: mean error peaks at %.0f ns after %.1f s, swings %.0f ns past zero, %.0f ns at %.0f s\n", scale, *peak,
              static_cast<double>(peak - mean.begin()) * 0.125, beyond, tail, kAfter * 0.125);
  EXPECT_LT(scale, 0.6) << "the loop was narrowed when the frequency moved";
  EXPECT_LT(*peak, 0.0) << "the master ran faster: the clock fell behind";
  EXPECT_LT(beyond, 0.1 * std::fabs(*peak));
  EXPECT_LT(std::fabs(tail), 0.05 * std::fabs(*peak));
}

}  // namespace
}  // namespace aes67
