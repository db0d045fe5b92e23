#include "engine/base/media_clock.hpp"

#include <cmath>

namespace aes67 {

SampleTime LocalMediaClock::sampleAt(Nanoseconds localTime) const {
  if (ppm_ == 0.0) return nanosToSamples(localTime - epoch_, rate_);
  const long double seconds = static_cast<long double>(localTime - epoch_) / kNanosPerSecond;
  return static_cast<SampleTime>(std::floor(seconds * rate_ * (1.0L + ppm_ / 1e6L)));
}

Nanoseconds LocalMediaClock::localTimeOf(SampleTime sample) const {
  if (ppm_ == 0.0) return epoch_ + samplesToNanos(sample, rate_);
  const long double seconds = static_cast<long double>(sample) / (rate_ * (1.0L + ppm_ / 1e6L));
  return epoch_ + static_cast<Nanoseconds>(std::ceil(seconds * kNanosPerSecond));
}

}  // namespace aes67
