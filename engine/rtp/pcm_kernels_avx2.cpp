// The PCM kernels for x86-64 CPUs with AVX2 (Intel since Haswell, AMD since Excavator):
// eight samples a step, byte order and the 3-byte L24 layout done with one byte shuffle
// (vpshufb), conversion and clipping in float; the L16 encoder has a fast path for whole
// packets that clips with vpackssdw's saturation and leaves NaN and huge values to MXCSR's
// invalid flag (see "encode: fast paths"), the L32 one a fast path that finds NaN with a
// running sum. Built into every x86-64 binary with the target attribute (the rest of the
// build stays baseline SSE2) and picked in pcm_codec.cpp only on a CPU that has AVX2. Every
// kernel gives the scalar kernel's bits for every input (pcm_kernels_test.cpp): conversions
// are exact or round to nearest, ties to even, like the scalar code, under the default MXCSR
// rounding mode both rely on, with MXCSR's exceptions masked (the default). Real-time safe:
// no allocation, no lock, no system call (stmxcsr and ldmxcsr are instructions).
//
// Costs below were measured on Zen 3 (EPYC, family 25 model 1), whose AVX2 pipes run
// vpermd/vpermq at about one a 1.3 cycles on the pipes vpshufb needs too, vperm2i128 at one a
// cycle beside them, and vextracti128 to memory at the cost of a store.
#include "engine/rtp/pcm_kernels.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#include <cstdint>

namespace aes67 {

namespace {

#define AES67_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline
// Loops start on a 64-byte boundary. On Zen 4 a short loop that straddles one runs at
// half speed or worse (the same loop measured 116 ns or 216 ns a 1 ms x 64 ch packet by
// where the linker put it); GCC's default aligns loops to 16 bytes at most. Clang has no
// per-function switch for it and aligns as it does.
#if defined(__clang__)
#define AES67_AVX2 __attribute__((target("avx2")))
#else
#define AES67_AVX2 __attribute__((target("avx2"), optimize("align-loops=64")))
#endif

constexpr float kTwoToMinus31 = 1.0f / 2147483648.0f;
constexpr char Z = static_cast<char>(0x80);  // vpshufb: a zero byte

// ---- one step of eight samples ------------------------------------------------------------
// A decoded L24 or L32 sample is placed in the top bits of a 32-bit lane (sample << (32 -
// bits)): that integer converts to float exactly (L32: rounded to nearest, as the scalar
// kernel rounds), and scaling by 2^-31 is exact, so the result is the scalar kernel's sample
// * 2^-(bits-1). L16 goes another way (decodeL16Lanes).

// The "lanes" functions decode a step's wire bytes as its loads leave them in the two
// 128-bit lanes; lane 0 holds samples 0-3 from its byte 0 on.
// L16 with the exponent trick, not vcvtdq2ps and vmulps: the sample with its sign bit flipped
// (s + 32768) as the low 16 mantissa bits of -256 (exponent 8) is -(256 + (s + 32768) *
// 2^-15); -257 minus that is s * 2^-15, exactly (it is representable), and +0 for s = 0 in
// the default rounding mode, as the scalar kernel gives. -257.0f's bits, 0xC3808000, are
// also what the xor needs (the exponent and the flip), so one constant serves both (GCC kept
// two for 0x43808000 and 257, three vector operations a packet more: 19.3 -> 18.7 ns).
// As many operations a step as vcvtdq2ps and vmulps, but 5 cycles from vpshufb to the store
// instead of 7, which counts when a load waits on an older store to the same offset in
// another page (4K aliasing, by where the buffers sit): 1 ms x 64 ch 135 -> 130 ns, x 8 ch
// 19.7 -> 19.3 ns. (Medians of 10 alternating pairs on Zen 3.) L24 and L32 samples do not
// fit a float's 23 mantissa bits.
AES67_AVX2_INLINE __m256 decodeL16Lanes(__m256i wire) {
  const __m256i toLow = _mm256_setr_epi8(1, 0, Z, Z, 3, 2, Z, Z, 5, 4, Z, Z, 7, 6, Z, Z,  //
                                         9, 8, Z, Z, 11, 10, Z, Z, 13, 12, Z, Z, 15, 14, Z, Z);
  const __m256i low = _mm256_shuffle_epi8(wire, toLow);
  const __m256 minus257 = _mm256_set1_ps(-257.0f);
  const __m256 f = _mm256_xor_ps(_mm256_castsi256_ps(low), minus257);
  return _mm256_sub_ps(minus257, f);
}

AES67_AVX2_INLINE __m256 decodeL16Step(const std::uint8_t* in) {
  // Both 128-bit lanes hold the 16 wire bytes; lane 0 takes samples 0-3, lane 1 4-7.
  return decodeL16Lanes(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
}

AES67_AVX2_INLINE __m256 decodeL24Lanes(__m256i wire) {
  const __m256i toTop = _mm256_setr_epi8(Z, 2, 1, 0, Z, 5, 4, 3, Z, 8, 7, 6, Z, 11, 10, 9,  //
                                         Z, 6, 5, 4, Z, 9, 8, 7, Z, 12, 11, 10, Z, 15, 14, 13);
  const __m256i top = _mm256_shuffle_epi8(wire, toTop);
  return _mm256_mul_ps(_mm256_cvtepi32_ps(top), _mm256_set1_ps(kTwoToMinus31));
}

AES67_AVX2_INLINE __m256 decodeL24Step(const std::uint8_t* in) {
  // Lane 0: wire bytes 0-15 (samples 0-3 in bytes 0-11); lane 1: bytes 8-23 (samples 4-7
  // in its bytes 4-15). Nothing past the step's 24 bytes is read.
  const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 8));
  return decodeL24Lanes(_mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1));
}

