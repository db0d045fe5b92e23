#include "driver/macos/mach_host_time.hpp"

#include <mach/mach_time.h>

namespace aes67::macos {

namespace {
const mach_timebase_info_data_t& timebase() {
  // Initialised before the first IO cycle (the plug-in reads it while it starts).
  static const mach_timebase_info_data_t info = [] {
    mach_timebase_info_data_t i{};
    mach_timebase_info(&i);
    return i;
  }();
  return info;
}
}  // namespace

Nanoseconds MachHostTime::toNanos(std::uint64_t ticks) {
  const auto& t = timebase();
  return static_cast<Nanoseconds>(static_cast<unsigned __int128>(ticks) * t.numer / t.denom);
}

std::uint64_t MachHostTime::fromNanos(Nanoseconds ns) {
  const auto& t = timebase();
  if (ns <= 0) return 0;
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(ns) * t.denom / t.numer);
}

double MachHostTime::nanosPerTick() {
  const auto& t = timebase();
  return static_cast<double>(t.numer) / static_cast<double>(t.denom);
}

}  // namespace aes67::macos
