// roundHalfAway is std::llround: on halves (both signs, every binade up to 2^53), on the
// neighbours of halves, on integers, and on random doubles across the range the PTP time
// mapping uses and far beyond it.
#include "engine/base/rounding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace aes67 {
namespace {

void same(double x) { ASSERT_EQ(roundHalfAway(x), std::llround(x)) << std::hexfloat << x; }

TEST(RoundHalfAway, IsLlroundOnHalvesTheirNeighboursAndIntegers) {
  for (double scale = 1; scale <= 9007199254740992.0; scale *= 2) {
    for (double base : {0.0, 1.0, 2.0, 3.0, 7.0, 1e3 + 1}) {
      const double h = base * scale + 0.5;
      for (double x : {h, std::nextafter(h, 0.0), std::nextafter(h, INFINITY), base * scale, std::nextafter(base * scale, INFINITY)}) {
        same(x);
        same(-x);
      }
    }
  }
  for (double x : {0.0, -0.0, 0.49999999999999994, 0.5, 1.5, 2.5, -2.5, 4503599627370495.5, 4503599627370496.0, 9223372036854774784.0}) same(x);
}

TEST(RoundHalfAway, IsLlroundOnRandomDoubles) {
  std::mt19937_64 rng(20261125);
  std::uniform_real_distribution<double> exponent(-20, 62);
  std::uniform_real_distribution<double> mantissa(1, 2);
  for (int i = 0; i < 2'000'000; ++i) {
    const double x = std::ldexp(mantissa(rng), static_cast<int>(exponent(rng)));
    same(rng() & 1 ? x : -x);
  }
}

}  // namespace
}  // namespace aes67
