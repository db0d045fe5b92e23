#include "engine/ptp/ptp_servo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace aes67 {

const char* toString(PtpServoState state) {
  switch (state) {
    case PtpServoState::kUnlocked: return "unlocked";
    case PtpServoState::kStepping: return "stepping";
    case PtpServoState::kLocked: return "locked";
    case PtpServoState::kLockedStable: return "locked-stable";
  }
  return "unknown";
}

const char* shortName(PtpServoState state) {
  switch (state) {
    case PtpServoState::kUnlocked: return "s0";
    case PtpServoState::kStepping: return "s1";
    case PtpServoState::kLocked: return "s2";
    case PtpServoState::kLockedStable: return "s3";
  }
  return "s?";
}

PtpServo::PtpServo(const PtpServoConfig& config) : config_(config) {
  if (config.acquisitionSamples < 2 || config.acquisitionSamples > static_cast<int>(kMaxAcquisition)) {
    throw std::invalid_argument("servo acquisitionSamples must be 2-32");
  }
  if (config.lockSamples < 1 || config.stableSamples < config.lockSamples ||
      config.stableSamples > static_cast<int>(kMaxHistory)) {
    throw std::invalid_argument("servo needs 1 <= lockSamples <= stableSamples <= 256");
  }
  if (config.lockOutliers < 0 || config.lockOutliers >= config.lockSamples || config.unlockSpikes < 1) {
    throw std::invalid_argument("servo needs 0 <= lockOutliers < lockSamples and unlockSpikes >= 1");
  }
  if (config.unlockWindowSamples < config.unlockSpikes || config.unlockWindowSamples > static_cast<int>(kMaxHistory)) {
    throw std::invalid_argument("servo needs unlockSpikes <= unlockWindowSamples <= 256");
  }
  if (config.lockThresholdNs <= 0 || config.unlockThresholdNs < config.lockThresholdNs) {
    throw std::invalid_argument("servo needs 0 < lockThresholdNs <= unlockThresholdNs (hysteresis)");
  }
  if (config.stepThresholdNs <= config.unlockThresholdNs) {
    throw std::invalid_argument("servo stepThresholdNs must exceed unlockThresholdNs");
  }
  if (!(config.lockNoiseFactor >= 0 && config.lockNoiseFactor <= 100)) {
    throw std::invalid_argument("servo lockNoiseFactor must be 0 (a fixed lock window) to 100");
  }
  if (config.lockWindowMaxNs != 0 &&
      (config.lockWindowMaxNs < config.lockThresholdNs || config.lockWindowMaxNs > config.unlockThresholdNs)) {
    throw std::invalid_argument("servo lockWindowMaxNs must be 0 (unlockThresholdNs) or within lockThresholdNs..unlockThresholdNs");
  }
  if (config.noiseSamples < 3 || config.noiseSamples > static_cast<int>(kMaxHistory)) {
    throw std::invalid_argument("servo noiseSamples must be 3-256");
  }
  if (!(config.noisyGainFloor > 0 && config.noisyGainFloor <= 1)) {
    throw std::invalid_argument("servo noisyGainFloor must be above 0 and at most 1 (fixed gains)");
  }
  lockWindowNs_ = static_cast<double>(config.lockThresholdNs);
}

double PtpServo::clampFrequency(double ppb) const {
  return std::clamp(ppb, -config_.maxFrequencyPpb, config_.maxFrequencyPpb);
}

Nanoseconds PtpServo::timeoutAt() const {
  if (state_ == PtpServoState::kUnlocked && acquired_ == 0) return std::numeric_limits<Nanoseconds>::max();
  const Nanoseconds timeout =
      config_.sampleTimeoutNs > 0 ? config_.sampleTimeoutNs : std::max<Nanoseconds>(kNanosPerSecond, 8 * lastIntervalNs_);
  return lastSampleAt_ + timeout;
}

bool PtpServo::checkTimeout(Nanoseconds now) {
  if (now <= timeoutAt()) return false;
  ++counters_.sampleTimeouts;
  unlock();
  return true;
}

void PtpServo::reset() {
  ++counters_.resets;
  unlock();
}

void PtpServo::unlock() {
  if (isLocked(state_)) ++counters_.lockLosses;
  state_ = PtpServoState::kUnlocked;
  acquired_ = 0;
  historyCount_ = 0;
  largeInARow_ = 0;
  spikesInARow_ = 0;
}