AES67_AVX2_INLINE __m256i byteSwap32(__m256i v) {
  const __m256i swap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,  //
                                        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  return _mm256_shuffle_epi8(v, swap);
}

AES67_AVX2_INLINE __m256 decodeL32Lanes(__m256i wire) {
  // int32 -> float rounds to nearest like the scalar conversion; the scaling is exact.
  return _mm256_mul_ps(_mm256_cvtepi32_ps(byteSwap32(wire)), _mm256_set1_ps(kTwoToMinus31));
}

AES67_AVX2_INLINE __m256 decodeL32Step(const std::uint8_t* in) {
  return decodeL32Lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
}

// x * 2^(bits-1) clipped to [-2^(bits-1), 2^(bits-1) - 1] and rounded to the nearest
// integer, ties to even (vcvtps2dq in the default rounding mode). The scaling is exact, so
// clipping before rounding equals the scalar kernel's clip, round, clip. The order of the
// min/max operands matters: each returns its second operand when one is NaN, so NaN stays
// NaN and converts to 0x80000000, whose low 16 and 24 bits are 0: silence in L16 and L24.
AES67_AVX2_INLINE __m256i quantize(const float* in, float scale) {
  const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(in), _mm256_set1_ps(scale));
  const __m256 clipped = _mm256_max_ps(_mm256_set1_ps(-scale), _mm256_min_ps(_mm256_set1_ps(scale - 1.0f), v));
  return _mm256_cvtps_epi32(clipped);
}

AES67_AVX2_INLINE void encodeL16Step(const float* in, std::uint8_t* out) {
  // The low two bytes of each lane, big-endian, packed into the low 8 bytes of each half.
  const __m256i toWire = _mm256_setr_epi8(1, 0, 5, 4, 9, 8, 13, 12, Z, Z, Z, Z, Z, Z, Z, Z,  //
                                          1, 0, 5, 4, 9, 8, 13, 12, Z, Z, Z, Z, Z, Z, Z, Z);
  const __m256i halves = _mm256_shuffle_epi8(quantize(in, 32768.0f), toWire);
  const __m256i packed = _mm256_permute4x64_epi64(halves, 0x08);  // qwords 0 and 2
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
}

