// The only way the engine reads time. Production code gets a RealClock; the lab and the
// tests get a VirtualClock that the caller steps, so a long scenario runs in seconds and
// repeats bit for bit.
#pragma once

#include <atomic>

#include "engine/base/time.hpp"

namespace aes67 {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds. Real-time safe: no allocation, no lock.
  virtual Nanoseconds now() const = 0;
};

// Monotonic host time: CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS (the time base
// coreaudiod uses for zero time stamps).
class RealClock final : public Clock {
 public:
  Nanoseconds now() const override;
};

// Time that moves only when told to. Reading it is lock-free, so an IO thread may read it
// while a control thread steps it.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(Nanoseconds start = 0) : now_(start) {}
  Nanoseconds now() const override { return now_.load(std::memory_order_acquire); }
  // Moves time forward; moving backwards throws std::invalid_argument.
  void advanceTo(Nanoseconds t);
  void advanceBy(Nanoseconds dt) { advanceTo(now() + dt); }

 private:
  std::atomic<Nanoseconds> now_;
};

}  // namespace aes67