PtpServoAction PtpServo::sample(Nanoseconds offset, Nanoseconds at, Nanoseconds intervalNs, double frequencyPpb,
                                const PtpFitCorrection* fitCorrection) {
  ++counters_.samples;
  lastSampleAt_ = at;
  if (intervalNs > 0) lastIntervalNs_ = intervalNs;
  if (state_ == PtpServoState::kUnlocked) return acquire(offset, at, frequencyPpb, fitCorrection);
  return track(offset, at, lastIntervalNs_, frequencyPpb);
}

// Unlocked: step away any gross offset, then hold the mapping still for a few samples and
// fit a line through them; its slope is our frequency error. A median of pairwise slopes
// (Theil-Sen) lets a stray sample or two through without bending the estimate.
// The fit's residual offset is stepped only when the loop should not pull it in: beyond
// unlockThresholdNs, where the pulling-in loop clamps what it sees (so it would pull in at
// a bounded rate) and a locked one calls offsets spikes -- and beyond it by more than the
// fit's own uncertainty (residualStepThreshold). Within it (a fresh acquisition
// leaves the first sample's noise and a second's drift, a few us; a relock to a
// grandmaster on the same time leaves the noise alone) the loop slews it away: kp x 20 us
// is ~26 ppm at 1/8 s, for about a second, where a step would move a running media clock
// at once. The fitted frequency is applied either way.
PtpServoAction PtpServo::acquire(Nanoseconds offset, Nanoseconds at, double frequencyPpb, const PtpFitCorrection* fitCorrection) {
  PtpServoAction action;
  // Only the first sample may step: later ones drift by the very frequency error being
  // measured (100 ppm is 100 us a second) and the fit must see that drift.
  if (acquired_ == 0 && (!everStepped_ || std::llabs(offset) > config_.stepThresholdNs)) {
    action.step = true;
    action.stepBy = -offset;
    everStepped_ = true;
    ++counters_.steps;
    acquired_ = 0;
    integral_ = frequencyPpb;
    return action;
  }
  if (acquired_ == 0) integral_ = frequencyPpb;
  acquisitionAt_[acquired_] = at;
  acquisitionOffset_[acquired_] = offset;
  ++acquired_;
  if (acquired_ < static_cast<std::size_t>(config_.acquisitionSamples)) return action;

  const std::size_t n = acquired_;
  std::array<double, kMaxAcquisition * (kMaxAcquisition - 1) / 2> slopes{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const Nanoseconds dt = acquisitionAt_[j] - acquisitionAt_[i];
      if (dt <= 0) continue;
      slopes[k++] = static_cast<double>(acquisitionOffset_[j] - acquisitionOffset_[i]) / static_cast<double>(dt);
    }
  }
  acquired_ = 0;
  if (k == 0) return action;
  std::nth_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(k / 2), slopes.begin() + static_cast<std::ptrdiff_t>(k));
  const double slope = slopes[k / 2];  // offset ns per local ns
  std::array<double, kMaxAcquisition> intercepts{};
  for (std::size_t i = 0; i < n; ++i) {
    intercepts[i] = static_cast<double>(acquisitionOffset_[i]) - slope * static_cast<double>(acquisitionAt_[i] - at);
  }
  std::nth_element(intercepts.begin(), intercepts.begin() + static_cast<std::ptrdiff_t>(n / 2), intercepts.begin() + static_cast<std::ptrdiff_t>(n));
  const double offsetNow = intercepts[n / 2];

  // The mapping ran at frequencyPpb and drifted by `slope`: the master's rate is that less.
  integral_ = clampFrequency(frequencyPpb - slope * 1e9);
  action.setFrequency = true;
  action.frequencyPpb = integral_;
  const double correction = fitCorrection ? static_cast<double>(fitCorrection->offsetCorrection(integral_)) : 0.0;
  const double residual = offsetNow + correction;
  lastAcquisition_ = {residual, correction, fitStandardError(n, slope, offsetNow, at), false};
  if (std::fabs(residual) > residualStepThreshold(lastAcquisition_.standardErrorNs)) {
    lastAcquisition_.stepped = true;
    action.step = true;
    action.stepBy = -static_cast<Nanoseconds>(std::llround(residual));
    ++counters_.steps;
  }
  state_ = PtpServoState::kStepping;
  historyCount_ = 0;
  largeInARow_ = 0;
  spikesInARow_ = 0;
  return action;
}