AES67_AVX2_INLINE __m256i encodeL24Words(const float* in) {
  // The low three bytes of each lane, big-endian, packed into the low 12 bytes of each
  // half; then the halves joined into the low 24 bytes.
  const __m256i toWire = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, Z, Z, Z, Z,  //
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, Z, Z, Z, Z);
  const __m256i halves = _mm256_shuffle_epi8(quantize(in, 8388608.0f), toWire);
  return _mm256_permutevar8x32_epi32(halves, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
}

AES67_AVX2_INLINE void storeL24Exactly(__m256i packed, std::uint8_t* out) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 16), _mm256_extracti128_si256(packed, 1));
}

AES67_AVX2_INLINE void encodeL32Step(const float* in, std::uint8_t* out) {
  // The fixes are done on integers, from the input's bits: Zen 4 runs float compares,
  // min/max and conversions on two of its four vector pipes, integer compares and logic on
  // all four (these fixes in float, two compares and an and: 233 -> 205 ns a 1 ms x 64 ch
  // packet). vcvtps2dq gives 0x80000000 at and above 2^31 (x >= 1.0), and below -2^31 (the
  // most negative code, right). Positive x >= 1.0, +inf and +NaN have bits above 1.0's as
  // signed integers: flipping every bit makes those the largest code. Then NaN (either
  // sign) to 0: silence.
  const __m256 x = _mm256_loadu_ps(in);
  const __m256i bits = _mm256_castps_si256(x);
  const __m256i words = _mm256_cvtps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(2147483648.0f)));  // exact
  const __m256i atTop = _mm256_cmpgt_epi32(bits, _mm256_set1_epi32(0x3F7FFFFF));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), byteSwap32(_mm256_andnot_si256(nan, _mm256_xor_si256(words, atTop))));
}

// ---- whole buffers ---------------------------------------------------------------------
// Steps of eight, two a loop turn (one a turn runs at half the speed on Zen 4). A remainder
// is done by stepping back to the last eight samples and doing them again (the same values
// land in the same places), so odd counts cost one step, not a scalar tail. Fewer than
// eight samples go to the scalar kernel.

template <class In, class Out, std::size_t kInPerSample, std::size_t kOutPerSample, void (*kStep)(const In*, Out*)>
AES67_AVX2_INLINE void inSteps(const In* in, std::size_t n, Out* out) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    kStep(in + kInPerSample * i, out + kOutPerSample * i);
    kStep(in + kInPerSample * (i + 8), out + kOutPerSample * (i + 8));
  }
  if (i + 8 <= n) kStep(in + kInPerSample * i, out + kOutPerSample * i), i += 8;
  if (i < n) kStep(in + kInPerSample * (n - 8), out + kOutPerSample * (n - 8));
}

// A decoder writes 4 bytes of float a sample, more than it reads, and a 32-byte store that
// straddles a cache line costs two; so its stores are aligned to 32 bytes wherever the output
// allows. Floats 16 bytes off a boundary (every other placement the engine's and the bench's
// buffers get) start with a half step of 4 samples; 4, 8, ... bytes off, with an unaligned
// step, then on from the first boundary (the overlap written twice with the same values); the
// last step steps back like inSteps. (Until codec6 every output started with an unaligned
// step, a doubled one where the floats were aligned.) Eight steps a loop turn. On Zen 3 the
// core issues about four vector operations a cycle, loads and stores counted: an L16 step
// (load, vpshufb, vpxor, vsubps, store) takes 1.25 cycles where one of four (any four)
// runs at one store a cycle, so 1 ms x 8 ch of L16 (48 steps) is about 60 cycles plus the
// call: 21.0 -> 18.7 ns with these changes, the exponent trick (decodeL16Lanes) and the
// inline dispatch (pcm_codec.hpp). Four operations a step would need the conversion in one;
// a 32-byte load fused with the sign flip plus one FMA on the (partly denormal) floats ran
// slower (22 ns against this kernel's 17.5 in a standalone loop).
template <bool kAligned>
AES67_AVX2_INLINE void storeFloats(float* out, __m256 v) {
  if constexpr (kAligned) _mm256_store_ps(out, v);
  else _mm256_storeu_ps(out, v);
}

