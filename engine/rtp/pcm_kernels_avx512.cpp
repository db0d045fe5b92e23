// The PCM kernels for x86-64 CPUs with AVX-512 F, BW, VL and VBMI (Intel since Ice Lake,
// AMD since Zen 4): sixteen samples a step in 512-bit registers. What they buy over AVX2 is
// not width (Zen 4 runs a 512-bit operation as two 256-bit halves) but fewer operations
// per sample, which is what bounds an encoder on Zen 4 (its vector pipes, not its memory):
// one byte permute across the whole register (vpermb, vpermt2b) does byte order, the
// 3-byte L24 layout and the lane order at once; NaN is a mask on an operation (zero
// masking) instead of a compare and an and; and 64-byte stores, as glibc's memcpy uses
// here, halve the stores a decoder issues. Lengths that are not a multiple of the step
// are done with masked loads and stores: nothing before or after the buffers is read or
// written. Built into every x86-64 binary with the target attribute and picked in
// pcm_codec.cpp only on a CPU that has all four extensions. Every kernel gives the scalar
// kernel's bits for every input (pcm_kernels_test.cpp), under the default MXCSR rounding
// mode (round to nearest, ties to even) the scalar code relies on too.
// Real-time safe: no allocation, no lock, no system call.
#include "engine/rtp/pcm_kernels.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

// GCC 12 warns that the _mm512_undefined_* values inside its own AVX-512 intrinsics "may
// be used uninitialized" (GCC bug 105593, fixed in GCC 13); nothing here reads them.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

namespace aes67 {

namespace {

#define AES67_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512vbmi"
#define AES67_AVX512_INLINE __attribute__((target(AES67_AVX512_TARGET), always_inline)) inline
// Loops on a 64-byte boundary, as in pcm_kernels_avx2.cpp (Zen 4 runs a loop that
// straddles one at up to half speed).
#if defined(__clang__)
#define AES67_AVX512 __attribute__((target(AES67_AVX512_TARGET)))
#else
#define AES67_AVX512 __attribute__((target(AES67_AVX512_TARGET), optimize("align-loops=64")))
#endif

constexpr float kTwoToMinus31 = 1.0f / 2147483648.0f;

// The first k of 16 lanes / 64 bytes.
AES67_AVX512_INLINE __mmask16 firstLanes(std::size_t k) { return k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << k) - 1); }
AES67_AVX512_INLINE __mmask64 firstBytes(std::size_t k) { return k >= 64 ? ~__mmask64{0} : (__mmask64{1} << k) - 1; }

// vpermb indices, built once at compile time: output byte i takes input byte index[i].
struct ByteIndex {
  alignas(64) std::uint8_t at[64];
};

// ---- decode ------------------------------------------------------------------------------
// The sample's big-endian bytes into the top of a 32-bit lane, the bytes below it zero
// (zero masking of vpermb): that integer converts to float exactly and scaling by 2^-31 is
// exact, so the result is the scalar kernel's sample * 2^-(bits-1).

constexpr ByteIndex decodeIndex(int bytesPerSample) {
  ByteIndex x{};
  for (int s = 0; s < 16; ++s) {
    for (int b = 0; b < 4; ++b) {
      // Lane byte 3 is the most significant: wire byte 0 of the sample goes there.
      const int wireByte = 3 - b;
      x.at[4 * s + b] = static_cast<std::uint8_t>(wireByte < bytesPerSample ? bytesPerSample * s + wireByte : 0);
    }
  }
  return x;
}
// Lane bytes that take a wire byte (the rest are zero).
constexpr __mmask64 decodeKeep(int bytesPerSample) {
  std::uint64_t m = 0;
  for (int s = 0; s < 16; ++s) {
    for (int b = 4 - bytesPerSample; b < 4; ++b) m |= std::uint64_t{1} << (4 * s + b);
  }
  return m;
}
constexpr ByteIndex kDecodeL16 = decodeIndex(2), kDecodeL24 = decodeIndex(3), kDecodeL32 = decodeIndex(4);

// kWhole: 16 samples, and for L24 the 16 bytes past them in the buffer too, so that one
// unmasked load (of 32 or 64 bytes) reads nothing outside it.
template <int kBytesPerSample, bool kWhole = false>
AES67_AVX512_INLINE __m512 decodeStep(const std::uint8_t* in, std::size_t samples) {
  const ByteIndex& index = kBytesPerSample == 2 ? kDecodeL16 : kBytesPerSample == 3 ? kDecodeL24 : kDecodeL32;
  __m512i wire;
  if constexpr (kWhole && kBytesPerSample == 2) wire = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
  else if constexpr (kWhole) wire = _mm512_loadu_si512(in);
  else wire = _mm512_maskz_loadu_epi8(firstBytes(kBytesPerSample * samples), in);
  const __m512i top = _mm512_maskz_permutexvar_epi8(decodeKeep(kBytesPerSample), _mm512_load_si512(index.at), wire);
  return _mm512_mul_ps(_mm512_cvtepi32_ps(top), _mm512_set1_ps(kTwoToMinus31));
}

