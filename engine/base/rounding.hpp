// std::llround (to the nearest integer, halves away from zero) without the library call:
// the PTP time mapping rounds a few times per packet and per IO cycle (bench/virtual-speed.ts:
// the calls were 1 % of a run). Exact: for |x| < 2^52 the truncation and the remainder
// x - t are exact in double arithmetic (t and x are within a factor of two, or t is 0), so
// comparing the remainder with 1/2 decides as llround does; from 2^52 on every double is an
// integer and the remainder is 0. Defined for |x| < 2^63, as llround is.
// engine/base/test/rounding_test.cpp checks it against std::llround.
#pragma once

#include <cstdint>

namespace aes67 {

inline std::int64_t roundHalfAway(double x) {
  std::int64_t t = static_cast<std::int64_t>(x);  // toward zero
  const double rest = x - static_cast<double>(t);
  if (rest >= 0.5) ++t;
  else if (rest <= -0.5) --t;
  return t;
}

}  // namespace aes67
