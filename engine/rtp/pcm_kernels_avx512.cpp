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
// mode (round to nearest, ties to even) the scalar code relies on too, and with MXCSR's
// exceptions masked (the default): the L16 and L24 encoders read MXCSR's invalid flag to
// notice the rare inputs their fast path cannot take (see "encode: fast paths" below).
// Real-time safe: no allocation, no lock, no system call.
//
// What bounds a kernel on Zen 4 (measured on this project's EPYC, 3.7 GHz): a 512-bit
// operation takes one of two pipe pairs for two cycles or, integer logic and min/max, any
// of the four pipes; multiplies, FMAs and compares into a mask share one pair (FP0/1),
// float min/max and both conversions the other (FP2/3), byte permutes straddle them. The
// L1 cache takes 32 bytes of stores a cycle (a 64-byte store every other cycle) and 64 of
// loads. So a decoder (4 bytes of float out a sample) is bound by its stores and an
// encoder by its operation count: fewer operations a sample is what makes one faster.
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

// ---- stores that never straddle a 4 KiB page ---------------------------------------------
// On Zen 4 a 64-byte store whose bytes straddle a page boundary costs about 9 ns (34
// cycles) more than one that does not, masked or not, whatever its mask (and two 32-byte
// stores cost the same when one straddles): as much again as the whole encoding of a
// 1 ms x 8 ch L16 packet, which straddles one for one payload placement in five. A line
// boundary costs next to nothing. So every store that is not 64-byte aligned goes through
// storeBytes: one that would straddle is made as two masked stores to the 64-byte blocks on
// either side of the boundary (neither straddles) of v rotated into place by one vpermb.
// Aligned stores never straddle. `mask`: which of v's bytes to write (bit u: byte u, at
// to + u).
struct Iota {
  alignas(64) std::uint8_t at[64];
};
constexpr Iota iotaBytes() {
  Iota x{};
  for (int i = 0; i < 64; ++i) x.at[i] = static_cast<std::uint8_t>(i);
  return x;
}
constexpr Iota kIota = iotaBytes();

AES67_AVX512_INLINE void storeBytes(void* to, __m512i v, __mmask64 mask) {
  auto* out = static_cast<std::uint8_t*>(to);
  const std::size_t toPageEnd = 4096 - (reinterpret_cast<std::uintptr_t>(out) & 4095);
  if (__builtin_expect(toPageEnd >= 64, 1)) {
    _mm512_mask_storeu_epi8(out, mask, v);
    return;
  }
  // v rotated by the toPageEnd (1..63) bytes that go before the boundary: byte t of the block
  // ending at it is v's byte t - (64 - toPageEnd), byte t of the block starting at it v's byte
  // t + toPageEnd; the same byte of v modulo 64.
  const __m512i rotated = _mm512_permutexvar_epi8(
      _mm512_add_epi8(_mm512_load_si512(kIota.at), _mm512_set1_epi8(static_cast<char>(toPageEnd))), v);
  _mm512_mask_storeu_epi8(out + toPageEnd - 64, mask << (64 - toPageEnd), rotated);
  _mm512_mask_storeu_epi8(out + toPageEnd, mask >> toPageEnd, rotated);
}
AES67_AVX512_INLINE void storeBytes(void* to, __m512i v) {
  auto* out = static_cast<std::uint8_t*>(to);
  if (__builtin_expect((reinterpret_cast<std::uintptr_t>(out) & 4095) <= 4096 - 64, 1)) {
    _mm512_storeu_si512(out, v);
    return;
  }
  storeBytes(out, v, ~__mmask64{0});
}
// The first `lanes` floats of v at `to` (all 16 by default).
AES67_AVX512_INLINE void storeFloats(float* to, __m512 v, std::size_t lanes = 16) {
  if (lanes >= 16) storeBytes(to, _mm512_castps_si512(v));
  else storeBytes(to, _mm512_castps_si512(v), firstBytes(4 * lanes));
}

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
// L16 from a 32-byte load zero-extended to 64 bytes: the lane bytes below the sample take
// byte 63, a zero, so the permute needs no zero masking.
constexpr ByteIndex decodeL16FromZeroExtendedIndex() {
  ByteIndex x = decodeIndex(2);
  for (int i = 0; i < 64; ++i) {
    if ((decodeKeep(2) >> i & 1) == 0) x.at[i] = 63;
  }
  return x;
}
constexpr ByteIndex kDecodeL16FromZeroExtended = decodeL16FromZeroExtendedIndex();

