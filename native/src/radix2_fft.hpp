// lab/signal/fft.ts fft in C++: the radix-2 transform in place on split real and imaginary
// arrays, the same twiddle recurrence, bit reversal and butterflies in the same order of
// double operations (the addon is built with -ffp-contract=off), so the results are the
// TypeScript's to the bit: lab/signal/native-fft.test.ts compares them, and
// lab/scenario/measure-fast.test.ts whole latency measurements.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace aes67::native {

// Each stage's twiddle factors (re, im interleaved) from the stage's cos and sin of
// sign·2π/len, which the caller gives (the addon: JavaScript's Math.cos and Math.sin).
std::vector<std::vector<double>> radix2Twiddles(std::size_t n, int sign, const std::function<double(double)>& cos, const std::function<double(double)>& sin);

// Forward (twiddles of sign -1) or inverse (sign +1, then divided by n) transform of a
// power-of-two length n.
void radix2Fft(double* re, double* im, std::size_t n, const std::vector<std::vector<double>>& twiddles, bool inverse);

}  // namespace aes67::native