// A decoder writes 4 bytes of float a sample: it is bound by stores. As memcpy does, the
// stores are made 64-byte aligned: a masked step up to the output's first 64-byte boundary,
// whole aligned steps, a masked step for the rest.
template <int kBytesPerSample>
AES67_AVX512_INLINE void decodeAll(const std::uint8_t* in, std::size_t n, float* out) {
  std::size_t i = 0;
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(out) & 63;
  if (misaligned % 4 == 0 && misaligned != 0) {
    const std::size_t head = (64 - misaligned) / 4 < n ? (64 - misaligned) / 4 : n;
    _mm512_mask_storeu_ps(out, firstLanes(head), decodeStep<kBytesPerSample>(in, head));
    i = head;
  }
  // Whole unmasked loads while the bytes they read are in the buffer (for L24, 16 past the
  // step's 48).
  constexpr std::size_t kSpare = kBytesPerSample == 3 ? 6 : 0;
  if (misaligned % 4 == 0) {
    for (; i + 32 + kSpare <= n; i += 32) {
      _mm512_store_ps(out + i, decodeStep<kBytesPerSample, true>(in + kBytesPerSample * i, 16));
      _mm512_store_ps(out + i + 16, decodeStep<kBytesPerSample, true>(in + kBytesPerSample * (i + 16), 16));
    }
  }
  for (; i + 16 + kSpare <= n; i += 16) _mm512_storeu_ps(out + i, decodeStep<kBytesPerSample, true>(in + kBytesPerSample * i, 16));
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, decodeStep<kBytesPerSample>(in + kBytesPerSample * i, 16));
  if (i < n) _mm512_mask_storeu_ps(out + i, firstLanes(n - i), decodeStep<kBytesPerSample>(in + kBytesPerSample * i, n - i));
}

AES67_AVX512 void decodeL16(const std::uint8_t* in, std::size_t n, float* out) { decodeAll<2>(in, n, out); }
AES67_AVX512 void decodeL24(const std::uint8_t* in, std::size_t n, float* out) { decodeAll<3>(in, n, out); }
AES67_AVX512 void decodeL32(const std::uint8_t* in, std::size_t n, float* out) { decodeAll<4>(in, n, out); }

// ---- encode ------------------------------------------------------------------------------

template <bool kWhole>
AES67_AVX512_INLINE __m512 loadFloats(const float* in, std::size_t samples) {
  return kWhole ? _mm512_loadu_ps(in) : _mm512_maskz_loadu_ps(firstLanes(samples), in);
}

// L16: x clipped to [-1, 1 - 2^-15] (the min/max operands in the order that keeps NaN),
// then x * 2^15 + 1.5 * 2^23 in one fused multiply-add: in [2^23, 2^24) floats are whole
// numbers, so the one rounding of the FMA is the rounding to the nearest integer, ties to
// even (1.5 * 2^23 is even), and the low 16 bits of the result's bits are the code, two's
// complement. NaN is zero masked out of the FMA: 0.0, whose low 16 bits are 0, silence.
// Clipping to 1 - 2^-15 before rounding equals the scalar kernel's clip, round, clip: every
// x at or above it gives 32767 either way. (An FMA and one vpermt2b for 32 samples instead
// of a multiply, a conversion, vpackssdw and vpermb: 143 -> 125 ns a 1 ms x 64 ch packet.)
template <bool kWhole>
AES67_AVX512_INLINE __m512i quantizeL16(const float* in, std::size_t samples) {
  const __m512 x = loadFloats<kWhole>(in, samples);
  const __mmask16 notNan = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
  const __m512 clipped = _mm512_max_ps(_mm512_set1_ps(-1.0f), _mm512_min_ps(_mm512_set1_ps(32767.0f / 32768.0f), x));
  const __m512 v = _mm512_maskz_fmadd_ps(notNan, clipped, _mm512_set1_ps(32768.0f), _mm512_set1_ps(12582912.0f));
  return _mm512_castps_si512(v);
}

// The low 16 bits of each lane of a (output words 0-15) and b (16-31), big-endian.
constexpr ByteIndex encodeL16Index() {
  ByteIndex x{};
  for (int w = 0; w < 32; ++w) {
    x.at[2 * w] = static_cast<std::uint8_t>(4 * w + 1);  // vpermt2b: 0-63 from a, 64-127 from b
    x.at[2 * w + 1] = static_cast<std::uint8_t>(4 * w);
  }
  return x;
}
constexpr ByteIndex kEncodeL16 = encodeL16Index();

template <bool kWhole>
AES67_AVX512_INLINE void encodeL16Step(const float* in, std::size_t samples, std::uint8_t* out) {
  const __m512i a = quantizeL16<kWhole>(in, samples);
  const __m512i b = quantizeL16<kWhole>(in + 16, samples > 16 ? samples - 16 : 0);
  const __m512i wire = _mm512_permutex2var_epi8(a, _mm512_load_si512(kEncodeL16.at), b);
  if (kWhole) _mm512_storeu_si512(out, wire);
  else _mm512_mask_storeu_epi8(out, firstBytes(2 * samples), wire);
}

