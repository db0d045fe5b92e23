#include "engine/ptp/ptp_media_clock.hpp"

#include <stdexcept>

namespace aes67 {

PtpMediaClock::PtpMediaClock(const PtpTimeMapping& mapping, std::uint32_t rate, std::uint32_t mediaclkOffset)
    : mapping_(mapping), rate_(rate), mediaclkOffset_(mediaclkOffset) {
  if (rate == 0) throw std::invalid_argument("PtpMediaClock: sample rate must be positive");
}

SampleTime PtpMediaClock::sampleAt(Nanoseconds localTime) const {
  return nanosToSamples(mapping_.ptpTimeAt(localTime), rate_);
}

Nanoseconds PtpMediaClock::localTimeOf(SampleTime sample) const {
  // The sample begins at PTP time ceil(sample / rate); the first local ns at which the
  // mapping reaches it is where sampleAt() turns to `sample`.
  return mapping_.localTimeOf(samplesToNanos(sample, rate_));
}

}  // namespace aes67