// The fitted offset's standard error, from the samples' own scatter about the fitted line:
// sigma = the residuals' rms over n - 2 degrees of freedom (their median absolute value is
// robust, but from 8 samples so often under half the truth that in simulation noise passed as
// significant 1 time in 8; a stray late Sync here only raises the threshold, the safe side),
// times the least-squares
// end-point factor sqrt(1/n + (t_end - t_mean)^2 / Stt): 0.65 for 8 evenly spaced samples read
// at the newest, where the Theil-Sen line's end is ~0.73 sigma.
double PtpServo::fitStandardError(std::size_t n, double slope, double offsetNow, Nanoseconds at) const {
  if (n < 3) return 0;
  double meanT = 0, sumSq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(acquisitionAt_[i] - at);
    const double e = static_cast<double>(acquisitionOffset_[i]) - (offsetNow + slope * t);
    sumSq += e * e;
    meanT += t / static_cast<double>(n);
  }
  double stt = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(acquisitionAt_[i] - at) - meanT;
    stt += d * d;
  }
  const double sigma = std::sqrt(sumSq / static_cast<double>(n - 2));
  const double endFactor = stt > 0 ? std::sqrt(1.0 / static_cast<double>(n) + meanT * meanT / stt) : 1.0;
  return sigma * endFactor;
}

// A fit's residual is stepped when it is beyond unlockThresholdNs by more than its own
// uncertainty (3 standard errors), and always beyond stepThresholdNs. The costs are not
// alike: a needless step moves a running media clock by the fit's noise at once (a glitch
// where there was none), a residual slewed instead takes the pulling-in loop a second or two
// longer (it sees at most unlockThresholdNs, ~26 ppm at 1/8 s). On quiet stamps this is the
// old rule; on noisy ones (7-9 us after a ptp4l restart in the ptp-lock live test, a 1 s fit's
// end uncertain by ~5 us) a relock to the same time stepped 20-22 us of noise and drift in 2
// CI rehearsals of 13 (lab/hil/ptp-lock.live.test.ts).
double PtpServo::residualStepThreshold(double standardErrorNs) const {
  return std::min(static_cast<double>(config_.unlockThresholdNs) + 3 * standardErrorNs,
                  static_cast<double>(config_.stepThresholdNs));
}

PtpServoAction PtpServo::track(Nanoseconds offset, Nanoseconds at, Nanoseconds intervalNs, double frequencyPpb) {
  PtpServoAction action;
  const Nanoseconds magnitude = std::llabs(offset);
  if (magnitude > config_.stepThresholdNs) {
    // A large offset is believed only when it persists: one Sync with a wild time must not
    // move the clock by milliseconds, a real time step of the master must.
    if (++largeInARow_ < config_.stepConfirmSamples) {
      if (isLocked(state_)) ++counters_.spikes;
      remember(offset, true);
      updateLockState(at);
      return action;
    }
    largeInARow_ = 0;
    spikesInARow_ = 0;
    if (isLocked(state_)) loseLock();
    state_ = PtpServoState::kStepping;
    historyCount_ = 0;
    action.step = true;
    action.stepBy = -offset;
    ++counters_.steps;
    return action;
  }
  largeInARow_ = 0;
  const bool spike = magnitude > config_.unlockThresholdNs;
  if (spike && isLocked(state_) && ++spikesInARow_ < config_.stepConfirmSamples) {
    ++counters_.spikes;
    remember(offset, true);
    updateLockState(at);
    return action;
  }
  if (!spike) spikesInARow_ = 0;

  const double seconds = static_cast<double>(intervalNs) * 1e-9;
  double kp = config_.kp;
  double ki = config_.ki;
  if (kp <= 0) kp = std::min(0.7 * std::pow(seconds, -0.3), 0.7 / seconds);
  if (ki <= 0) ki = std::min(0.3 * std::pow(seconds, 0.4), 0.3 / seconds);
  const bool pullingIn = state_ == PtpServoState::kStepping;
  gainScale_ = pullingIn ? 1.0 : lockedGainScale(kp, ki, seconds);
  kp *= gainScale_;
  ki *= gainScale_ * gainScale_;
  // offset > 0: we are ahead of the master, so run slower.
  // Locked, the integral moves ki x offset x interval per sample: the frequency estimate
  // (what the driver's rate scalar follows) stays quiet under software time stamps. Pulling
  // in (stepping), it moves ki x offset per sample, linuxptp's pi.c form: the frequency
  // fitted at acquisition from 8 noisy samples can be 10-20 ppm off (software stamps on a
  // loaded host), and the quiet integral took 8-20 s to remove that (its slow pole is
  // 0.987 a sample at 1/8 s); this one ~2 s. While pulling in, every offset the loop sees
  // is clamped to the unlock threshold: one late Sync (tens of us under load; while locked
  // such a spike is held back instead) must not kick the frequency by tens of ppm, which
  // the ptp-lock bench saw cost a second or more of lock time.
  const double bound = static_cast<double>(config_.unlockThresholdNs);
  const double seen = pullingIn ? std::clamp(static_cast<double>(offset), -bound, bound) : static_cast<double>(offset);
  integral_ = clampFrequency(integral_ - ki * seen * (pullingIn ? 1.0 : seconds));
  action.setFrequency = true;
  action.frequencyPpb = clampFrequency(integral_ - kp * seen);
  (void)frequencyPpb;
  remember(offset, spike);
  updateLockState(at);
  return action;
}

