// The measurement's sample-by-sample comparison (lab/scenario/returned-audio.ts): how many
// samples of one channel of recorded L16/L24/L32 payload bytes differ from a table of
// expected values. A 10 s run of 64 channels compares 30 million samples; this loop in
// C++ is several times the speed of the same loop in JavaScript, which stays as the
// reference (returned-audio.test.ts checks the two agree, and both against decodePcm).
#include <napi.h>

#include <cstdint>
#include <string>

#include "native/src/pcm_compare.hpp"
#include "native/src/registry.hpp"

namespace aes67::native {

namespace {

// countDifferingSamples(bytes: Uint8Array, start, stride, count, width, table: Float32Array, phase)
//   samples i = 0..count-1 at bytes[start + i*stride], `width` bytes big-endian two's
//   complement, decoded as lab/net/pcm.ts decodePcm does (value / 2^(8 width - 1), stored
//   as a float), against table[(phase + i) % table.length]: how many differ.
Napi::Value countDifferingSamples(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 7 || !info[0].IsTypedArray() || !info[5].IsTypedArray()) {
    throw Napi::TypeError::New(env, "countDifferingSamples(bytes: Uint8Array, start, stride, count, width, table: Float32Array, phase)");
  }
  const auto bytesArg = info[0].As<Napi::TypedArray>();
  const auto tableArg = info[5].As<Napi::TypedArray>();
  if (bytesArg.TypedArrayType() != napi_uint8_array) throw Napi::TypeError::New(env, "countDifferingSamples: bytes must be a Uint8Array");
  if (tableArg.TypedArrayType() != napi_float32_array) throw Napi::TypeError::New(env, "countDifferingSamples: table must be a Float32Array");
  const auto bytes = bytesArg.As<Napi::Uint8Array>();
  const auto table = tableArg.As<Napi::Float32Array>();
  const std::int64_t start = toInt64(info[1], "start");
  const std::int64_t stride = toInt64(info[2], "stride");
  const std::int64_t count = toInt64(info[3], "count");
  const std::int64_t width = toInt64(info[4], "width");
  std::int64_t phase = toInt64(info[6], "phase");
  const auto period = static_cast<std::int64_t>(table.ElementLength());
  if (width != 2 && width != 3 && width != 4) throw Napi::RangeError::New(env, "countDifferingSamples: width must be 2, 3 or 4 bytes (L16, L24, L32)");
  if (count < 0 || start < 0 || stride < width) throw Napi::RangeError::New(env, "countDifferingSamples: start and count must not be negative, stride at least the width");
  if (count == 0) return Napi::Number::New(env, 0);
  if (period == 0 || phase < 0 || phase >= period) throw Napi::RangeError::New(env, "countDifferingSamples: phase must lie inside a non-empty table");
  if (start + (count - 1) * stride + width > static_cast<std::int64_t>(bytes.ElementLength())) {
    throw Napi::RangeError::New(env, "countDifferingSamples: the samples run past the end of bytes (" + std::to_string(bytes.ElementLength()) + ")");
  }
  std::int64_t k = phase;
  const std::int64_t wrong = pcm::withDecoder(static_cast<int>(width), [&](auto decode) {
    return pcm::countDiffering(bytes.Data() + start, stride, count, table.Data(), period, k, decode);
  });
  return Napi::Number::New(env, static_cast<double>(wrong));
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("countDifferingSamples", Napi::Function::New(env, countDifferingSamples, "countDifferingSamples"));
}

const bool registered = registerBinding(&init);

}  // namespace

}  // namespace aes67::native
