// The device's time line: device sample time <-> media time <-> host time, and the zero
// time stamps coreaudiod builds its IO schedule from.
//
// Device sample 0 is the first media sample at or after StartIO. From then on device
// sample s IS media sample anchor + s: the device has no clock of its own, it runs on the
// media clock (PTP-derived when locked, the free-running stand-in before). The host time
// of a sample therefore comes from the media clock's current rate estimate, drift
// included, and so do the zero time stamps: their host-time spacing is the honest rate
// scalar the HAL reads (FIELD-NOTES: BlackHole's users report drift; a real clock domain
// and an honest rate scalar is the answer).
//
// A zero time stamp is latched when its period boundary is first seen, like a hardware
// driver stamping the wrap of its ring buffer: asking again returns the same pair even if
// the media clock's estimate moved since, so the HAL's predictor sees one consistent
// sequence.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/base/media_clock.hpp"

namespace aes67 {

struct ZeroTimeStamp {
  SampleTime sampleTime = 0;
  Nanoseconds hostTime = 0;
  std::uint64_t seed = 1;
};

class DeviceTimeline {
 public:
  DeviceTimeline(std::uint32_t zeroTimeStampPeriod, const MediaClock& mediaClock);

  // Switching clocks (e.g. to the PTP media clock once locked) needs a new time line:
  // call start() after it. The clock must outlive the timeline or the next setMediaClock.
  void setMediaClock(const MediaClock& mediaClock) { clock_ = &mediaClock; }
  const MediaClock& mediaClock() const { return *clock_; }

  // A new time line: sample 0 is the first media sample at or after `hostNow`; the seed
  // changes so clients drop the time stamps of the old one.
  void start(Nanoseconds hostNow);

  SampleTime anchor() const { return anchor_; }
  SampleTime mediaTimeOf(SampleTime deviceSample) const { return anchor_ + deviceSample; }
  SampleTime deviceTimeOf(SampleTime mediaTime) const { return mediaTime - anchor_; }
  // The host time at which device sample `s` begins, on the media clock's current estimate.
  Nanoseconds hostTimeOf(SampleTime deviceSample) const { return clock_->localTimeOf(anchor_ + deviceSample); }
  // The device sample whose period contains host time `t` (floor).
  SampleTime sampleTimeAt(Nanoseconds hostTime) const { return clock_->sampleAt(hostTime) - anchor_; }

  // GetZeroTimeStamp: the latest period boundary at or before `hostNow` (sample 0 before
  // the first one). Real-time safe. Call from one thread (the IO thread).
  ZeroTimeStamp zeroTimeStamp(Nanoseconds hostNow);

  // Host nanoseconds per device frame over the latest whole period (between the two
  // latest stamps), or the media clock's estimate for the coming period before two
  // stamps exist. Readable from any thread.
  double hostTicksPerFrame() const { return ticksPerFrame_.load(std::memory_order_relaxed); }
  // Nominal nanoseconds per frame divided by the actual ones: > 1 when the media clock
  // runs fast against the host clock.
  double rateScalar() const;

  std::uint32_t period() const { return period_; }
  std::uint64_t seed() const { return seed_; }
  std::uint32_t sampleRate() const { return clock_->sampleRate(); }
  // Distinct zero time stamps published on this time line.
  std::uint64_t stampsPublished() const { return stampsPublished_; }

 private:
  void latch(SampleTime boundary);

  std::uint32_t period_;
  const MediaClock* clock_;
  SampleTime anchor_ = 0;
  std::uint64_t seed_ = 1;
  bool haveLatched_ = false;
  bool havePrevious_ = false;
  ZeroTimeStamp latched_;
  ZeroTimeStamp previous_;
  std::uint64_t stampsPublished_ = 0;
  std::atomic<double> ticksPerFrame_{0.0};
};

}  // namespace aes67
