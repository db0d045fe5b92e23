// The glitch detector (glitch_detector.hpp) for the measurement (lab/measure/native-glitches.ts),
// with JavaScript's own Math for the scalar transcendental functions, so the figures that
// decide a glitch come out as the TypeScript detector's, bit for bit.
#include <napi.h>

#include <string>

#include "native/src/glitch_detector.hpp"
#include "native/src/js_math.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

double requiredNumber(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("detectChannelGlitches: settings.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::optional<double> optionalNumber(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("detectChannelGlitches: settings.") + key + " must be a number or undefined");
  return v.As<Napi::Number>().DoubleValue();
}

// detectChannelGlitches(x: Float32Array, sampleRate, channel, settings) -> ChannelGlitches
//   settings: glitches.ts GlitchSettings (the options with the defaults applied).
Napi::Value detect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsObject()) {
    throw Napi::TypeError::New(env, "detectChannelGlitches(x: Float32Array, sampleRate: number, channel: number, settings: GlitchSettings)");
  }
  if (info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) throw Napi::TypeError::New(env, "detectChannelGlitches: x must be a Float32Array");
  const auto x = info[0].As<Napi::Float32Array>();
  const double sampleRate = info[1].As<Napi::Number>().DoubleValue();
  const double channel = info[2].As<Napi::Number>().DoubleValue();
  const auto o = info[3].As<Napi::Object>();
  GlitchSettings s;
  s.captureStartSample = optionalNumber(o, "captureStartSample").value_or(0);
  s.frequencyHz = optionalNumber(o, "frequencyHz");
  s.tolerance = optionalNumber(o, "tolerance");
  s.sigmas = requiredNumber(o, "sigmas");
  s.floor = requiredNumber(o, "floor");
  s.zeroThreshold = requiredNumber(o, "zeroThreshold");
  s.minDropout = requiredNumber(o, "minDropout");
  s.stepMargin = requiredNumber(o, "stepMargin");
  s.dropDb = requiredNumber(o, "dropDb");
  s.envelopeWindow = requiredNumber(o, "envelopeWindow");
  s.phaseTolerance = requiredNumber(o, "phaseTolerance");
  s.mergeGap = requiredNumber(o, "mergeGap");
  s.trimSilence = o.Get("trimSilence").ToBoolean().Value();

  // Kept from channel to channel (a measurement detects one per returned stream); let go
  // after a channel longer than 2^21 samples (44 s at 48 kHz), not to hold 2 x 16 MB.
  thread_local GlitchWorkspace workspace;
  ChannelGlitchResult r;
  try {
    r = detectChannelGlitches(x.Data(), x.ElementLength(), sampleRate, channel, s, javaScriptMath(env), &workspace);
    if (workspace.amp.capacity() > (std::size_t{1} << 21)) workspace = GlitchWorkspace{};
  } catch (const GlitchDetectionError& e) {
    throw Napi::Error::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "detectChannelGlitches: out of memory for a channel of " + std::to_string(x.ElementLength()) + " samples");
  }

  // The ChannelGlitches and Glitch objects, their properties in glitches.ts's order.
  Napi::Array glitches = Napi::Array::New(env, r.glitches.size());
  for (std::size_t i = 0; i < r.glitches.size(); i++) {
    const DetectedGlitch& g = r.glitches[i];
    Napi::Object out = Napi::Object::New(env);
    out.Set("channel", channel);
    out.Set("sample", g.sample);
    out.Set("length", g.length);
    Napi::Array kinds = Napi::Array::New(env, g.kinds.size());
    for (std::size_t k = 0; k < g.kinds.size(); k++) kinds.Set(static_cast<std::uint32_t>(k), glitchKindName(g.kinds[k]));
    out.Set("kinds", kinds);
    out.Set("magnitude", g.magnitude);
    if (g.levelDropDb) out.Set("levelDropDb", *g.levelDropDb);
    if (g.phaseJumpRad) out.Set("phaseJumpRad", *g.phaseJumpRad);
    glitches.Set(static_cast<std::uint32_t>(i), out);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("channel", channel);
  result.Set("frequencyHz", r.frequencyHz);
  result.Set("amplitude", r.amplitude);
  result.Set("tolerance", r.tolerance);
  result.Set("analysedFrom", static_cast<double>(r.analysedFrom));
  result.Set("analysedTo", static_cast<double>(r.analysedTo));
  result.Set("glitches", glitches);
  return result;
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("detectChannelGlitches", Napi::Function::New(env, detect, "detectChannelGlitches"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
