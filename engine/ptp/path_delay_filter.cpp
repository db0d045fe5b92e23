#include "engine/ptp/path_delay_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace aes67 {

namespace {
Nanoseconds median(std::array<Nanoseconds, PathDelayFilter::kWindow>& v, std::size_t n) {
  std::sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

Nanoseconds PathDelayFilter::delayOf(const PathDelayExchange& e, double rateRatio) {
  return static_cast<Nanoseconds>(std::llround((static_cast<double>(e.localInterval) * rateRatio + static_cast<double>(e.masterInterval)) / 2.0));
}

Nanoseconds PathDelayFilter::delay(double rateRatio) const {
  std::array<Nanoseconds, kWindow> v{};
  for (std::size_t i = 0; i < count_; ++i) v[i] = delayOf(window_[i], rateRatio);
  return count_ == 0 ? 0 : median(v, count_);
}

bool PathDelayFilter::add(const PathDelayExchange& exchange, double rateRatio) {
  const Nanoseconds sample = delayOf(exchange, rateRatio);
  if (count_ >= 5) {
    // Outlier: further from the median than max(floor, 5 x the median absolute deviation).
    std::array<Nanoseconds, kWindow> v{};
    for (std::size_t i = 0; i < count_; ++i) v[i] = delayOf(window_[i], rateRatio);
    const Nanoseconds med = median(v, count_);
    for (std::size_t i = 0; i < count_; ++i) v[i] = std::llabs(v[i] - med);
    const Nanoseconds mad = median(v, count_);
    const Nanoseconds limit = std::max<Nanoseconds>(kOutlierFloorNs, 5 * mad);
    if (std::llabs(sample - med) > limit) {
      ++counters_.rejected;
      if (++rejectedInARow_ < kResetAfterRejections) return false;
      // Five in a row agree with each other, not with the window: the path changed.
      reset();
      ++counters_.resets;
    }
  }
  rejectedInARow_ = 0;
  window_[next_] = exchange;
  next_ = (next_ + 1) % kWindow;
  count_ = std::min(count_ + 1, kWindow);
  ++counters_.accepted;
  return true;
}

void PathDelayFilter::reset() {
  count_ = 0;
  next_ = 0;
  rejectedInARow_ = 0;
}

}  // namespace aes67