// kInnerStep: a faster step that may read past its own wire bytes, used for the steps that
// start at sample kInnerFrom or later and end kInnerAfter - 8 samples or more before the end.
template <std::size_t kWirePerSample, __m256 (*kStep)(const std::uint8_t*), bool kAligned, __m256 (*kInnerStep)(const std::uint8_t*),
          std::size_t kInnerFrom, std::size_t kInnerAfter>
AES67_AVX2_INLINE void decodeSteps(const std::uint8_t* in, std::size_t i, std::size_t n, float* out) {
  if (i < kInnerFrom && i + 8 <= n) storeFloats<kAligned>(out + i, kStep(in + kWirePerSample * i)), i += 8;
  for (; i + 56 + kInnerAfter <= n; i += 64) {
    for (std::size_t k = 0; k < 64; k += 8) storeFloats<kAligned>(out + i + k, kInnerStep(in + kWirePerSample * (i + k)));
  }
  for (; i + kInnerAfter <= n; i += 8) storeFloats<kAligned>(out + i, kInnerStep(in + kWirePerSample * i));
  for (; i + 8 <= n; i += 8) storeFloats<kAligned>(out + i, kStep(in + kWirePerSample * i));
  if (i < n) _mm256_storeu_ps(out + n - 8, kStep(in + kWirePerSample * (n - 8)));
}

// n >= 8. The half step (samples 0-3, stored as 16 bytes) is kLanes's lane 0 on the first 16
// wire bytes, with the steps' own constants (a 128-bit kernel of its own loads two more).
template <std::size_t kWirePerSample, __m256 (*kStep)(const std::uint8_t*), __m256 (*kLanes)(__m256i),
          __m256 (*kInnerStep)(const std::uint8_t*) = kStep, std::size_t kInnerFrom = 0, std::size_t kInnerAfter = 8>
AES67_AVX2_INLINE void decodeToAlignedStores(const std::uint8_t* in, std::size_t n, float* out) {
  const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(out) & 31;
  if (misaligned == 0) return decodeSteps<kWirePerSample, kStep, true, kInnerStep, kInnerFrom, kInnerAfter>(in, 0, n, out);
  if (misaligned == 16) {
    const __m256i head = _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
    _mm_store_ps(out, _mm256_castps256_ps128(kLanes(head)));
    return decodeSteps<kWirePerSample, kStep, true, kInnerStep, kInnerFrom, kInnerAfter>(in, 4, n, out);
  }
  _mm256_storeu_ps(out, kStep(in));
  // Floats off a 4-byte boundary (never from a float array) never align: all unaligned.
  if (misaligned % 4 != 0) return decodeSteps<kWirePerSample, kStep, false, kInnerStep, kInnerFrom, kInnerAfter>(in, 8, n, out);
  decodeSteps<kWirePerSample, kStep, true, kInnerStep, kInnerFrom, kInnerAfter>(in, (32 - misaligned) / 4, n, out);
}

