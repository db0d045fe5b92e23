#include "engine/rtp/pcm_codec.hpp"

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

// The loops below are written so compilers vectorize them: no branch per sample, whole
// words loaded and stored where the layout allows, clipping done on the float's bits
// (integer compares and selects vectorize; GCC keeps float compares as branches under
// its default -ftrapping-math). On x86-64 ELF each loop is also built for AVX2 and picked
// at load time (the baseline build is SSE2 only, which has no byte shuffle for L24). Not
// under sanitizers: the load-time resolver runs before their runtime is up, and TSan's
// instrumentation of it crashes the program before main.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AES67_PCM_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AES67_PCM_SANITIZED 1
#endif
#if defined(__x86_64__) && defined(__ELF__) && (defined(__GNUC__) || defined(__clang__)) && !defined(AES67_PCM_SANITIZED)
#define AES67_PCM_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define AES67_PCM_KERNEL
#endif

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

AES67_PCM_KERNEL void decodeL16(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::uint16_t w;
    std::memcpy(&w, in + 2 * i, 2);
    out[i] = static_cast<float>(static_cast<std::int16_t>(fromBigEndian16(w))) * kL16Unit;
  }
}

AES67_PCM_KERNEL void decodeL24(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    const std::uint8_t* p = in + 3 * i;
    const std::uint32_t w = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8);
    out[i] = static_cast<float>(static_cast<std::int32_t>(w) >> 8) * kL24Unit;
  }
}

AES67_PCM_KERNEL void decodeL32(const std::uint8_t* __restrict in, std::size_t samples, float* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::uint32_t w;
    std::memcpy(&w, in + 4 * i, 4);
    out[i] = static_cast<float>(static_cast<std::int32_t>(fromBigEndian32(w))) * kL32Unit;
  }
}

// Full scale is 2^(bits-1): -1.0 maps to the most negative code; +1.0 clips to the largest.
AES67_PCM_KERNEL void encodeL16(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::int32_t q = static_cast<std::int32_t>(roundToInteger(clampToUnit(in[i]) * 32768.0f));
    q = q < 32767 ? q : 32767;
    const std::uint16_t w = toBigEndian16(static_cast<std::uint16_t>(q));
    std::memcpy(out + 2 * i, &w, 2);
  }
}

AES67_PCM_KERNEL void encodeL24(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
  for (std::size_t i = 0; i < samples; ++i) {
    std::int32_t q = static_cast<std::int32_t>(roundToInteger(clampToUnit(in[i]) * 8388608.0f));
    q = q < 8388607 ? q : 8388607;
    std::uint8_t* p = out + 3 * i;
    p[0] = static_cast<std::uint8_t>(q >> 16);
    p[1] = static_cast<std::uint8_t>(q >> 8);
    p[2] = static_cast<std::uint8_t>(q);
  }
}

AES67_PCM_KERNEL void encodeL32(const float* __restrict in, std::size_t samples, std::uint8_t* __restrict out) {
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

}  // namespace

void decodePcm(PcmEncoding e, const std::uint8_t* in, std::size_t samples, float* out) {
  switch (e) {
    case PcmEncoding::kL16: decodeL16(in, samples, out); break;
    case PcmEncoding::kL24: decodeL24(in, samples, out); break;
    case PcmEncoding::kL32: decodeL32(in, samples, out); break;
  }
}

void encodePcm(PcmEncoding e, const float* in, std::size_t samples, std::uint8_t* out) {
  switch (e) {
    case PcmEncoding::kL16: encodeL16(in, samples, out); break;
    case PcmEncoding::kL24: encodeL24(in, samples, out); break;
    case PcmEncoding::kL32: encodeL32(in, samples, out); break;
  }
}

}  // namespace aes67