// kWhole: 16 samples, and for L24 the 16 bytes past them in the buffer too, so that one
// unmasked load (of 32 or 64 bytes) reads nothing outside it.
template <int kBytesPerSample, bool kWhole = false>
AES67_AVX512_INLINE __m512 decodeStep(const std::uint8_t* in, std::size_t samples) {
  const ByteIndex& index = kBytesPerSample == 2 ? kDecodeL16 : kBytesPerSample == 3 ? kDecodeL24 : kDecodeL32;
  __m512i top;
  if constexpr (kWhole && kBytesPerSample == 2) {
    // Zen 4 runs a zero-masked vpermb slower than a plain one: the L16 decoder, bound by
    // its stores, took 120 ns a 1 ms x 64 ch packet with the mask and takes 112 without.
    const __m512i wire = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
    top = _mm512_permutexvar_epi8(_mm512_load_si512(kDecodeL16FromZeroExtended.at), wire);
  } else {
    __m512i wire;
    if constexpr (kWhole) wire = _mm512_loadu_si512(in);
    else wire = _mm512_maskz_loadu_epi8(firstBytes(kBytesPerSample * samples), in);
    top = _mm512_maskz_permutexvar_epi8(decodeKeep(kBytesPerSample), _mm512_load_si512(index.at), wire);
  }
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
    storeFloats(out, decodeStep<kBytesPerSample>(in, head), head);
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
  for (; i + 16 + kSpare <= n; i += 16) storeFloats(out + i, decodeStep<kBytesPerSample, true>(in + kBytesPerSample * i, 16));
  for (; i + 16 <= n; i += 16) storeFloats(out + i, decodeStep<kBytesPerSample>(in + kBytesPerSample * i, 16));
  if (i < n) storeFloats(out + i, decodeStep<kBytesPerSample>(in + kBytesPerSample * i, n - i), n - i);
}

// L16 writes 4 bytes for the 2 it reads, the most of any decoder, and from 16 samples on it
// does it without a masked step, as memcpy does: the first step stored where the output
// starts, whole aligned steps from the output's first 64-byte boundary (the overlap is
// written twice, with the same values), the last step stepped back to end where the output
// ends. 1 ms x 8 ch into a buffer 16 bytes off a boundary: 16.6 -> 15.3 ns (masked head and
// tail, as decodeAll does).
AES67_AVX512 void decodeL16(const std::uint8_t* in, std::size_t n, float* out) {
  if (n < 16) {
    if (n > 0) storeFloats(out, decodeStep<2>(in, n), n);
    return;
  }
  storeFloats(out, decodeStep<2, true>(in, 16));
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(out) & 63;
  std::size_t i = misaligned % 4 == 0 && misaligned != 0 ? (64 - misaligned) / 4 : 16;
  if (misaligned % 4 == 0) {
    for (; i + 32 <= n; i += 32) {
      _mm512_store_ps(out + i, decodeStep<2, true>(in + 2 * i, 16));
      _mm512_store_ps(out + i + 16, decodeStep<2, true>(in + 2 * (i + 16), 16));
    }
  }
  for (; i + 16 <= n; i += 16) storeFloats(out + i, decodeStep<2, true>(in + 2 * i, 16));
  if (i < n) storeFloats(out + n - 16, decodeStep<2, true>(in + 2 * (n - 16), 16));
}
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
  if (kWhole) storeBytes(out, wire);
  else storeBytes(out, wire, firstBytes(2 * samples));
}