// L24 from one 32-byte load 4 bytes before the step: lane 0 then holds samples 0-3 in its
// bytes 4-15 and lane 1 samples 4-7 in its bytes 0-11, so no vinserti128 joins two loads
// (vinserti128 crosses the lanes: one a cycle on Zen 3). It reads 4 bytes before the step's
// 24 and 4 after: only for steps from sample 2 on that leave 2 samples after them.
AES67_AVX2_INLINE __m256 decodeL24InnerStep(const std::uint8_t* in) {
  const __m256i wire = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in - 4));
  const __m256i toTop = _mm256_setr_epi8(Z, 6, 5, 4, Z, 9, 8, 7, Z, 12, 11, 10, Z, 15, 14, 13,  //
                                         Z, 2, 1, 0, Z, 5, 4, 3, Z, 8, 7, 6, Z, 11, 10, 9);
  const __m256i top = _mm256_shuffle_epi8(wire, toTop);
  return _mm256_mul_ps(_mm256_cvtepi32_ps(top), _mm256_set1_ps(kTwoToMinus31));
}

// Packets shorter than one step go to the scalar kernel, out of line so that the kernels stay
// leaf functions: a call in a kernel gave it a stack frame (three pushes and a realignment),
// about 0.7 ns a packet of the L16 decoder, 0.3-0.7 ns of the L24 and L32 encoders.
__attribute__((noinline)) void decodeScalar(PcmEncoding e, const std::uint8_t* in, std::size_t n, float* out) {
  pcmKernels(PcmKernelSet::kScalar)->decode[static_cast<std::size_t>(e)](in, n, out);
}
__attribute__((noinline)) void encodeScalar(PcmEncoding e, const float* in, std::size_t n, std::uint8_t* out) {
  pcmKernels(PcmKernelSet::kScalar)->encode[static_cast<std::size_t>(e)](in, n, out);
}

AES67_AVX2 void decodeL16(const std::uint8_t* in, std::size_t n, float* out) {
  if (n < 8) return decodeScalar(PcmEncoding::kL16, in, n, out);
  decodeToAlignedStores<2, decodeL16Step, decodeL16Lanes>(in, n, out);
}
AES67_AVX2 void decodeL24(const std::uint8_t* in, std::size_t n, float* out) {
  if (n < 8) return decodeScalar(PcmEncoding::kL24, in, n, out);
  decodeToAlignedStores<3, decodeL24Step, decodeL24Lanes, decodeL24InnerStep, 2, 10>(in, n, out);
}
AES67_AVX2 void decodeL32(const std::uint8_t* in, std::size_t n, float* out) {
  if (n < 8) return decodeScalar(PcmEncoding::kL32, in, n, out);
  decodeToAlignedStores<4, decodeL32Step, decodeL32Lanes>(in, n, out);
}
// The exact L16 kernel: what encodeL16 runs when its fast path (below) cannot take the
// packet, and for packets too short for the fast path to pay.
AES67_AVX2 void encodeL16Exact(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 8) return encodeScalar(PcmEncoding::kL16, in, n, out);
  inSteps<float, std::uint8_t, 1, 2, encodeL16Step>(in, n, out);
}
// L24, 8 samples: vpshufb leaves samples 0-3 in bytes 0-11 of the low half and 4-7 in bytes
// 0-11 of the high half. Stored as two 16-byte halves, the high one (vextracti128 straight to
// memory) at out + 12 over the low one's 4 spare bytes, no lane-crossing vpermd is needed:
// 1 ms x 8 ch 39.0 -> 33.6 ns, x 64 ch 311 -> 263 ns on Zen 3 (the bench's floor, which clips
// nothing but joins the halves with vpermd: 34 and 267 ns). The step writes 4 bytes past its
// 24, which the next step overwrites; the clip is the exact kernel's (quantize), so NaN needs
// no check.
AES67_AVX2_INLINE void encodeL24SpareStep(const float* in, std::uint8_t* out) {
  const __m256i toWire = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, Z, Z, Z, Z,  //
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, Z, Z, Z, Z);
  const __m256i halves = _mm256_shuffle_epi8(quantize(in, 8388608.0f), toWire);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(halves));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 12), _mm256_extracti128_si256(halves, 1));
}

