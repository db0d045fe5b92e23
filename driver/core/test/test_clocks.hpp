// Media clocks for the device tests: a drift estimate that changes over time, the way a PTP
// servo's does (the real PTP media clock comes from engine/ptp).
#pragma once

#include <cmath>
#include <vector>

#include "engine/base/media_clock.hpp"

namespace aes67::test {

// Media time advances at rate x (1 + ppm/1e6) in each segment; a segment starts at a host
// time and continues the media time where the previous one left it (no phase step).
class PiecewiseDriftClock final : public MediaClock {
 public:
  struct Segment {
    Nanoseconds hostStart;
    double ppm;
    long double mediaStart = 0;  // filled by the constructor
  };
  PiecewiseDriftClock(std::uint32_t rate, std::vector<Segment> segments) : rate_(rate), segments_(std::move(segments)) {
    for (std::size_t i = 1; i < segments_.size(); ++i) {
      const Segment& p = segments_[i - 1];
      segments_[i].mediaStart = p.mediaStart + framesPerNs(p.ppm) * (segments_[i].hostStart - p.hostStart);
    }
  }
  std::uint32_t sampleRate() const override { return rate_; }
  SampleTime sampleAt(Nanoseconds t) const override {
    const Segment& s = segmentAtHost(t);
    return static_cast<SampleTime>(std::floor(s.mediaStart + framesPerNs(s.ppm) * (t - s.hostStart)));
  }
  Nanoseconds localTimeOf(SampleTime m) const override {
    const Segment* s = &segments_.front();
    for (const Segment& x : segments_) {
      if (x.mediaStart <= m) s = &x;
    }
    return s->hostStart + static_cast<Nanoseconds>(std::ceil((m - s->mediaStart) / framesPerNs(s->ppm)));
  }

 private:
  long double framesPerNs(double ppm) const { return rate_ * (1.0L + ppm / 1e6L) / 1e9L; }
  const Segment& segmentAtHost(Nanoseconds t) const {
    const Segment* s = &segments_.front();
    for (const Segment& x : segments_) {
      if (x.hostStart <= t) s = &x;
    }
    return *s;
  }
  std::uint32_t rate_;
  std::vector<Segment> segments_;
};

}  // namespace aes67::test
