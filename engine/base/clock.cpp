#include "engine/base/clock.hpp"

#include <stdexcept>
#include <string>

#if defined(__APPLE__)
#include <mach/mach_time.h>
#else
#include <time.h>
#endif

namespace aes67 {

Nanoseconds RealClock::now() const {
#if defined(__APPLE__)
  static const mach_timebase_info_data_t timebase = [] {
    mach_timebase_info_data_t info{};
    mach_timebase_info(&info);
    return info;
  }();
  const unsigned __int128 ticks = mach_absolute_time();
  return static_cast<Nanoseconds>(ticks * timebase.numer / timebase.denom);
#else
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanoseconds>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
#endif
}

void VirtualClock::advanceTo(Nanoseconds t) {
  const Nanoseconds current = now();
  if (t < current) {
    throw std::invalid_argument("VirtualClock cannot move backwards: now " + std::to_string(current) +
                                " ns, asked for " + std::to_string(t) + " ns");
  }
  now_.store(t, std::memory_order_release);
}

}  // namespace aes67