// The exact L16 kernel: what encodeL16 runs when its fast path cannot take the packet.
AES67_AVX512 void encodeL16Exact(const float* in, std::size_t n, std::uint8_t* out) {
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
  storeBytes(out, wire, firstBytes(3 * samples));
}

// The exact L24 kernel: what encodeL24 runs when its fast path cannot take the packet.
AES67_AVX512 void encodeL24Exact(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  // A whole 64-byte store while the 16 bytes past the step still belong to the buffer (the
  // next step overwrites them): cheaper than a masked store.
  const __m512i index = _mm512_load_si512(kEncodeL24.at);
  for (; i + 48 + 6 <= n; i += 48) {  // three steps a loop turn: fewer loop instructions a sample
    storeBytes(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i, 16)));
    storeBytes(out + 3 * i + 48, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i + 16, 16)));
    storeBytes(out + 3 * i + 96, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i + 32, 16)));
  }
  for (; i + 16 + 6 <= n; i += 16) storeBytes(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24<true>(in + i, 16)));
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
  if (kWhole) storeBytes(out, wire);
  else storeBytes(out, wire, firstBytes(4 * samples));
}

AES67_AVX512 void encodeL32(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) encodeL32Step<true>(in + i, 16, out + 4 * i);
  if (i < n) encodeL32Step<false>(in + i, n - i, out + 4 * i);
}

// ---- encode: fast paths ----------------------------------------------------------------
// The exact encoders above spend an operation a vector on NaN alone and two on clipping; on
// Zen 4 the exact L16 kernel (compare, min, max, FMA a vector, one vpermt2b for two: nine
// operations for 32 samples) ran at 0.48-0.51x memcpy of its wire bytes, the L24 kernel at
// 0.50x. vcvtps2dq already notices the inputs that need that care: it raises MXCSR's
// invalid flag (IE, bit 0: sticky, and masked by default, so no trap) for NaN and for any
// value out of int32 range. So the fast paths below convert without any NaN handling and
// read MXCSR once after the packet. Each fast path is exact for every input that does not
// raise IE (pcm_kernels_test.cpp proves it on the fast paths alone), and the inputs that do
// are NaN, infinities and samples of magnitude 2^16 (L16) or 2^8 (L24) and more: no audio a
// device sends has them. When IE is set after the packet, a scan of the packet (integer
// compares: it raises nothing) tells whether it holds such a sample, and only then is the
// packet encoded again with the exact kernel; else IE was left set by earlier code on this
// thread (Node's JavaScript thread sets it often) and the fast path's bytes stand. Either
// way IE is cleared, so that one such sample, here or elsewhere, costs one scan and not one
// a packet from then on. The flag is read with stmxcsr in an asm statement that clobbers
// memory: every conversion feeds a store the statement must follow, so none can be moved
// past it.

constexpr std::uint32_t kMxcsrInvalid = 1;  // IE
AES67_AVX512_INLINE std::uint32_t readMxcsr() {
  std::uint32_t csr;
  asm volatile("stmxcsr %0" : "=m"(csr) : : "memory");
  return csr;
}
AES67_AVX512_INLINE void writeMxcsr(std::uint32_t csr) { asm volatile("ldmxcsr %0" : : "m"(csr) : "memory"); }

// Reading MXCSR costs about 20 cycles (5 ns; stmxcsr also waits for the conversions before
// it), which the fast path wins back only on a packet of some size: back to back, the
// checked L16 fast path and the exact kernel both take 12 ns at 256 samples, 15 and 17 ns
// at 384 (1 ms x 8 ch); for L24 they meet near 160 samples. Shorter packets go straight to
// the exact kernel.
constexpr std::size_t kL16FastFrom = 320, kL24FastFrom = 160;

