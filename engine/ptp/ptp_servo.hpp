// The clock servo: from offset-from-master samples to frequency and phase corrections of
// the slave's PtpTimeMapping, and an honest lock state.
//
// States (ptp4l prints s0/s1/s2; 3 is linuxptp's "locked stable"):
//   unlocked (s0)      no usable time: before the first samples, after a grandmaster change
//                      or when samples stop. Steps a gross offset at its first sample
//                      (always the first time, after that beyond stepThresholdNs), collects
//                      a few samples with the mapping left alone and fits their slope: the
//                      initial frequency; the fit's residual is stepped only beyond
//                      unlockThresholdNs plus 3 x its standard error, smaller ones the loop
//                      slews away.
//   stepping (s1)      the PI loop is pulling the offset in (after a step, or none).
//   locked (s2)        the last `lockSamples` offsets were within the lock window, but for
//                      at most `lockOutliers` isolated ones, and were steady (no trend, mean
//                      near zero). The window is `lockThresholdNs`, widened to `lockNoiseFactor`
//                      x the measured noise when the time stamps are noisier than that allows
//                      (capped at `lockWindowMaxNs`).
//   locked-stable (s3) locked, and the rms of the last `stableSamples` is below `stableRmsNs`.
//
// Lock has hysteresis and needs evidence: it is entered only after a full window of small
// offsets (one isolated late Sync forgiven: software time stamps on a busy host have them),
// and left when samples stop (a master that stops sending Follow_Up), on a step, when
// offsets beyond `unlockThresholdNs` persist (`stepConfirmSamples` in a row: the master's time
// or ours moved) or when they recur (`unlockSpikes` within the last `unlockWindowSamples`: a
// master whose Sync times jump). A burst of late Syncs between good ones is the host's, not
// the clock's: the HIL runner's loaded host delayed 3 Syncs by 24-59 us within 0.7 s while
// every Sync between them was within 2 us, and the old rule (3 within 16) unlocked on it. An
// isolated spike while locked is not fed to the loop (a stalled packet should not pull the
// clock), and a large offset is stepped only once it persists. FIELD-NOTES: "PTP that never
// locks or falsely reports lock" is the most common complaint about open AES67 tools.
//
// The noise-aware window. With software time stamps on a busy host (the ptp-lock bench saw
// +/-16 us on veth under load) single offsets spread beyond lockThresholdNs while the clock
// itself is well within it, and a fixed window then locks late or never. The measurement
// noise is taken from the spread of consecutive offset differences (MAD of the last
// `noiseSamples`, scaled to a standard deviation): a constant error cancels in them, a
// linear trend (a frequency error being pulled in) only shifts them, and the median ignores
// a late Sync or two, so it is the time stamps' spread and not the servo's own residual.
// The window widens to lockNoiseFactor x that noise, capped at lockWindowMaxNs. Wide or not,
// lock also needs the window steady (the false-lock guard): the mean of its offsets and the
// least-squares line through them, read at the newest sample (the error now, a trend
// included), both within lockThresholdNs / 2, outliers left out. A window of offsets that
// merely fits while the clock drifts through it (a frequency error still being pulled in, a
// master whose time stepped inside it) fails that; noise-free it is the old rule's own
// evidence, a little stricter (a clock sitting 6 us off waits for the loop to pull it in).
// What lock means to those who read it (the DUT's status and media clock, the port's
// calibrated flag, the lab's false-lock judges) is kept where the stamps allow it: the true
// error within lockThresholdNs (10 us, half a sample at 48 kHz) while the noise is below
// lockThresholdNs / lockNoiseFactor; beyond, within the widened window -- a software-stamped
// slave is as good as its stamps, and lockWindowNs() says which window was used.
//
// The PI loop follows linuxptp's (pi.c) form: frequency = integral + kp x offset, with kp
// and ki scaled to the sync interval (0 = derive); integral += ki x offset while pulling in
// (stepping, as pi.c) and ki x offset x interval once locked (a quieter frequency estimate).
// Locked, the gains narrow with the measured noise (kp x gainScale(), ki x its square): see
// lockedGainScale() in ptp_servo.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

