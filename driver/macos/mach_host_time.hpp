// coreaudiod's host time is mach_absolute_time ticks; driver/core works in nanoseconds
// (RealClock converts the same ticks). These convert between the two without allocating,
// so they are safe on the IO thread.
#pragma once

#include <cstdint>

#include "engine/base/time.hpp"

namespace aes67::macos {

class MachHostTime {
 public:
  static Nanoseconds toNanos(std::uint64_t ticks);
  static std::uint64_t fromNanos(Nanoseconds ns);
  static double nanosPerTick();
};

}  // namespace aes67::macos
