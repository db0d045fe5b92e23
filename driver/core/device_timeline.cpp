#include "driver/core/device_timeline.hpp"

#include <stdexcept>

namespace aes67 {

DeviceTimeline::DeviceTimeline(std::uint32_t zeroTimeStampPeriod, const MediaClock& mediaClock)
    : period_(zeroTimeStampPeriod), clock_(&mediaClock) {
  if (period_ == 0) throw std::invalid_argument("zero-time-stamp period must be > 0");
  ticksPerFrame_.store(1e9 / clock_->sampleRate(), std::memory_order_relaxed);
}

void DeviceTimeline::start(Nanoseconds hostNow) {
  // The first media sample at or after hostNow, so sample 0 is never in the past.
  SampleTime first = clock_->sampleAt(hostNow);
  if (clock_->localTimeOf(first) < hostNow) ++first;
  anchor_ = first;
  ++seed_;
  haveLatched_ = havePrevious_ = false;
  stampsPublished_ = 0;
  ticksPerFrame_.store(static_cast<double>(hostTimeOf(period_) - hostTimeOf(0)) / period_, std::memory_order_relaxed);
}

void DeviceTimeline::latch(SampleTime boundary) {
  if (haveLatched_ && boundary == latched_.sampleTime + period_) {
    previous_ = latched_;
    havePrevious_ = true;
  } else if (boundary >= period_) {
    // Periods were skipped (nobody asked): the previous boundary is still a true stamp.
    previous_ = ZeroTimeStamp{boundary - period_, hostTimeOf(boundary - period_), seed_};
    havePrevious_ = true;
  }
  latched_ = ZeroTimeStamp{boundary, hostTimeOf(boundary), seed_};
  haveLatched_ = true;
  ++stampsPublished_;
  const double ticks = havePrevious_ ? static_cast<double>(latched_.hostTime - previous_.hostTime) / period_
                                     : static_cast<double>(hostTimeOf(boundary + period_) - latched_.hostTime) / period_;
  ticksPerFrame_.store(ticks, std::memory_order_relaxed);
}

ZeroTimeStamp DeviceTimeline::zeroTimeStamp(Nanoseconds hostNow) {
  SampleTime now = sampleTimeAt(hostNow);
  if (now < 0) now = 0;
  const SampleTime boundary = now - now % period_;
  if (!haveLatched_ || boundary > latched_.sampleTime) latch(boundary);
  return latched_;
}

double DeviceTimeline::rateScalar() const {
  const double nominal = 1e9 / clock_->sampleRate();
  const double actual = hostTicksPerFrame();
  return actual > 0 ? nominal / actual : 1.0;
}

}  // namespace aes67
