#include "engine/ptp/ptp_time_mapping.hpp"

#include <cmath>

#include "engine/base/rounding.hpp"

namespace aes67 {

PtpTimeMapping::Anchor PtpTimeMapping::read() const {
  for (;;) {
    const std::uint32_t before = sequence_.load(std::memory_order_acquire);
    if (before & 1u) continue;  // a write is in progress (it takes nanoseconds)
    // Acquire loads, not relaxed loads and a fence: the second sequence load cannot move
    // before them either, and ThreadSanitizer (which does not model fences; gcc refuses
    // atomic_thread_fence under -fsanitize=thread) sees the same ordering.
    Anchor a{local0_.load(std::memory_order_acquire), ptp0_.load(std::memory_order_acquire),
             ppb_.load(std::memory_order_acquire)};
    if (sequence_.load(std::memory_order_relaxed) == before) return a;
  }
}

void PtpTimeMapping::write(const Anchor& a) {
  const std::uint32_t s = sequence_.load(std::memory_order_relaxed);
  sequence_.store(s + 1, std::memory_order_relaxed);
  // Release stores: a reader that sees any new field sees the odd sequence too (and retries).
  local0_.store(a.local0, std::memory_order_release);
  ptp0_.store(a.ptp0, std::memory_order_release);
  ppb_.store(a.ppb, std::memory_order_release);
  sequence_.store(s + 2, std::memory_order_release);
}

Nanoseconds PtpTimeMapping::map(const Anchor& a, Nanoseconds local) {
  const Nanoseconds elapsed = local - a.local0;
  return a.ptp0 + elapsed + static_cast<Nanoseconds>(roundHalfAway(static_cast<double>(elapsed) * a.ppb * 1e-9));
}

Nanoseconds PtpTimeMapping::ptpTimeAt(Nanoseconds local) const { return map(read(), local); }

Nanoseconds PtpTimeMapping::localTimeOf(Nanoseconds ptp) const {
  const Anchor a = read();
  Nanoseconds local = a.local0 + static_cast<Nanoseconds>(roundHalfAway(static_cast<double>(ptp - a.ptp0) / (1.0 + a.ppb * 1e-9)));
  // Where PTP time rises at least a ns a ns (ppb >= 0: the mapping is then strictly
  // increasing), a local ns that maps to `ptp` itself is the first to reach it: one mapping
  // for most answers (the estimate is nearly always exact), not two (bench/virtual-speed.ts:
  // an inversion per packet each way).
  Nanoseconds at = map(a, local);
  if (at == ptp && a.ppb >= 0) return local;
  // Rounding may leave us a nanosecond off: the first local ns whose PTP time reaches `ptp`.
  for (int i = 0; i < 4 && at < ptp; ++i) at = map(a, ++local);
  for (int i = 0; i < 4 && map(a, local - 1) >= ptp; ++i) --local;
  return local;
}

double PtpTimeMapping::frequencyPpb() const { return read().ppb; }

void PtpTimeMapping::setFrequency(Nanoseconds now, double ppb) {
  const Anchor a = read();
  write({now, map(a, now), ppb});
}

void PtpTimeMapping::step(Nanoseconds now, Nanoseconds delta) {
  const Anchor a = read();
  write({now, map(a, now) + delta, a.ppb});
  steps_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace aes67