// Locked, the loop's bandwidth follows the time stamps' noise. kp passes a share
// a = kp x interval of every offset's noise into the clock: for white noise of sd sigma the
// clock's own error then has sd sigma x sqrt(a / (2 - a)) (0.3 sigma at 1/8 s with the full
// gains). The target keeps that within a tenth of lockThresholdNs (e = 1 us), i.e.
// a <= 2 e^2 / (sigma^2 + e^2): stamps quieter than ~3.3 us at 1/8 s (lockThresholdNs /
// lockNoiseFactor, where the lock window starts to widen) keep linuxptp's hardware-stamp
// gains, noisier ones narrow the loop as 1 / sigma^2 down to noisyGainFloor (linuxptp's
// software-stamp kp; there the clock passes 0.11 sigma). ki goes with the scale's square:
// the damping zeta = a / (2 sqrt(ki x interval^2)) stays ~1.8 and the poles real at any
// scale (a^2 > 4 ki interval^2), where narrowing kp alone leaves a PI loop that rings.
// The scale narrows no faster than the narrowed loop settles, 1/scale growing by at most
// half the integral's pole (ki x interval / kp, a sample's share) a sample: the frequency
// the pull-in left at lock (a few ppm on noisy stamps) is removed by the wider loop first --
// narrowed at once, that frequency error drove the clock 10-20 us off, into spikes and lock
// losses, and back to the full gains (the servo's seeded simulation). Widening is at once,
// and a lock loss (pulling in) restores the full gains.
double PtpServo::lockedGainScale(double kp, double ki, double seconds) const {
  const double e = static_cast<double>(config_.lockThresholdNs) / 10;
  const double wanted = 2 * e * e / (noiseNs_ * noiseNs_ + e * e) / (kp * seconds);
  const double slowest = 1.0 / (1.0 / gainScale_ + ki * seconds / kp / 2);
  return std::clamp(wanted, std::max(config_.noisyGainFloor, slowest), 1.0);
}

void PtpServo::remember(Nanoseconds offset, bool spike) {
  history_[historyNext_] = {offset, spike};
  historyNext_ = (historyNext_ + 1) % kMaxHistory;
  historyCount_ = std::min(historyCount_ + 1, kMaxHistory);
}

void PtpServo::loseLock() {
  ++counters_.lockLosses;
  state_ = PtpServoState::kStepping;
  spikesInARow_ = 0;
}

