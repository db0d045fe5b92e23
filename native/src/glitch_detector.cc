#include "native/src/glitch_detector.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace aes67::native {

namespace {

constexpr double kPi = 3.141592653589793;
// The median's bracket (glitches.ts): arrays this long are bracketed from a spread sample
// this large, this many places either side of the k-th's.
constexpr std::size_t kBracketMin = 8192;
constexpr std::size_t kBracketSample = 2048;
constexpr double kBracketHalf = 96;

// JavaScript's Math.max / Math.min of two numbers: NaN if either is, +0 above -0.
double jsMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
double jsMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// A number as JavaScript's String(v) writes it, for the messages (integers, NaN and
// ±Infinity exactly; other values the shortest round trip, as JavaScript for the usual range).
std::string jsNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return "0";
  if (v == std::floor(v) && std::fabs(v) < 1e21) return std::to_string(static_cast<long long>(v));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// recurrenceCos: cos(ω) by least squares on x[n+1] + x[n−1] = 2c·x[n] where `use` allows.
double recurrenceCos(const float* x, std::int64_t from, std::int64_t to, const std::vector<std::uint8_t>* use) {
  double num = 0;
  double den = 0;
  for (std::int64_t i = from + 1; i + 1 < to; i++) {
    if (use && !(*use)[static_cast<std::size_t>(i - from)]) continue;
    const double xi = x[i];
    num += (static_cast<double>(x[i + 1]) + static_cast<double>(x[i - 1])) * xi;
    den += 2 * xi * xi;
  }
  if (den == 0) throw GlitchDetectionError("glitch detection: the channel is silent; there is no sine to follow");
  return jsMax(-1, jsMin(1, num / den));
}

// medianOf5 (glitches.ts): amp[k] replaced by the median of amp[k-2..k+2] (those inside
// [1, n-1)), `otherwise` where there are none. The detector's amplitudes are finite (its
// samples are checked), where the median of five is one value whatever the order it is
// found in: inside, by min and max (the lesser pair's larger, the larger pair's smaller and
// the fifth, their median); near the ends, by sorting the few there are.
class MedianOf5 {
 public:
  MedianOf5(const double* amp, std::int64_t n, double otherwise) : amp_(amp), n_(n), otherwise_(otherwise) {}
  // Where all five are there (k in [3, n-3)), centred on p.
  static double inside(const double* p) {
    const double lowPairMax = std::max(std::min(p[-2], p[-1]), std::min(p[0], p[1]));
    const double highPairMin = std::min(std::max(p[-2], p[-1]), std::max(p[0], p[1]));
    return std::max(std::min(lowPairMax, highPairMin), std::min(std::max(lowPairMax, highPairMin), p[2]));
  }
  double operator()(std::int64_t k) const {
    if (k >= 3 && k < n_ - 3) return inside(amp_ + k);
    double five[5];
    int m = 0;
    for (std::int64_t d = -2; d <= 2; d++) {
      if (k + d >= 1 && k + d < n_ - 1) five[m++] = amp_[k + d];
    }
    std::sort(five, five + m);
    return m ? five[m / 2] : otherwise_;
  }