AES67_AVX2 void encodeL24(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 8) return encodeScalar(PcmEncoding::kL24, in, n, out);
  // Pointers stepped, four steps a loop turn, as long as the last step's 4 spare bytes lie in
  // the packet (2 samples past the turn).
  const float* const inEnd = in + n;
  for (; inEnd - in >= 32 + 2; in += 32, out += 96) {
    encodeL24SpareStep(in, out);
    encodeL24SpareStep(in + 8, out + 24);
    encodeL24SpareStep(in + 16, out + 48);
    encodeL24SpareStep(in + 24, out + 72);
  }
  for (; inEnd - in >= 8 + 2; in += 8, out += 24) encodeL24SpareStep(in, out);
  // The last 2 to 9 samples in exact steps (16 + 8 bytes), the last stepped back to end where
  // the packet ends (the overlap is written twice, with the same bytes; at least 8 samples
  // lie before it when fewer than 8 are left).
  std::size_t rest = static_cast<std::size_t>(inEnd - in);
  if (rest >= 8) storeL24Exactly(encodeL24Words(in), out), in += 8, out += 24, rest -= 8;
  if (rest != 0) storeL24Exactly(encodeL24Words(in + rest - 8), out + 3 * rest - 24);
}

// ---- encode: fast paths ----------------------------------------------------------------
// L16, as in pcm_kernels_avx512.cpp ("encode: fast paths"), whose reasoning and MXCSR
// protocol it follows: the exact encoder above spends two float operations a vector on
// clipping (min and max before the conversion) and a vpshufb and a vpermq a vector on
// narrowing, which put it at 0.27-0.34x memcpy of its wire bytes. vcvtps2dq raises MXCSR's
// invalid flag (IE) for NaN and for every value out of int32 range, so the fast path converts
// without any NaN handling, clips with vpackssdw's signed saturation, and reads MXCSR once
// after the packet; a packet that raised IE is scanned (integer compares, which raise
// nothing) and encoded again with the exact kernel only if it holds NaN, an infinity or a
// sample of magnitude 2^16 or more. The fast path is exact for every input that does not
// raise IE (pcm_kernels_test.cpp checks that on the fast path alone), and IE is cleared
// afterwards either way. (L24 needs no fast path since encodeL24 stores without vpermd: its
// integer clip plus the MXCSR read cost as much as the float clip; on Zen 3 stmxcsr waits
// for every conversion before it, about 5 ns a packet.)

constexpr std::uint32_t kMxcsrInvalid = 1;  // IE
AES67_AVX2_INLINE std::uint32_t readMxcsr() {
  std::uint32_t csr;
  asm volatile("stmxcsr %0" : "=m"(csr) : : "memory");
  return csr;
}
AES67_AVX2_INLINE void writeMxcsr(std::uint32_t csr) { asm volatile("ldmxcsr %0" : : "m"(csr) : "memory"); }

// Where the fast path starts (measured on Zen 4 with `npm run bench -- codec`'s timing, fast
// path against exact kernel at each length): it issues 7 vector operations a 16 samples (the
// bench's floor 6, the exact kernel 12), and from 128 samples that wins back the MXCSR read.
constexpr std::size_t kL16FastFrom = 128;

// L16, 16 samples to 32 wire bytes: x * 2^15 converted (rounded to nearest, ties to even,
// as the scalar kernel rounds; the scaling is exact, and clipping to [-1, 1] before
// rounding changes nothing that the saturation does not give back), vpackssdw (its signed
// saturation to [-32768, 32767] is the clip; it leaves words 0-3 of a, 0-3 of b, 4-7 of a,
// 4-7 of b), one vpshufb for the byte order and one vpermq for the lane order. x * 2^15 fits
// int32 for |x| < 2^16 (-2^16 itself converts to the most negative int32 without IE, and
// saturates right).
AES67_AVX2_INLINE __m256i encodeL16FastWords(const float* in) {
  const __m256 scale = _mm256_set1_ps(32768.0f);
  const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(in), scale));
  const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(in + 8), scale));
  const __m256i bigEndian = _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14,  //
                                             1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  return _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_packs_epi32(a, b), bigEndian), 0xD8);
}
AES67_AVX2_INLINE void encodeL16FastStep(const float* in, std::uint8_t* out) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), encodeL16FastWords(in));
}

