// The mean path delay of the end-to-end mechanism (IEEE 1588-2008 11.3), filtered: a
// moving median over the last few exchanges (as ptp4l's default moving-median delay
// filter), with samples far from the median rejected and counted. It keeps each exchange
// as its two raw halves -- the local interval t2 - t3 and the master's interval t4 - t1 --
// so the delay is recomputed with the servo's current rate estimate: an exchange measured
// before the frequency was known does not leave a rate error (up to 100 ppm x the
// Sync-to-Delay_Req gap) in the estimate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67 {

struct PathDelayExchange {
  Nanoseconds localInterval = 0;   // t2 - t3 in local (Clock) ns
  Nanoseconds masterInterval = 0;  // t4 - t1 in the master's ns, corrections removed
};

struct PathDelayCounters {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;   // too far from the median (a step, a stall, a lost timestamp)
  std::uint64_t resets = 0;     // the path really changed: the window started over
};

class PathDelayFilter {
 public:
  static constexpr std::size_t kWindow = 9;
  // Samples within this of the median are never outliers (noise on a quiet LAN is smaller).
  static constexpr Nanoseconds kOutlierFloorNs = 5'000;
  static constexpr int kResetAfterRejections = 5;

  // Adds an exchange; `rateRatio` is PTP ns per local ns (1 + frequency). False if rejected.
  bool add(const PathDelayExchange& exchange, double rateRatio);
  bool valid() const { return count_ > 0; }
  // The median delay over the window, computed at `rateRatio`.
  Nanoseconds delay(double rateRatio) const;
  void reset();
  const PathDelayCounters& counters() const { return counters_; }

 private:
  static Nanoseconds delayOf(const PathDelayExchange& e, double rateRatio);
  std::array<PathDelayExchange, kWindow> window_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  int rejectedInARow_ = 0;
  PathDelayCounters counters_;
};

}  // namespace aes67