 private:
  const double* amp_;
  std::int64_t n_;
  double otherwise_;
};

struct Interval {
  std::int64_t from;
  std::int64_t to;
  GlitchKind kind;
  double magnitude;
  std::optional<double> dropDb;
};

struct PhaseFit {
  double amp;
  double phase;
};

// fitPhase: amplitude and phase of a·cos(ω(n−ref)) + b·sin(ω(n−ref)) fitted over [from, to).
std::optional<PhaseFit> fitPhase(const float* x, double omega, std::int64_t from, std::int64_t to, std::int64_t ref, const ScalarMath& math) {
  if (to - from < 8) return std::nullopt;
  double cc = 0;
  double ss = 0;
  double cs = 0;
  double xc = 0;
  double xs = 0;
  for (std::int64_t i = from; i < to; i++) {
    const double t = omega * static_cast<double>(i - ref);
    const double c = std::cos(t);
    const double s = std::sin(t);
    cc += c * c;
    ss += s * s;
    cs += c * s;
    xc += static_cast<double>(x[i]) * c;
    xs += static_cast<double>(x[i]) * s;
  }
  const double det = cc * ss - cs * cs;
  if (std::fabs(det) < 1e-12) return std::nullopt;
  const double a = (xc * ss - xs * cs) / det;
  const double b = (xs * cc - xc * cs) / det;
  return PhaseFit{math.hypot(a, b), math.atan2(a, b)};
}

// wrap: a phase in (−π, π] (JavaScript's % is fmod).
double wrap(double phase) {
  double p = std::fmod(phase, 2 * kPi);
  if (p <= -kPi) p += 2 * kPi;
  if (p > kPi) p -= 2 * kPi;
  return p;
}

// envelopeAt: the centred moving average of the smoothed amplitude at k, from its prefix sums.
double envelopeAt(const std::vector<double>& prefix, std::int64_t n, std::int64_t half, std::int64_t w, double amplitude, std::int64_t k) {
  const std::int64_t a = std::max<std::int64_t>(1, k - half);
  const std::int64_t b = std::min<std::int64_t>(n - 1, k - half + w);
  return b > a ? (prefix[static_cast<std::size_t>(b)] - prefix[static_cast<std::size_t>(a)]) / static_cast<double>(b - a) : amplitude;
}

// The prefix sums of the median-of-5-smoothed amplitude, a block at a time: the block's
// medians first (min and max, no dependence between them), then their running sum in order.
void smoothedPrefix(const MedianOf5& med5, const double* amp, std::int64_t n, std::vector<double>& prefix) {
  prefix.resize(static_cast<std::size_t>(n) + 1);
  prefix[0] = 0;
  constexpr std::int64_t kBlock = 256;
  double block[kBlock];
  for (std::int64_t k0 = 0; k0 < n; k0 += kBlock) {
    const std::int64_t k1 = std::min(n, k0 + kBlock);
    if (k0 >= 3 && k1 <= n - 3) {
      for (std::int64_t k = k0; k < k1; k++) block[k - k0] = MedianOf5::inside(amp + k);
    } else {
      for (std::int64_t k = k0; k < k1; k++) block[k - k0] = med5(k);
    }
    for (std::int64_t k = k0; k < k1; k++) prefix[static_cast<std::size_t>(k) + 1] = prefix[static_cast<std::size_t>(k)] + block[k - k0];
  }
}

// firstBelow (glitches.ts): the first k' >= k below n - 1 whose envelope is below `limit`
// (n - 1 if none). Where the whole window is inside [1, n-1) its width is w: a block of
// envelopes is worked out at a time, then searched (envelopes are numbers: not >= is <).
std::int64_t firstBelow(const std::vector<double>& prefix, std::int64_t n, std::int64_t half, std::int64_t w, double amplitude, double limit, std::int64_t k) {
  const std::int64_t whole0 = half + 1;
  const std::int64_t whole1 = n - 1 - w + half + 1;
  const double width = static_cast<double>(w);
  const double* p = prefix.data();
  constexpr std::int64_t kBlock = 256;
  double block[kBlock];
  while (k < n - 1) {
    if (k >= whole0 && k < whole1) {
      const std::int64_t stop = std::min(whole1, k + kBlock);
      for (std::int64_t j = k; j < stop; j++) block[j - k] = (p[j - half + w] - p[j - half]) / width;
      for (std::int64_t j = k; j < stop; j++) {
        if (block[j - k] < limit) return j;
      }
      k = stop;
    } else {
      if (!(envelopeAt(prefix, n, half, w, amplitude, k) >= limit)) return k;
      k++;
    }
  }
  return k;
}

// median over values(i), i in [0, n), worked out as they are needed (a pass or two of the
// bracket), not stored.
template <class Values>
double medianOf(std::size_t n, Values values) {
  const std::size_t k = n / 2;
  if (n >= kBracketMin) {
    // A spread sample, sorted, gives two values the k-th very likely lies between; one
    // pass counts those below and keeps those inside, where it is selected. (NaN, last in
    // the sort, is neither below nor inside; a zero k-th, whose sign only the sort gives,
    // is found the plain way.)
    std::vector<double> sample(kBracketSample);
    for (std::size_t j = 0; j < kBracketSample; j++) sample[j] = values(j * n / kBracketSample);
    std::sort(sample.begin(), sample.end(), [](double a, double b) { return a < b || (!std::isnan(a) && std::isnan(b)); });
    const double at = static_cast<double>(k) / static_cast<double>(n) * kBracketSample;
    const double lo = sample[static_cast<std::size_t>(std::max(0.0, std::floor(at - kBracketHalf)))];
    const double hi = sample[static_cast<std::size_t>(std::min(kBracketSample - 1.0, std::ceil(at + kBracketHalf)))];
    std::size_t below = 0;
    std::size_t inside = 0;
    for (std::size_t i = 0; i < n; i++) {
      const double v = values(i);
      below += static_cast<std::size_t>(v < lo);
      inside += static_cast<std::size_t>((v >= lo) & (v <= hi));
    }
    if (k >= below && k < below + inside) {
      if (lo == hi && lo != 0) return lo;
      if (lo != hi && inside <= n / 4) {
        std::vector<double> kept(inside + 1);
        std::size_t j = 0;
        for (std::size_t i = 0; i < n; i++) {
          const double v = values(i);
          kept[j] = v;
          j += static_cast<std::size_t>((v >= lo) & (v <= hi));
        }
        kept.resize(inside);
        std::nth_element(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(k - below), kept.end());
        const double m = kept[k - below];
        if (m != 0) return m;
      }
    }
  }
  std::vector<double> all(n);
  for (std::size_t i = 0; i < n; i++) all[i] = values(i);
  return medianInPlace(all);
}

}  // namespace