AES67_AVX2_INLINE void encodeL16FastInline(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 16) return encodeL16Exact(in, n, out);
  // Pointers stepped rather than indexed, four steps a loop turn: fewer loop instructions
  // a step (on Zen 4 the loop is bound by instructions issued, not by any one pipe).
  for (const float* const end = in + (n & ~std::size_t{63}); in != end; in += 64, out += 128) {
    encodeL16FastStep(in, out);
    encodeL16FastStep(in + 16, out + 32);
    encodeL16FastStep(in + 32, out + 64);
    encodeL16FastStep(in + 48, out + 96);
  }
  // The rest in whole steps, the last stepped back to end where the packet ends (the
  // overlap is written twice, with the same bytes).
  std::size_t rest = n & 63;
  for (; rest >= 16; rest -= 16, in += 16, out += 32) encodeL16FastStep(in, out);
  if (rest != 0) encodeL16FastStep(in + rest - 16, out + 2 * rest - 32);
}

// The fast path alone, for the tests (avx2FastEncoderIfBuilt); the kernel inlines it.
AES67_AVX2 void encodeL16Fast(const float* in, std::size_t n, std::uint8_t* out) { encodeL16FastInline(in, n, out); }

// Whether any of the n floats is NaN or of magnitude `limit` or more (as bits: positive
// floats order as their bits do, and NaN's bits are above every other's), read as integers.
AES67_AVX2 bool anyNanOrBeyond(const float* in, std::size_t n, float limit) {
  const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i most = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    most = _mm256_max_epu32(most, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)), magnitude));
  }
  if (i < n) {  // the last eight again (n >= 8 here: the fast path takes no fewer)
    most = _mm256_max_epu32(most, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + n - 8)), magnitude));
  }
  // most >= limit in some lane: there max(most, limit) is most.
  const __m256i bound = _mm256_castps_si256(_mm256_set1_ps(limit));
  return _mm256_movemask_epi8(_mm256_cmpeq_epi32(_mm256_max_epu32(most, bound), most)) != 0;
}

// The fast path, then (see above) the exact kernel again for a packet that holds what the
// fast path cannot take. 2^kBeyondLog2: the magnitude from which x * 2^(bits-1) leaves int32.
template <void (*kFast)(const float*, std::size_t, std::uint8_t*), void (*kExact)(const float*, std::size_t, std::uint8_t*),
          std::size_t kFastFrom, int kBeyondLog2>
AES67_AVX2_INLINE void encodeChecked(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < kFastFrom) return kExact(in, n, out);
  kFast(in, n, out);
  if ((readMxcsr() & kMxcsrInvalid) == 0) return;
  if (anyNanOrBeyond(in, n, static_cast<float>(1u << kBeyondLog2))) kExact(in, n, out);
  writeMxcsr(readMxcsr() & ~kMxcsrInvalid);  // after the rerun, which raises it too
}

AES67_AVX2 void encodeL16(const float* in, std::size_t n, std::uint8_t* out) {
  encodeChecked<encodeL16FastInline, encodeL16Exact, kL16FastFrom, 16>(in, n, out);
}
AES67_AVX2 void encodeL32Exact(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 8) return encodeScalar(PcmEncoding::kL32, in, n, out);
  inSteps<float, std::uint8_t, 1, 4, encodeL32Step>(in, n, out);
}

