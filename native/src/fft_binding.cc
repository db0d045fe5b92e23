// lab/signal/fft.ts fft in C++ (radix2_fft.hpp) for the measurement's latency probe
// (lab/signal/native-fft.ts): the same transform to the bit, with twiddle tables from
// JavaScript's Math.cos and Math.sin, kept as fft.ts keeps its own.
#include <napi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "native/src/js_math.hpp"
#include "native/src/radix2_fft.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

using Twiddles = std::vector<std::vector<double>>;

// As fft.ts: a few lengths kept; none of 2^18 points or more (4 MB and up).
constexpr std::size_t kTablesKept = 8;
constexpr std::size_t kLongestKept = std::size_t{1} << 17;

// fft(re: Float64Array, im: Float64Array, inverse: boolean): in place, as fft.ts's fft.
Napi::Value fft(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(env, "fft(re: Float64Array, im: Float64Array, inverse?: boolean)");
  }
  auto re = info[0].As<Napi::Float64Array>();
  auto im = info[1].As<Napi::Float64Array>();
  const bool inverse = info.Length() > 2 && info[2].ToBoolean().Value();
  const std::size_t n = re.ElementLength();
  if (im.ElementLength() != n) throw Napi::Error::New(env, "fft: real (" + std::to_string(n) + ") and imaginary (" + std::to_string(im.ElementLength()) + ") lengths differ");
  if (n == 0 || (n & (n - 1)) != 0) throw Napi::Error::New(env, "fft: length " + std::to_string(n) + " is not a power of two");
  thread_local std::map<std::int64_t, Twiddles> tables;  // per thread: worker threads load the addon too
  const int sign = inverse ? 1 : -1;
  const std::int64_t key = sign * static_cast<std::int64_t>(n);
  auto found = tables.find(key);
  Twiddles once;
  const Twiddles* twiddles = nullptr;
  if (found != tables.end()) {
    twiddles = &found->second;
  } else {
    const ScalarMath math = javaScriptMath(env);
    once = radix2Twiddles(n, sign, math.cos, math.sin);
    twiddles = &once;
    if (n <= kLongestKept) {
      if (tables.size() >= kTablesKept) tables.clear();
      twiddles = &(tables[key] = std::move(once));
    }
  }
  radix2Fft(re.Data(), im.Data(), n, *twiddles, inverse);
  return env.Undefined();
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("fft", Napi::Function::New(env, fft, "fft"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
