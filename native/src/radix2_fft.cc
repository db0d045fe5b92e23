#include "native/src/radix2_fft.hpp"

#include <utility>

namespace aes67::native {

std::vector<std::vector<double>> radix2Twiddles(std::size_t n, int sign, const std::function<double(double)>& cos, const std::function<double(double)>& sin) {
  std::vector<std::vector<double>> stages;
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::size_t half = len >> 1;
    const double ang = (sign * 2 * 3.141592653589793) / static_cast<double>(len);
    const double wRe = cos(ang);
    const double wIm = sin(ang);
    std::vector<double> w(2 * half);
    double cRe = 1;
    double cIm = 0;
    for (std::size_t k = 0; k < half; k++) {
      w[2 * k] = cRe;
      w[2 * k + 1] = cIm;
      const double nRe = cRe * wRe - cIm * wIm;
      cIm = cRe * wIm + cIm * wRe;
      cRe = nRe;
    }
    stages.push_back(std::move(w));
  }
  return stages;
}

void radix2Fft(double* re, double* im, std::size_t n, const std::vector<std::vector<double>>& twiddles, bool inverse) {
  for (std::size_t i = 1, j = 0; i < n; i++) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
  std::size_t stage = 0;
  for (std::size_t len = 2; len <= n; len <<= 1, stage++) {
    const std::size_t half = len >> 1;
    const double* w = twiddles[stage].data();
    for (std::size_t start = 0; start < n; start += len) {
      double* ra = re + start;
      double* ia = im + start;
      double* rb = ra + half;
      double* ib = ia + half;
      for (std::size_t k = 0; k < half; k++) {
        const double cRe = w[2 * k];
        const double cIm = w[2 * k + 1];
        const double tRe = rb[k] * cRe - ib[k] * cIm;
        const double tIm = rb[k] * cIm + ib[k] * cRe;
        rb[k] = ra[k] - tRe;
        ib[k] = ia[k] - tIm;
        ra[k] += tRe;
        ia[k] += tIm;
      }
    }
  }
  if (inverse) {
    const auto size = static_cast<double>(n);
    for (std::size_t i = 0; i < n; i++) {
      re[i] /= size;
      im[i] /= size;
    }
  }
}

}  // namespace aes67::native