// L32's fast path: encodeL32Step without its NaN mask (a compare and an and a vector), which
// is the only thing NaN needs; NaN is found instead by a running float sum of the input, one
// add a vector on otherwise idle pipes (NaN is sticky under addition). A packet whose sum is
// NaN (it holds NaN, or infinities, or sums to them, of both signs) is encoded again with the
// exact kernel. Exact for every packet without NaN (pcm_kernels_test.cpp checks that on the
// fast path alone). 1 ms x 8 ch 36.7 -> 32.4 ns, x 64 ch 275 -> 232 ns on Zen 3.
AES67_AVX2_INLINE __m256i encodeL32FastWords(const float* in, __m256& sum) {
  const __m256 x = _mm256_loadu_ps(in);
  sum = _mm256_add_ps(sum, x);
  const __m256i words = _mm256_cvtps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(2147483648.0f)));  // exact
  const __m256i atTop = _mm256_cmpgt_epi32(_mm256_castps_si256(x), _mm256_set1_epi32(0x3F7FFFFF));
  return byteSwap32(_mm256_xor_si256(words, atTop));
}

// Returns whether the sum is NaN (then the output is not yet right). Two sums, so that the
// adds' latency does not bound the loop.
AES67_AVX2_INLINE bool encodeL32FastInline(const float* in, std::size_t n, std::uint8_t* out) {
  __m256 sumA = _mm256_setzero_ps(), sumB = _mm256_setzero_ps();
  auto store = [](std::uint8_t* at, __m256i words) __attribute__((target("avx2"), always_inline)) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(at), words);
  };
  const float* const inEnd = in + n;
  for (; inEnd - in >= 32; in += 32, out += 128) {
    store(out, encodeL32FastWords(in, sumA));
    store(out + 32, encodeL32FastWords(in + 8, sumB));
    store(out + 64, encodeL32FastWords(in + 16, sumA));
    store(out + 96, encodeL32FastWords(in + 24, sumB));
  }
  for (; inEnd - in >= 8; in += 8, out += 32) store(out, encodeL32FastWords(in, sumA));
  // The last 1 to 7 samples: the last eight again (n >= 8), ending where the packet ends.
  const std::size_t rest = static_cast<std::size_t>(inEnd - in);
  if (rest != 0) store(out + 4 * rest - 32, encodeL32FastWords(in + rest - 8, sumB));
  const __m256 sum = _mm256_add_ps(sumA, sumB);
  return _mm256_movemask_ps(_mm256_cmp_ps(sum, sum, _CMP_UNORD_Q)) != 0;
}

AES67_AVX2 void encodeL32(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 8) return encodeScalar(PcmEncoding::kL32, in, n, out);
  if (encodeL32FastInline(in, n, out)) encodeL32Exact(in, n, out);
}
// The fast path alone, for the tests (avx2L32NanFreeEncoderIfBuilt).
AES67_AVX2 void encodeL32Fast(const float* in, std::size_t n, std::uint8_t* out) {
  if (n < 8) return encodeScalar(PcmEncoding::kL32, in, n, out);
  encodeL32FastInline(in, n, out);
}

constexpr PcmKernels kAvx2Kernels{PcmKernelSet::kAvx2, {decodeL16, decodeL24, decodeL32}, {encodeL16, encodeL24, encodeL32}};

}  // namespace

const PcmKernels* avx2PcmKernelsIfBuilt() { return &kAvx2Kernels; }

PcmEncodeKernel avx2FastEncoderIfBuilt(PcmEncoding e) { return e == PcmEncoding::kL16 ? encodeL16Fast : nullptr; }

PcmEncodeKernel avx2L32NanFreeEncoderIfBuilt() { return encodeL32Fast; }

}  // namespace aes67

#else

namespace aes67 {
const PcmKernels* avx2PcmKernelsIfBuilt() { return nullptr; }
PcmEncodeKernel avx2FastEncoderIfBuilt(PcmEncoding) { return nullptr; }
PcmEncodeKernel avx2L32NanFreeEncoderIfBuilt() { return nullptr; }
}  // namespace aes67

#endif