// L16, 32 samples: x * 2^15 converted (rounded to nearest, ties to even, as the scalar
// kernel's clip-round-clip rounds: the scaling is exact, and clipping to [-1, 1] before
// rounding changes nothing that the saturation below does not give back), then vpackssdw,
// whose signed saturation to [-32768, 32767] is the clip, and one vpermb for vpackssdw's lane
// order (words 0-3 of a, 0-3 of b, 4-7 of a, ... in each 128-bit lane) and byte order. Six
// operations for 32 samples, where the exact kernel has nine. x * 2^15 fits int32 for
// |x| < 2^16 (-2^16 itself converts to the most negative int32 without IE, and saturates
// right).
constexpr ByteIndex encodeL16PackedIndex() {
  ByteIndex x{};
  for (int i = 0; i < 64; ++i) {
    const int sample = i / 2, s = sample % 16;
    const int word = 8 * (s / 4) + (sample < 16 ? 0 : 4) + s % 4;  // where vpackssdw put it
    x.at[i] = static_cast<std::uint8_t>(2 * word + 1 - i % 2);    // big-endian: high byte first
  }
  return x;
}
constexpr ByteIndex kEncodeL16Packed = encodeL16PackedIndex();

// kMayStraddle false: the caller knows the 64 bytes at `out` lie in one page.
template <bool kWhole, bool kMayStraddle = true>
AES67_AVX512_INLINE void encodeL16FastStep(const float* in, std::size_t samples, std::uint8_t* out) {
  const __m512 scale = _mm512_set1_ps(32768.0f);
  const __m512i a = _mm512_cvtps_epi32(_mm512_mul_ps(loadFloats<kWhole>(in, samples), scale));
  const __m512i b = _mm512_cvtps_epi32(_mm512_mul_ps(loadFloats<kWhole>(in + 16, samples > 16 ? samples - 16 : 0), scale));
  const __m512i wire = _mm512_permutexvar_epi8(_mm512_load_si512(kEncodeL16Packed.at), _mm512_packs_epi32(a, b));
  if (!kMayStraddle) _mm512_storeu_si512(out, wire);
  else if (kWhole) storeBytes(out, wire);
  else storeBytes(out, wire, firstBytes(2 * samples));
}

// An encoder reads twice (L16) the bytes it writes, and a 64-byte load that straddles a
// cache line costs more here than a store that does (92 ns a 1 ms x 64 ch packet at every
// alignment of input and output with the loads aligned, 92-113 ns with the stores aligned
// and the loads as they come): the loads aligned from the input's first 64-byte boundary
// on, and the stores where they fall, split where one would straddle a page (storeBytes).
AES67_AVX512_INLINE void encodeL16FastInline(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 32) {
    if (n > 0) encodeL16FastStep<false>(in, n, out);
    return;
  }
  // The head and the tail as whole steps that overlap the aligned ones (the overlap is
  // written twice, with the same bytes): masked loads and stores cost 2.6 ns more a 1 ms x
  // 8 ch packet (16.2 ns where the input is 16 bytes off a line, 13.6 where it is aligned).
  encodeL16FastStep<true>(in, 32, out);
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(in) & 63;
  std::size_t i = misaligned % 4 == 0 && misaligned != 0 ? (64 - misaligned) / 4 : 32;
  while (i + 32 <= n) {
    // Whole steps whose 64 bytes end by the next page boundary, stored plainly; then the one
    // that would straddle it, split (storeBytes).
    std::size_t plain = (4096 - (reinterpret_cast<std::uintptr_t>(out + 2 * i) & 4095)) / 64;
    for (; plain > 0 && i + 32 <= n; --plain, i += 32) encodeL16FastStep<true, false>(in + i, 32, out + 2 * i);
    if (i + 32 <= n) encodeL16FastStep<true>(in + i, 32, out + 2 * i), i += 32;
  }
  if (i < n) encodeL16FastStep<true>(in + n - 32, 32, out + 2 * (n - 32));
}