ScalarMath ScalarMath::standard() {
  return ScalarMath{
      [](double v) { return std::cos(v); },
      [](double v) { return std::sin(v); },
      [](double v) { return std::acos(v); },
      [](double v) { return std::log10(v); },
      [](double a, double b) { return std::pow(a, b); },
      [](double a, double b) { return std::atan2(a, b); },
      [](double a, double b) { return std::hypot(a, b); },
  };
}

const char* glitchKindName(GlitchKind kind) {
  switch (kind) {
    case GlitchKind::kPredictionError: return "prediction-error";
    case GlitchKind::kDropout: return "dropout";
    case GlitchKind::kDiscontinuity: return "discontinuity";
    case GlitchKind::kMagnitudeDrop: return "magnitude-drop";
    case GlitchKind::kPhaseJump: return "phase-jump";
  }
  return "unknown";
}

double medianInPlace(std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n == 0) return 0;
  const std::size_t k = n / 2;
  // Float64Array's order: NaN last; among zeros, -0 first.
  const auto numbers = std::partition(values.begin(), values.end(), [](double v) { return !std::isnan(v); });
  const auto count = static_cast<std::size_t>(numbers - values.begin());
  if (k >= count) return std::numeric_limits<double>::quiet_NaN();
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), numbers);
  const double m = values[k];
  if (m != 0) return m;
  std::size_t belowOrMinusZero = 0;
  for (auto it = values.begin(); it != numbers; ++it) belowOrMinusZero += *it < 0 || (*it == 0 && std::signbit(*it));
  return k < belowOrMinusZero ? -0.0 : 0.0;
}

double median(const double* values, std::size_t n) {
  return medianOf(n, [values](std::size_t i) { return values[i]; });
}