namespace {

// The median of the first n values (reordered), the mean of the middle two when n is even.
double medianOf(double* v, std::size_t n) {
  std::sort(v, v + n);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

// Differences of consecutive offsets: the clock's error cancels but for its change in one
// Sync interval (a trend shifts every difference alike; the median absorbs it), the
// measurement noise of two samples remains. MAD x 1.4826 is a standard deviation for
// Gaussian noise, / sqrt(2) for the two samples in each difference. The loop's own reaction
// (kp x interval of each offset, ~0.16 at 1/8 s) makes the differences a little wider than
// the noise alone: an overestimate of ~10 %, in the direction the guard below covers.
double PtpServo::measureNoise() const {
  const std::size_t n = std::min(historyCount_, static_cast<std::size_t>(config_.noiseSamples));
  if (n < 3) return 0;
  std::array<double, kMaxHistory> d{};
  for (std::size_t i = 0; i + 1 < n; ++i) d[i] = static_cast<double>(recent(i).offset) - static_cast<double>(recent(i + 1).offset);
  std::array<double, kMaxHistory> sorted = d;
  const double centre = medianOf(sorted.data(), n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) d[i] = std::fabs(d[i] - centre);
  return 1.4826 * medianOf(d.data(), n - 1) / std::sqrt(2.0);
}

// The false-lock guard: a window of offsets that merely straddles zero while the clock
// drifts through (a frequency error still being pulled in, a master whose time stepped in
// the window) has its mean or its trend away from zero, however wide the noise lets single
// offsets be. The line is fitted by least squares over the sample index (one sample a Sync;
// a lost Sync bends it by one interval) and read at the newest sample: the error now. Over 16
// samples the mean's noise is sigma / 4 and the line's end sigma / 2: centred noise of +/-16 us
// (sigma 9 us) passes both within lockThresholdNs / 2 often enough to lock within a window or
// two (ptp_servo_noise_test), and a clock 10 us off rarely does.
bool PtpServo::windowIsSteady(std::size_t n, double window) const {
  double sumX = 0, sumY = 0, sumXX = 0, sumXY = 0;
  double count = 0;
  for (std::size_t back = 0; back < n; ++back) {
    const Entry& e = recent(back);
    if (e.spike || std::fabs(static_cast<double>(e.offset)) > window) continue;
    const double x = -static_cast<double>(back);  // the newest sample at 0
    const double y = static_cast<double>(e.offset);
    sumX += x;
    sumY += y;
    sumXX += x * x;
    sumXY += x * y;
    count += 1;
  }
  if (count < 2) return false;
  const double meanX = sumX / count;
  const double mean = sumY / count;
  const double sxx = sumXX - sumX * meanX;
  const double slope = sxx > 0 ? (sumXY - sumX * mean) / sxx : 0;
  const double newest = mean + slope * (0 - meanX);
  const double threshold = static_cast<double>(config_.lockThresholdNs);
  return std::fabs(mean) <= threshold / 2 && std::fabs(newest) <= threshold / 2;
}

void PtpServo::updateLockState(Nanoseconds at) {
  const auto lockN = static_cast<std::size_t>(config_.lockSamples);
  // The lock window: lockThresholdNs, or wider where the time stamps' noise is.
  const double threshold = static_cast<double>(config_.lockThresholdNs);
  const double widest = static_cast<double>(config_.lockWindowMaxNs > 0 ? config_.lockWindowMaxNs : config_.unlockThresholdNs);
  noiseNs_ = measureNoise();
  lockWindowNs_ = std::clamp(config_.lockNoiseFactor * noiseNs_, threshold, widest);
  int spikes = 0;
  int outliers = 0;
  bool adjacentOutliers = false;
  bool previousOutlier = false;
  for (std::size_t i = 0; i < std::min(lockN, historyCount_); ++i) {
    const Entry& e = recent(i);
    if (e.spike) ++spikes;
    const bool outlier = e.spike || std::fabs(static_cast<double>(e.offset)) > lockWindowNs_;
    if (outlier) ++outliers;
    if (outlier && previousOutlier) adjacentOutliers = true;
    previousOutlier = outlier;
  }
  // A full window of small offsets, allowing `lockOutliers` isolated ones: a single late
  // Sync on a busy path is the measurement's noise (the loop does not follow it), two in a
  // row or more than a few are the clock's. And steady (see windowIsSteady).
  const bool stable = historyCount_ >= lockN && outliers <= config_.lockOutliers && !adjacentOutliers &&
                      windowIsSteady(lockN, lockWindowNs_);
  if (!isLocked(state_)) {
    if (stable) {
      state_ = PtpServoState::kLocked;
      lockedSince_ = at;
      ++counters_.locks;
    }
    return;
  }
  // Spikes that persist (the clock or the master's time moved) or recur over seconds (a
  // master, or a path, whose times cannot be trusted) unlock; a burst between good Syncs
  // does not (see the header).
  int recentSpikes = 0;
  const auto unlockN = std::min(static_cast<std::size_t>(config_.unlockWindowSamples), historyCount_);
  for (std::size_t i = 0; i < unlockN; ++i) recentSpikes += recent(i).spike ? 1 : 0;
  if (spikesInARow_ >= config_.stepConfirmSamples || recentSpikes >= config_.unlockSpikes) {
    loseLock();
    return;
  }
  const auto stableN = static_cast<std::size_t>(config_.stableSamples);
  if (historyCount_ < stableN) return;
  double sum = 0;
  for (std::size_t i = 0; i < stableN; ++i) sum += static_cast<double>(recent(i).offset) * static_cast<double>(recent(i).offset);
  const double rms = std::sqrt(sum / static_cast<double>(stableN));
  if (state_ == PtpServoState::kLocked && rms < static_cast<double>(config_.stableRmsNs) && spikes == 0) {
    state_ = PtpServoState::kLockedStable;
  } else if (state_ == PtpServoState::kLockedStable && (rms > 2.0 * static_cast<double>(config_.stableRmsNs) || spikes > 0)) {
    state_ = PtpServoState::kLocked;
  }
}

}  // namespace aes67