// L24, 16 samples: x * 2^23 converted, then clipped to [-2^23, 2^23 - 1] as integers (on
// any of the four pipes; the exact kernel clips in float, on the pair that also converts).
// x * 2^23 fits int32 for |x| < 2^8.
AES67_AVX512_INLINE __m512i quantizeL24Fast(__m512 x) {
  const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(x, _mm512_set1_ps(8388608.0f)));
  return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-8388608)), _mm512_set1_epi32(8388607));
}

// 64 samples are 192 wire bytes, three whole 64-byte stores: store k takes wire bytes
// 64k..64k+63, which lie in quantized vectors k and k+1 (48 bytes each), joined by one
// vpermt2b. Three permutes and no overlapping stores for 64 samples, where steps of 16 take
// four permutes and four 64-byte stores.
constexpr ByteIndex encodeL24JoinIndex(int k) {
  ByteIndex x{};
  for (int i = 0; i < 64; ++i) {
    const int wireByte = 64 * k + i, vector = wireByte / 48, inVector = wireByte % 48;
    const int lane = inVector / 3, byte = inVector % 3;  // byte 0 of a sample is its most significant
    x.at[i] = static_cast<std::uint8_t>((vector == k ? 0 : 64) + 4 * lane + 2 - byte);
  }
  return x;
}
constexpr ByteIndex kEncodeL24Join[3] = {encodeL24JoinIndex(0), encodeL24JoinIndex(1), encodeL24JoinIndex(2)};

// kMayStraddle false: the caller knows the 192 bytes at `out` lie in one page.
template <bool kMayStraddle>
AES67_AVX512_INLINE void encodeL24Fast64(const float* in, std::uint8_t* out) {
  const __m512i a = quantizeL24Fast(_mm512_loadu_ps(in)), b = quantizeL24Fast(_mm512_loadu_ps(in + 16));
  const __m512i c = quantizeL24Fast(_mm512_loadu_ps(in + 32)), d = quantizeL24Fast(_mm512_loadu_ps(in + 48));
  const __m512i wire[3] = {_mm512_permutex2var_epi8(a, _mm512_load_si512(kEncodeL24Join[0].at), b),
                           _mm512_permutex2var_epi8(b, _mm512_load_si512(kEncodeL24Join[1].at), c),
                           _mm512_permutex2var_epi8(c, _mm512_load_si512(kEncodeL24Join[2].at), d)};
  for (int k = 0; k < 3; ++k) {
    if (kMayStraddle) storeBytes(out + 64 * k, wire[k]);
    else _mm512_storeu_si512(out + 64 * k, wire[k]);
  }
}

AES67_AVX512_INLINE void encodeL24FastInline(const float* in, std::size_t n, std::uint8_t* out) {
  std::size_t i = 0;
  while (i + 64 <= n) {
    // Whole groups whose 192 bytes end by the next page boundary, stored plainly, two a loop
    // turn (145 ns a 1 ms x 64 ch packet; one: 150); then the one that may straddle it.
    std::size_t plain = (4096 - (reinterpret_cast<std::uintptr_t>(out + 3 * i) & 4095)) / 192;
    for (; plain >= 2 && i + 128 <= n; plain -= 2, i += 128) {
      encodeL24Fast64<false>(in + i, out + 3 * i);
      encodeL24Fast64<false>(in + i + 64, out + 3 * i + 192);
    }
    if (plain == 1 && i + 64 <= n) encodeL24Fast64<false>(in + i, out + 3 * i), i += 64;
    if (i + 64 <= n) encodeL24Fast64<true>(in + i, out + 3 * i), i += 64;
  }
  // The rest as a whole group stepped back to end where the packet ends (the overlap is
  // written twice, with the same bytes), rather than masked steps.
  if (i < n && n >= 64) return encodeL24Fast64<true>(in + n - 64, out + 3 * (n - 64));
  const __m512i index = _mm512_load_si512(kEncodeL24.at);
  for (; i + 16 <= n; i += 16) {
    storeBytes(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24Fast(_mm512_loadu_ps(in + i))), firstBytes(48));
  }
  if (i < n) {
    const __m512 x = _mm512_maskz_loadu_ps(firstLanes(n - i), in + i);  // zeros past the end: no IE
    storeBytes(out + 3 * i, _mm512_permutexvar_epi8(index, quantizeL24Fast(x)), firstBytes(3 * (n - i)));
  }
}

