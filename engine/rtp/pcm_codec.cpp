#include "engine/rtp/pcm_codec.hpp"

#include "engine/rtp/pcm_kernels.hpp"

#include <cmath>
#include <cstring>

namespace aes67 {

namespace {
// Big-endian words from and to host order (the compilers turn these into one bswap or
// nothing, and vectorize them).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
std::uint16_t fromBigEndian16(std::uint16_t w) { return w; }
std::uint32_t fromBigEndian32(std::uint32_t w) { return w; }
#else
std::uint16_t fromBigEndian16(std::uint16_t w) { return __builtin_bswap16(w); }
std::uint32_t fromBigEndian32(std::uint32_t w) { return __builtin_bswap32(w); }
#endif
std::uint16_t toBigEndian16(std::uint16_t w) { return fromBigEndian16(w); }
std::uint32_t toBigEndian32(std::uint32_t w) { return fromBigEndian32(w); }
}  // namespace

const char* toString(PcmEncoding e) {
  switch (e) {
    case PcmEncoding::kL16: return "L16";
    case PcmEncoding::kL24: return "L24";
    case PcmEncoding::kL32: return "L32";
  }
  return "?";
}

std::optional<PcmEncoding> parsePcmEncoding(const std::string& name) {
  if (name.size() != 3 || (name[0] != 'L' && name[0] != 'l')) return std::nullopt;
  const std::string bits = name.substr(1);
  if (bits == "16") return PcmEncoding::kL16;
  if (bits == "24") return PcmEncoding::kL24;
  if (bits == "32") return PcmEncoding::kL32;
  return std::nullopt;
}

namespace {

// The portable kernels: the reference every instruction-set kernel (pcm_kernels_avx2.cpp)
// must match bit for bit, and what a CPU without such a set runs (x86-64 without AVX2,
// arm64). No branch per sample, whole words loaded and stored where the layout allows,
// clipping done on the float's bits (integer compares and selects vectorize; GCC keeps
// float compares as branches under its default -ftrapping-math), so a compiler can
// vectorize them; GCC 12 does so only for some at x86-64's SSE2 baseline (the scalar rows
// of `npm run bench -- codec`).
constexpr float kL16Unit = 1.0f / 32768.0f;
constexpr float kL24Unit = 1.0f / 8388608.0f;
// int32 -> float rounds to nearest once and the scaling is exact, so this equals rounding
// the exact quotient: L32 decodes to the nearest float, as every DAW does.
constexpr float kL32Unit = 1.0f / 2147483648.0f;

std::uint32_t bitsOf(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
float floatOf(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// All ones when `c`, else zero: a select without a branch.
std::uint32_t maskIf(bool c) { return 0u - static_cast<std::uint32_t>(c); }
std::uint32_t select(std::uint32_t mask, std::uint32_t ifSet, std::uint32_t ifClear) {
  return (ifSet & mask) | (ifClear & ~mask);
}

// x clipped to [-1, 1]; NaN becomes 0: silence, not a full-scale click (and what the lab's
// codec does).
float clampToUnit(float x) {
  std::uint32_t b = bitsOf(x);
  const std::uint32_t magnitude = b & 0x7FFFFFFFu;
  b = select(maskIf(magnitude > 0x3F800000u), (b & 0x80000000u) | 0x3F800000u, b);  // |x| > 1: +-1
  b = select(maskIf(magnitude > 0x7F800000u), 0u, b);                                // NaN: 0
  return floatOf(b);
}

// v rounded to the nearest integer, ties to even (the default rounding mode), for
// |v| <= 2^23: adding 2^23 with v's sign leaves no fraction bits; taking it away is exact.
float roundToInteger(float v) {
  const float m = std::copysign(8388608.0f, v);
  return (v + m) - m;
}

void decodeL16(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::uint16_t w;
    std::memcpy(&w, in + 2 * i, 2);
    out[i] = static_cast<float>(static_cast<std::int16_t>(fromBigEndian16(w))) * kL16Unit;
  }
}

void decodeL24(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    const std::uint8_t* p = in + 3 * i;
    const std::uint32_t w = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8);
    out[i] = static_cast<float>(static_cast<std::int32_t>(w) >> 8) * kL24Unit;
  }
}

void decodeL32(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::uint32_t w;
    std::memcpy(&w, in + 4 * i, 4);
    out[i] = static_cast<float>(static_cast<std::int32_t>(fromBigEndian32(w))) * kL32Unit;
  }
}

