// The q-quantile of a test's seeded samples by the nearest-rank rule (the smallest value
// with at least q of the samples at or below it): what the PTP tests' figures quote.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace aes67::test {

inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(std::max(0.0, std::ceil(q * static_cast<double>(v.size())) - 1)))];
}

}  // namespace aes67::test