// The fast paths alone, for the tests (avx512FastEncoderIfBuilt); the kernels inline them.
AES67_AVX512 void encodeL16Fast(const float* in, std::size_t n, std::uint8_t* out) { encodeL16FastInline(in, n, out); }
AES67_AVX512 void encodeL24Fast(const float* in, std::size_t n, std::uint8_t* out) { encodeL24FastInline(in, n, out); }

// Whether any of the n floats is NaN or of magnitude `limit` or more (as bits: positive
// floats order as their bits do, and NaN's bits are above every other's), read as integers.
AES67_AVX512 bool anyNanOrBeyond(const float* in, std::size_t n, float limit) {
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i most = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) most = _mm512_max_epu32(most, _mm512_and_si512(_mm512_loadu_si512(in + i), magnitude));
  if (i < n) most = _mm512_max_epu32(most, _mm512_and_si512(_mm512_maskz_loadu_epi32(firstLanes(n - i), in + i), magnitude));
  return _mm512_cmpge_epu32_mask(most, _mm512_castps_si512(_mm512_set1_ps(limit))) != 0;
}

// The fast path, then (see above) the exact kernel again for a packet that holds what the
// fast path cannot take. 2^kBeyondLog2: the magnitude from which x * 2^(bits-1) leaves int32.
template <void (*kFast)(const float*, std::size_t, std::uint8_t*), void (*kExact)(const float*, std::size_t, std::uint8_t*),
          std::size_t kFastFrom, int kBeyondLog2>
AES67_AVX512_INLINE void encodeChecked(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < kFastFrom) return kExact(in, n, out);
  kFast(in, n, out);
  if ((readMxcsr() & kMxcsrInvalid) == 0) return;
  if (anyNanOrBeyond(in, n, static_cast<float>(1u << kBeyondLog2))) kExact(in, n, out);
  writeMxcsr(readMxcsr() & ~kMxcsrInvalid);  // after the rerun, which raises it too
}

AES67_AVX512 void encodeL16(const float* in, std::size_t n, std::uint8_t* out) {
  encodeChecked<encodeL16FastInline, encodeL16Exact, kL16FastFrom, 16>(in, n, out);
}
AES67_AVX512 void encodeL24(const float* in, std::size_t n, std::uint8_t* out) {
  encodeChecked<encodeL24FastInline, encodeL24Exact, kL24FastFrom, 8>(in, n, out);
}

constexpr PcmKernels kAvx512Kernels{PcmKernelSet::kAvx512, {decodeL16, decodeL24, decodeL32}, {encodeL16, encodeL24, encodeL32}};

}  // namespace

const PcmKernels* avx512PcmKernelsIfBuilt() { return &kAvx512Kernels; }

PcmEncodeKernel avx512FastEncoderIfBuilt(PcmEncoding e) {
  return e == PcmEncoding::kL16 ? encodeL16Fast : e == PcmEncoding::kL24 ? encodeL24Fast : nullptr;
}

}  // namespace aes67

#else

namespace aes67 {
const PcmKernels* avx512PcmKernelsIfBuilt() { return nullptr; }
PcmEncodeKernel avx512FastEncoderIfBuilt(PcmEncoding) { return nullptr; }
}  // namespace aes67

#endif