// Full scale is 2^(bits-1): -1.0 maps to the most negative code; +1.0 clips to the largest.
void encodeL16(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::int32_t q = static_cast<std::int32_t>(roundToInteger(clampToUnit(in[i]) * 32768.0f));
    q = q < 32767 ? q : 32767;
    const std::uint16_t w = toBigEndian16(static_cast<std::uint16_t>(q));
    std::memcpy(out + 2 * i, &w, 2);
  }
}

void encodeL24(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::int32_t q = static_cast<std::int32_t>(roundToInteger(clampToUnit(in[i]) * 8388608.0f));
    q = q < 8388607 ? q : 8388607;
    std::uint8_t* p = out + 3 * i;
    p[0] = static_cast<std::uint8_t>(q >> 16);
    p[1] = static_cast<std::uint8_t>(q >> 8);
    p[2] = static_cast<std::uint8_t>(q);
  }
}

void encodeL32(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    const float v = clampToUnit(in[i]) * 2147483648.0f;  // exact, |v| <= 2^31
    // Rounding matters only below 2^23; above it every float is a whole number.
    std::uint32_t b = select(maskIf((bitsOf(v) & 0x7FFFFFFFu) <= 0x4B000000u), bitsOf(roundToInteger(v)), bitsOf(v));
    // +2^31 (x = 1.0) is one past the largest code: convert a float that fits, then clip.
    const std::uint32_t top = maskIf(b == 0x4F000000u);
    b = select(top, 0x4EFFFFFFu, b);
    const std::uint32_t q = select(top, 0x7FFFFFFFu, static_cast<std::uint32_t>(static_cast<std::int32_t>(floatOf(b))));
    const std::uint32_t w = toBigEndian32(q);
    std::memcpy(out + 4 * i, &w, 4);
  }
}

constexpr PcmKernels kScalarKernels{PcmKernelSet::kScalar, {decodeL16, decodeL24, decodeL32}, {encodeL16, encodeL24, encodeL32}};

}  // namespace

namespace detail {
PcmDispatch pcmDispatch{{decodeL16, decodeL24, decodeL32}, {encodeL16, encodeL24, encodeL32}};
}  // namespace detail

namespace {

bool cpuHasAvx2() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();  // may run before the runtime's own constructor
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool cpuHasAvx512() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

const PcmKernels* fastestKernels() {
  const PcmKernels* avx512 = avx512PcmKernelsIfBuilt();
  if (avx512 != nullptr && cpuHasAvx512()) return avx512;
  const PcmKernels* avx2 = avx2PcmKernelsIfBuilt();
  return avx2 != nullptr && cpuHasAvx2() ? avx2 : &kScalarKernels;
}

// Chosen once while the program (or the addon) loads, before any thread can code audio;
// a call from an earlier static initializer still works, with the scalar kernels.
const PcmKernels* active = &kScalarKernels;
const PcmKernels* chooseKernels() {
  active = fastestKernels();
  for (std::size_t e = 0; e < 3; ++e) {
    detail::pcmDispatch.decode[e] = active->decode[e];
    detail::pcmDispatch.encode[e] = active->encode[e];
  }
  return active;
}
[[maybe_unused]] const PcmKernels* const kActiveChosen = chooseKernels();

}  // namespace

const char* toString(PcmKernelSet s) {
  switch (s) {
    case PcmKernelSet::kScalar: return "scalar";
    case PcmKernelSet::kAvx2: return "avx2";
    case PcmKernelSet::kAvx512: return "avx512";
  }
  return "?";
}

const PcmKernels* pcmKernels(PcmKernelSet s) {
  switch (s) {
    case PcmKernelSet::kScalar: return &kScalarKernels;
    case PcmKernelSet::kAvx2: return cpuHasAvx2() ? avx2PcmKernelsIfBuilt() : nullptr;
    case PcmKernelSet::kAvx512: return cpuHasAvx512() ? avx512PcmKernelsIfBuilt() : nullptr;
  }
  return nullptr;
}

const PcmKernels& activePcmKernels() { return *active; }

}  // namespace aes67