ChannelGlitchResult detectChannelGlitches(const float* x, std::size_t length, double sampleRate, double channel, const GlitchSettings& o, const ScalarMath& math, GlitchWorkspace* workspace) {
  if (!(sampleRate > 0 && sampleRate < std::numeric_limits<double>::infinity())) {
    throw GlitchDetectionError("glitch detection: the sample rate must be a positive number of Hz, got " + jsNumber(sampleRate));
  }
  if (!(o.envelopeWindow == std::floor(o.envelopeWindow) && std::isfinite(o.envelopeWindow))) {
    throw GlitchDetectionError("glitch detection: option envelopeWindow must be a whole number of samples, got " + jsNumber(o.envelopeWindow));
  }
  if (o.frequencyHz && !std::isfinite(*o.frequencyHz)) {
    throw GlitchDetectionError("glitch detection: option frequencyHz must be a finite number of Hz, got " + jsNumber(*o.frequencyHz));
  }
  const double start = o.captureStartSample;
  auto isZero = [&](float v) { return std::fabs(static_cast<double>(v)) <= o.zeroThreshold; };
  std::int64_t from = 0;
  std::int64_t to = static_cast<std::int64_t>(length);
  if (o.trimSilence) {
    while (from < to && isZero(x[from])) from++;
    while (to > from && isZero(x[to - 1])) to--;
  }
  if (to - from < 16) {
    throw GlitchDetectionError("glitch detection: channel " + jsNumber(channel) + " has " + std::to_string(to - from) + " samples of signal; need at least 16");
  }
  for (std::int64_t i = from; i < to; i++) {
    if (!std::isfinite(x[i])) {
      throw GlitchDetectionError("glitch detection: channel " + jsNumber(channel) + "'s sample " + std::to_string(i) + " is " + jsNumber(x[i]) + "; the detector follows finite samples only");
    }
  }
  const auto span_ = static_cast<std::size_t>(to - from);

  // Prediction error for a given cos(ω) at index k of the analysed range (k >= 2), worked
  // out where it is needed rather than stored; the tolerance from its median.
  const float* y = x + from;
  auto errorAt = [y](double c, std::size_t k) { return std::fabs(static_cast<double>(y[k]) - (2 * c * static_cast<double>(y[k - 1]) - static_cast<double>(y[k - 2]))); };
  auto predict = [&](double c) {
    const double robustSigma = medianOf(span_ - 2, [&](std::size_t i) { return errorAt(c, i + 2); }) / 0.6745;
    return o.tolerance ? *o.tolerance : jsMax(o.sigmas * robustSigma, o.floor);
  };
  double c;
  double tolerance;
  if (o.frequencyHz) {
    c = math.cos((2 * kPi * *o.frequencyHz) / sampleRate);
    tolerance = predict(c);
  } else {
    // Glitches bias a plain least-squares frequency; refit without the samples near
    // prediction errors and zero runs until the estimate settles.
    c = recurrenceCos(x, from, to, nullptr);
    tolerance = predict(c);
    std::vector<std::uint8_t> use(span_);
    const auto m = static_cast<std::int64_t>(span_);
    for (int pass = 0; pass < 3; pass++) {
      std::fill(use.begin(), use.end(), 1);
      for (std::int64_t k = 2; k < m; k++) {
        if (errorAt(c, static_cast<std::size_t>(k)) > tolerance || isZero(x[from + k])) {
          for (std::int64_t d = -3; d <= 3; d++) {
            if (k + d >= 0 && k + d < m) use[static_cast<std::size_t>(k + d)] = 0;
          }
        }
      }
      const double next = recurrenceCos(x, from, to, &use);
      const bool settled = std::fabs(next - c) < 1e-12;
      c = next;
      tolerance = predict(c);
      if (settled) break;
    }
  }
  const double omega = math.acos(c);
  const double sinW = math.sin(omega);
  if (sinW < 1e-4) throw GlitchDetectionError("glitch detection: channel " + jsNumber(channel) + "'s frequency is too close to 0 or Nyquist to follow");

  // Instantaneous amplitude (0 at the ends), for the step bound and magnitude drops.
  const auto n = static_cast<std::int64_t>(span_);
  GlitchWorkspace local;
  GlitchWorkspace& ws = workspace ? *workspace : local;
  ws.amp.resize(span_);
  double* amp = ws.amp.data();
  const double sin2W = sinW * sinW;
  amp[0] = 0;
  amp[span_ - 1] = 0;
  for (std::size_t k = 1; k + 1 < span_; k++) {
    const double yk = y[k];
    const double a2 = (yk * yk - static_cast<double>(y[k - 1]) * static_cast<double>(y[k + 1])) / sin2W;
    amp[k] = std::sqrt(a2 > 0 ? a2 : 0.0);  // Math.max(0, a2): a2 is a number
  }
  const double amplitude = median(amp + 1, span_ - 2);
  const double maxStep = o.stepMargin * 2 * amplitude * math.sin(omega / 2) + tolerance;

  // Prediction errors, dropouts and discontinuities, each kind in order of time (as the
  // TypeScript's passes find them), in one pass: a block of samples is first only asked
  // whether it holds anything (no branches: vectorised), and gone through if it does.
  std::vector<Interval> predicted;
  std::vector<Interval> dropouts;
  std::vector<Interval> steps;
  std::int64_t zeroRun = 0;
  auto visit = [&](std::int64_t i) {
    const auto k = static_cast<std::size_t>(i - from);
    if (k >= 2) {
      const double e = errorAt(c, k);
      if (e > tolerance) predicted.push_back({i, i + 1, GlitchKind::kPredictionError, e, std::nullopt});
    }
    if (isZero(x[i])) {
      zeroRun++;
    } else {
      if (static_cast<double>(zeroRun) >= o.minDropout && zeroRun > 0) dropouts.push_back({i - zeroRun, i, GlitchKind::kDropout, 0, std::nullopt});
      zeroRun = 0;
    }
    if (k >= 1) {
      const double step = std::fabs(static_cast<double>(x[i]) - static_cast<double>(x[i - 1]));
      if (step > maxStep) steps.push_back({i, i + 1, GlitchKind::kDiscontinuity, step, std::nullopt});
    }
  };
  std::int64_t at = from;
  for (; at < to && at < from + 2; at++) visit(at);
  constexpr std::int64_t kBlock = 256;
  while (at < to) {
    const std::int64_t stop = std::min(to, at + kBlock);
    std::int64_t hits = 0;
    for (std::int64_t i = at; i < stop; i++) {
      const double e = errorAt(c, static_cast<std::size_t>(i - from));
      const double step = std::fabs(static_cast<double>(x[i]) - static_cast<double>(x[i - 1]));
      hits += static_cast<std::int64_t>((e > tolerance) | (std::fabs(static_cast<double>(x[i])) <= o.zeroThreshold) | (step > maxStep));
    }
    if (hits > 0 || zeroRun > 0) {
      for (std::int64_t i = at; i < stop; i++) visit(i);
    }
    at = stop;
  }
  if (static_cast<double>(zeroRun) >= o.minDropout && zeroRun > 0) dropouts.push_back({to - zeroRun, to, GlitchKind::kDropout, 0, std::nullopt});
  std::vector<Interval> intervals = std::move(predicted);
  intervals.insert(intervals.end(), dropouts.begin(), dropouts.end());
  intervals.insert(intervals.end(), steps.begin(), steps.end());
  // Magnitude drop: a centred moving average of the amplitude finds runs below the limit;
  // their edges are placed where the raw amplitude (median of 5) crosses it.
  const auto w = static_cast<std::int64_t>(jsMax(1, jsMin(o.envelopeWindow, std::floor(static_cast<double>(to - from) / 4))));
  const std::int64_t half = w / 2;
  const double limit = amplitude * math.pow(10, -o.dropDb / 20);
  const MedianOf5 med5(amp, n, amplitude);
  smoothedPrefix(med5, amp, n, ws.prefix);
  const std::vector<double>& prefix = ws.prefix;
  auto env = [&](std::int64_t k) { return envelopeAt(prefix, n, half, w, amplitude, k); };
  for (std::int64_t k = 1; k < n - 1;) {
    k = firstBelow(prefix, n, half, w, amplitude, limit, k);
    if (k >= n - 1) break;
    std::int64_t end = k;
    double lowest = std::numeric_limits<double>::infinity();
    while (end < n - 1 && env(end) < limit) lowest = jsMin(lowest, env(end++));
    std::int64_t a = std::max<std::int64_t>(1, k - w);
    while (a < end && med5(a) >= limit) a++;
    std::int64_t b = std::min<std::int64_t>(n - 2, end + w);
    while (b > a && med5(b) >= limit) b--;
    if (a <= b) {
      intervals.push_back({from + a, from + b + 1, GlitchKind::kMagnitudeDrop, amplitude - lowest, jsMax(-120, 20 * math.log10(lowest / amplitude))});
    }
    k = std::max(end, k + 1);
  }

  // Merge intervals into glitches (a stable sort, as Array.prototype.sort is).
  std::stable_sort(intervals.begin(), intervals.end(), [](const Interval& p, const Interval& q) { return p.from < q.from; });
  ChannelGlitchResult result;
  const auto span = static_cast<std::int64_t>(jsMax(32, std::ceil((4 * kPi) / omega)));
  struct Current {
    std::int64_t from;
    std::int64_t to;
    std::vector<GlitchKind> kinds;
    double magnitude;
    std::optional<double> dropDb;
  };
  std::optional<Current> cur;
  auto flush = [&] {
    if (!cur) return;
    DetectedGlitch g;
    g.sample = start + static_cast<double>(cur->from);
    g.length = static_cast<double>(std::max<std::int64_t>(1, cur->to - cur->from));
    g.kinds = cur->kinds;
    g.magnitude = cur->magnitude;
    g.levelDropDb = cur->dropDb;
    // Phase on either side, both referred to the glitch's first sample.
    const auto before = fitPhase(x, omega, std::max(from, cur->from - span), cur->from, cur->from, math);
    const auto after = fitPhase(x, omega, cur->to, std::min(to, cur->to + span), cur->from, math);
    if (before && after && before->amp > 0.5 * amplitude && after->amp > 0.5 * amplitude) {
      g.phaseJumpRad = wrap(after->phase - before->phase);
      if (std::fabs(*g.phaseJumpRad) > o.phaseTolerance) g.kinds.push_back(GlitchKind::kPhaseJump);
    }
    result.glitches.push_back(std::move(g));
  };
  for (const Interval& iv : intervals) {
    if (cur && static_cast<double>(iv.from) <= static_cast<double>(cur->to) + o.mergeGap) {
      cur->to = std::max(cur->to, iv.to);
      if (std::find(cur->kinds.begin(), cur->kinds.end(), iv.kind) == cur->kinds.end()) cur->kinds.push_back(iv.kind);
      cur->magnitude = jsMax(cur->magnitude, iv.magnitude);
      if (iv.dropDb) cur->dropDb = jsMin(cur->dropDb ? *cur->dropDb : 0, *iv.dropDb);
    } else {
      flush();
      cur = Current{iv.from, iv.to, {iv.kind}, iv.magnitude, iv.dropDb};
    }
  }
  flush();
  result.frequencyHz = (omega * sampleRate) / (2 * kPi);
  result.amplitude = amplitude;
  result.tolerance = tolerance;
  result.analysedFrom = from;
  result.analysedTo = to;
  return result;
}

}  // namespace aes67::native