AES67_AVX512 void encodeL16(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) encodeL16Step<true>(in + i, 32, out + 2 * i);
  if (i < n) encodeL16Step<false>(in + i, n - i, out + 2 * i);
}

// L24 and L32 clip in float, as the AVX2 kernels do (pcm_kernels_avx2.cpp quantize): x *
// 2^(bits-1) clipped to [-2^(bits-1), 2^(bits-1) - 1], the min/max operands in the order
// that keeps NaN, which converts to 0x80000000: its low 24 bits are 0, silence in L24.
template <bool kWhole>
AES67_AVX512_INLINE __m512i quantizeL24(const float* in, std::size_t samples) {
  const __m512 v = _mm512_mul_ps(loadFloats<kWhole>(in, samples), _mm512_set1_ps(8388608.0f));
  const __m512 clipped = _mm512_max_ps(_mm512_set1_ps(-8388608.0f), _mm512_min_ps(_mm512_set1_ps(8388607.0f), v));
  return _mm512_cvtps_epi32(clipped);
}

// The low three bytes of each 32-bit lane, big-endian, packed into the first 48 bytes.
constexpr ByteIndex encodeL24Index() {
  ByteIndex x{};
  for (int i = 0; i < 48; ++i) x.at[i] = static_cast<std::uint8_t>(4 * (i / 3) + 2 - i % 3);
  return x;
}
constexpr ByteIndex kEncodeL24 = encodeL24Index();

template <bool kWhole>
AES67_AVX512_INLINE void encodeL24Step(const float* in, std::size_t samples, std::uint8_t* out) {
  const __m512i wire = _mm512_permutexvar_epi8(_mm512_load_si512(kEncodeL24.at), quantizeL24<kWhole>(in, samples));
  _mm512_mask_storeu_epi8(out, firstBytes(3 * samples), wire);
}

AES67_AVX512 void encodeL24(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  // A whole 64-byte store while the 16 bytes past the step still belong to the buffer (the
  // next step overwrites them): cheaper than a masked store.
  const __m512i index = _mm512_load_si512(kEncodeL24.at);
  for (; i + 48 + 6 <= n; i += 48) {  // three steps a loop turn: fewer loop instructions a sample
    _mm512_storeu_si512(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i, 16)));
    _mm512_storeu_si512(out + 3 * i + 48, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i + 16, 16)));
    _mm512_storeu_si512(out + 3 * i + 96, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i + 32, 16)));
  }
  for (; i + 16 + 6 <= n; i += 16) _mm512_storeu_si512(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i, 16)));
  for (; i + 16 <= n; i += 16) encodeL24Step<true>(in + i, 16, out + 3 * i);
  if (i < n) encodeL24Step<false>(in + i, n - i, out + 3 * i);
}

// L32: vcvtps2dq gives 0x80000000 at and above 2^31 (x >= 1.0) and below -2^31 (the most
// negative code, right). x >= 1.0 and +inf have bits above 1.0's as signed integers: those
// become the largest code; NaN (either sign) is zero masked, also out of that compare.
template <bool kWhole>
AES67_AVX512_INLINE void encodeL32Step(const float* in, std::size_t samples, std::uint8_t* out) {
  const __m512 x = loadFloats<kWhole>(in, samples);
  const __mmask16 notNan = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
  __m512i words = _mm512_maskz_cvtps_epi32(notNan, _mm512_mul_ps(x, _mm512_set1_ps(2147483648.0f)));  // exact
  const __mmask16 atTop = _mm512_mask_cmpgt_epi32_mask(notNan, _mm512_castps_si512(x), _mm512_set1_epi32(0x3F7FFFFF));
  words = _mm512_mask_mov_epi32(words, atTop, _mm512_set1_epi32(0x7FFFFFFF));
  const __m512i swap = _mm512_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,  //
                                       12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,  //
                                       12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3,  //
                                       12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  const __m512i wire = _mm512_shuffle_epi8(words, swap);
  if (kWhole) _mm512_storeu_si512(out, wire);
  else _mm512_mask_storeu_epi8(out, firstBytes(4 * samples), wire);
}

AES67_AVX512 void encodeL32(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) encodeL32Step<true>(in + i, 16, out + 4 * i);
  if (i < n) encodeL32Step<false>(in + i, n - i, out + 4 * i);
}

constexpr PcmKernels kAvx512Kernels{PcmKernelSet::kAvx512, {decodeL16, decodeL24, decodeL32}, {encodeL16, encodeL24, encodeL32}};

}  // namespace

const PcmKernels* avx512PcmKernelsIfBuilt() { return &kAvx512Kernels; }

}  // namespace aes67

#else

namespace aes67 {
const PcmKernels* avx512PcmKernelsIfBuilt() { return nullptr; }
}  // namespace aes67

#endif
