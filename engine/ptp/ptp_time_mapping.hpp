// The slave's PTP clock without touching the system clock: a mapping from local (Clock)
// time to PTP time, ptp(L) = ptp0 + (L - local0) x (1 + frequency), which the servo steers
// by changing the frequency (re-anchored where it is, so the mapping stays continuous) or
// stepping it. Readers (the audio IO thread through PtpMediaClock) never block: the
// mapping is published through a sequence lock over atomics, written by one thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

class PtpTimeMapping {
 public:
  PtpTimeMapping() = default;
  PtpTimeMapping(const PtpTimeMapping&) = delete;
  PtpTimeMapping& operator=(const PtpTimeMapping&) = delete;

  // PTP nanoseconds at local time `local`. Real-time safe.
  Nanoseconds ptpTimeAt(Nanoseconds local) const;
  // Local time at which PTP time reaches `ptp` (the inverse, to the nanosecond).
  Nanoseconds localTimeOf(Nanoseconds ptp) const;
  // PTP ns per local ns, minus 1, in parts per billion.
  double frequencyPpb() const;

  // Writer side (one thread): change the rate from `now` on, keeping ptpTimeAt(now).
  void setFrequency(Nanoseconds now, double ppb);
  // Moves PTP time at `now` by `delta` (ptpTimeAt(now) += delta) and counts a step.
  void step(Nanoseconds now, Nanoseconds delta);
  // Steps taken so far: a reader can tell a discontinuity happened.
  std::uint64_t steps() const { return steps_.load(std::memory_order_acquire); }
  // Changes whenever the mapping does (frequency, step): a reader that kept an answer may
  // keep it while this stays the same.
  std::uint32_t version() const { return sequence_.load(std::memory_order_acquire); }

  // The servo's smoothed estimate of the same frequency (its integral term, without the
  // proportional corrections the mapping carries): what a rate scalar should follow.
  double frequencyEstimatePpb() const { return estimate_.load(std::memory_order_relaxed); }
  void publishFrequencyEstimate(double ppb) { estimate_.store(ppb, std::memory_order_relaxed); }

 private:
  struct Anchor {
    Nanoseconds local0;
    Nanoseconds ptp0;
    double ppb;
  };
  Anchor read() const;
  void write(const Anchor& a);
  static Nanoseconds map(const Anchor& a, Nanoseconds local);

  std::atomic<std::uint32_t> sequence_{0};
  std::atomic<Nanoseconds> local0_{0};
  std::atomic<Nanoseconds> ptp0_{0};
  std::atomic<double> ppb_{0.0};
  std::atomic<std::uint64_t> steps_{0};
  std::atomic<double> estimate_{0.0};
};

}  // namespace aes67