enum class PtpServoState : std::uint8_t { kUnlocked, kStepping, kLocked, kLockedStable };
const char* toString(PtpServoState state);
// ptp4l's short form: "s0", "s1", "s2", "s3".
const char* shortName(PtpServoState state);
inline bool isLocked(PtpServoState s) { return s == PtpServoState::kLocked || s == PtpServoState::kLockedStable; }

struct PtpServoConfig {
  Nanoseconds stepThresholdNs = 100'000;   // larger offsets are stepped (once they persist), smaller slewed
  int stepConfirmSamples = 3;              // consecutive large offsets before a step while tracking
  int acquisitionSamples = 8;              // samples whose slope gives the initial frequency
  Nanoseconds lockThresholdNs = 10'000;
  int lockSamples = 16;
  int lockOutliers = 1;                    // isolated offsets beyond lockThresholdNs a window may hold
  Nanoseconds unlockThresholdNs = 20'000;  // offsets beyond this while locked are spikes
  double lockNoiseFactor = 3.0;            // the lock window widens to this x the measured noise (0: fixed window)
  Nanoseconds lockWindowMaxNs = 0;         // the widest lock window (0: unlockThresholdNs)
  int noiseSamples = 64;                   // offsets whose consecutive differences measure the noise
  int unlockSpikes = 8;                    // spikes within the last unlockWindowSamples that unlock (recurring)
  int unlockWindowSamples = 64;            // 8 s at the media profile's 8 Syncs a second
  Nanoseconds stableRmsNs = 2'000;
  int stableSamples = 64;
  Nanoseconds sampleTimeoutNs = 0;         // 0: max(1 s, 8 sync intervals)
  double maxFrequencyPpb = 500'000;        // 500 ppm: beyond any crystal, bounds a wild loop
  double kp = 0;                           // 0: from the sync interval (linuxptp hardware defaults)
  double ki = 0;
  // Locked, the loop's bandwidth narrows with the measured noise down to this fraction of
  // kp (ki by its square); 1 keeps the gains fixed. 1/7: linuxptp's software-stamp kp over
  // its hardware one (0.1 / 0.7). See lockedGainScale().
  double noisyGainFloor = 1.0 / 7;
};

struct PtpServoCounters {
  std::uint64_t samples = 0;
  std::uint64_t steps = 0;
  std::uint64_t locks = 0;          // entries into locked
  std::uint64_t lockLosses = 0;     // locked -> not locked
  std::uint64_t spikes = 0;         // offsets held back from the loop while locked
  std::uint64_t sampleTimeouts = 0; // samples stopped coming (e.g. no Follow_Up)
  std::uint64_t resets = 0;         // grandmaster changes and the like
};

// Acquisition's offsets may have been measured with something that depended on the
// frequency not yet known (the synchronizer's path delay, held still while acquiring).
// Given the fitted frequency, this says what to add to the fitted offset to have it as the
// loop will measure the next one; the post-fit step is judged (and taken) on that.
class PtpFitCorrection {
 public:
  virtual Nanoseconds offsetCorrection(double frequencyPpb) const = 0;

 protected:
  ~PtpFitCorrection() = default;
};

// The last acquisition's fit: the offset it left (the fit correction included), the
// correction's share (what the held path delay was wrong by), and the fitted offset's
// standard error from the samples' scatter (the correction's own error is not in it);
// stepped when beyond the threshold that error gives (residualStepThreshold in ptp_servo.cpp).
struct PtpAcquisitionFit {
  double residualNs = 0;
  double correctionNs = 0;
  double standardErrorNs = 0;
  bool stepped = false;
};

// What the servo wants done to the mapping, at the time the sample was handled.
struct PtpServoAction {
  bool step = false;
  Nanoseconds stepBy = 0;       // add this to PTP time (minus the offset being removed)
  bool setFrequency = false;
  double frequencyPpb = 0;
};

class PtpServo {
 public:
  explicit PtpServo(const PtpServoConfig& config = {});

