// lab/measure/glitches.ts detectChannelGlitches in C++: the glitches in one channel that
// carries a sine, found by the same passes (sine predictor, dropouts, discontinuities,
// magnitude drops, phase fits around each glitch) with double arithmetic in the same order
// (the addon is built with -ffp-contract=off), and medians as the same exact order
// statistic. The scalar transcendental functions are given by the caller (ScalarMath): the
// addon passes JavaScript's own Math, so the frequency, bounds and dB figures come out bit
// for bit as the TypeScript's; only the phase fits' per-sample cos/sin are the C library's
// (a last-ulp difference in a fitted phase). lab/measure/native-glitches.test.ts crosses
// the two detectors; lab/scenario/measure-fast.test.ts whole measurements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

namespace aes67::native {

// Bad input the TypeScript detector rejects, with its message.
class GlitchDetectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The functions whose last ulp differs between libraries (V8's and glibc's).
struct ScalarMath {
  std::function<double(double)> cos;
  std::function<double(double)> sin;
  std::function<double(double)> acos;
  std::function<double(double)> log10;
  std::function<double(double, double)> pow;
  std::function<double(double, double)> atan2;
  std::function<double(double, double)> hypot;
  // The C library's.
  static ScalarMath standard();
};

// GlitchOptions with glitches.ts's defaults applied (the caller applies them).
struct GlitchSettings {
  double captureStartSample = 0;
  std::optional<double> frequencyHz;
  std::optional<double> tolerance;
  double sigmas = 0;
  double floor = 0;
  double zeroThreshold = 0;
  double minDropout = 0;
  double stepMargin = 0;
  double dropDb = 0;
  double envelopeWindow = 0;
  double phaseTolerance = 0;
  double mergeGap = 0;
  bool trimSilence = true;
};

// GlitchKind, in glitches.ts's words.
enum class GlitchKind : std::uint8_t { kPredictionError, kDropout, kDiscontinuity, kMagnitudeDrop, kPhaseJump };
const char* glitchKindName(GlitchKind kind);

struct DetectedGlitch {
  double sample = 0;
  double length = 0;
  std::vector<GlitchKind> kinds;  // in the order they were found
  double magnitude = 0;
  std::optional<double> levelDropDb;
  std::optional<double> phaseJumpRad;
};

struct ChannelGlitchResult {
  double frequencyHz = 0;
  double amplitude = 0;
  double tolerance = 0;
  std::int64_t analysedFrom = 0;
  std::int64_t analysedTo = 0;
  std::vector<DetectedGlitch> glitches;
};

// Arrays a detection works in (a channel's length of doubles each), kept by a caller that
// detects many channels: allocating and zeroing them anew was a fifth of the time.
struct GlitchWorkspace {
  std::vector<double> amp;
  std::vector<double> prefix;
};

// Throws GlitchDetectionError with the TypeScript's message for a silent or too short
// channel, a frequency near 0 or Nyquist, samples that are not finite numbers, bad settings.
ChannelGlitchResult detectChannelGlitches(const float* x, std::size_t length, double sampleRate, double channel, const GlitchSettings& settings, const ScalarMath& math, GlitchWorkspace* workspace = nullptr);

// The element at floor(n/2) of `values` sorted ascending (as Float64Array sorts: NaN last,
// -0 before +0): glitches.ts median. medianInPlace reorders `values`.
double median(const double* values, std::size_t n);
double medianInPlace(std::vector<double>& values);

}  // namespace aes67::native