  // One offset-from-master sample (slave minus master, ns) measured at local time `at`;
  // `intervalNs` is the sync interval. `frequencyPpb` is what the mapping runs at now.
  PtpServoAction sample(Nanoseconds offset, Nanoseconds at, Nanoseconds intervalNs, double frequencyPpb,
                        const PtpFitCorrection* fitCorrection = nullptr);
  // Time passes without samples: unlocks when they stopped. Returns true if it unlocked.
  bool checkTimeout(Nanoseconds now);
  // Forget the lock and re-acquire (new grandmaster); the frequency estimate is kept.
  void reset();

  PtpServoState state() const { return state_; }
  // The loop's frequency estimate (ppb of PTP time over local time): the integral term.
  double frequencyEstimatePpb() const { return integral_; }
  const PtpServoCounters& counters() const { return counters_; }
  const PtpServoConfig& config() const { return config_; }
  Nanoseconds lastSampleAt() const { return lastSampleAt_; }
  // When the current lock began (local ns), or -1 when not locked.
  Nanoseconds lockedSince() const { return isLocked(state_) ? lockedSince_ : -1; }
  // The deadline checkTimeout() acts on (INT64_MAX when there is nothing to time out).
  Nanoseconds timeoutAt() const;
  // The offsets' measurement noise (a standard deviation, ns) and the lock window it gave,
  // as of the last sample tracked (0 and lockThresholdNs before there are any).
  double measurementNoiseNs() const { return noiseNs_; }
  double lockWindowNs() const { return lockWindowNs_; }
  // The factor kp was last multiplied by (ki by its square): 1 while pulling in or on quiet
  // time stamps, down to noisyGainFloor when locked on noisy ones.
  double gainScale() const { return gainScale_; }
  // The last acquisition's fit (zeros before the first one).
  const PtpAcquisitionFit& lastAcquisition() const { return lastAcquisition_; }

 private:
  // Back to unlocked with no history (a lock loss if it was locked).
  void unlock();

  struct Entry {
    Nanoseconds offset;
    bool spike;
  };
  PtpServoAction acquire(Nanoseconds offset, Nanoseconds at, double frequencyPpb, const PtpFitCorrection* fitCorrection);
  PtpServoAction track(Nanoseconds offset, Nanoseconds at, Nanoseconds intervalNs, double frequencyPpb);
  void remember(Nanoseconds offset, bool spike);
  void updateLockState(Nanoseconds at);
  const Entry& recent(std::size_t back) const { return history_[(historyNext_ + kMaxHistory - 1 - back) % kMaxHistory]; }
  // The noise of the last `noiseSamples` offsets (from their consecutive differences).
  double measureNoise() const;
  double fitStandardError(std::size_t n, double slope, double offsetNow, Nanoseconds at) const;
  double residualStepThreshold(double standardErrorNs) const;
  // The lock window's mean and its fitted line at the newest sample, outliers left out.
  bool windowIsSteady(std::size_t n, double window) const;
  void loseLock();
  double clampFrequency(double ppb) const;
  double lockedGainScale(double kp, double ki, double seconds) const;

  PtpServoConfig config_;
  PtpServoState state_ = PtpServoState::kUnlocked;
  bool everStepped_ = false;
  double integral_ = 0;
  Nanoseconds lastSampleAt_ = 0;
  Nanoseconds lastIntervalNs_ = 125'000'000;
  Nanoseconds lockedSince_ = 0;
  double noiseNs_ = 0;
  double lockWindowNs_ = 0;
  double gainScale_ = 1;
  int largeInARow_ = 0;
  int spikesInARow_ = 0;
  PtpAcquisitionFit lastAcquisition_;

  // Acquisition: (time, offset) pairs with the mapping held still.
  static constexpr std::size_t kMaxAcquisition = 32;
  std::array<Nanoseconds, kMaxAcquisition> acquisitionAt_{};
  std::array<Nanoseconds, kMaxAcquisition> acquisitionOffset_{};
  std::size_t acquired_ = 0;

  // The recent tracked offsets, newest last (ring), for lock decisions.
  static constexpr std::size_t kMaxHistory = 256;
  std::array<Entry, kMaxHistory> history_{};
  std::size_t historyNext_ = 0;
  std::size_t historyCount_ = 0;  // since the last step/reset

  PtpServoCounters counters_;
};

}  // namespace aes67
