// Every instruction-set kernel of the PCM codec against the portable scalar kernel, bit for
// bit: every L16 and L24 code, L32 edges and random words, floats that stress rounding,
// clipping and NaN, every length up to 40 samples at every alignment of input and output.
// The scalar kernel is itself checked against a one-sample-at-a-time reference and the
// lab's TypeScript codec (pcm_codec_test.cpp, lab/net/pcm.property.test.ts).
#include "engine/rtp/pcm_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "test-support/counting_heap.hpp"

#if defined(__unix__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace aes67 {
namespace {

constexpr PcmEncoding kEncodings[] = {PcmEncoding::kL16, PcmEncoding::kL24, PcmEncoding::kL32};

std::size_t index(PcmEncoding e) { return static_cast<std::size_t>(e); }

const PcmKernels& scalar() { return *pcmKernels(PcmKernelSet::kScalar); }

// The sets other than scalar that this build and this CPU run.
std::vector<const PcmKernels*> fastSets() {
  std::vector<const PcmKernels*> sets;
  // Slowest to fastest: the codec must run the last.
  if (const PcmKernels* k = pcmKernels(PcmKernelSet::kAvx2)) sets.push_back(k);
  if (const PcmKernels* k = pcmKernels(PcmKernelSet::kAvx512)) sets.push_back(k);
  return sets;
}

#define FOR_EACH_FAST_SET(k)                                                                              \
  if (fastSets().empty()) GTEST_SKIP() << "no kernel set but scalar on this build/CPU (x86-64 with AVX2 has one)"; \
  for (const PcmKernels* k : fastSets())

std::uint32_t xorshift(std::uint64_t& s) {
  s ^= s << 13, s ^= s >> 7, s ^= s << 17;
  return static_cast<std::uint32_t>(s >> 16);
}

float floatFromBits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Decoded floats compared as bits (so -0 and 0, or two NaNs, are not taken as equal).
void expectSameDecode(const PcmKernels& k, PcmEncoding e, const std::vector<std::uint8_t>& wire) {
  const std::size_t n = wire.size() / bytesPerSample(e);
  std::vector<float> want(n), got(n);
  scalar().decode[index(e)](wire.data(), n, want.data());
  k.decode[index(e)](wire.data(), n, got.data());
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t a, b;
    std::memcpy(&a, &want[i], 4);
    std::memcpy(&b, &got[i], 4);
    ASSERT_EQ(a, b) << toString(k.set) << " " << toString(e) << " sample " << i;
  }
}

void expectSameEncode(const PcmKernels& k, PcmEncoding e, const std::vector<float>& in) {
  const std::size_t w = bytesPerSample(e);
  std::vector<std::uint8_t> want(in.size() * w), got(in.size() * w);
  scalar().encode[index(e)](in.data(), in.size(), want.data());
  k.encode[index(e)](in.data(), in.size(), got.data());
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(0, std::memcmp(&want[i * w], &got[i * w], w))
        << toString(k.set) << " " << toString(e) << " sample " << i << " = " << in[i] << " (bits 0x" << std::hex
        << [&] { std::uint32_t b; std::memcpy(&b, &in[i], 4); return b; }() << ")";
  }
}

std::vector<std::uint8_t> everyCode(int bits) {
  const std::size_t w = static_cast<std::size_t>(bits / 8), codes = std::size_t{1} << bits;
  std::vector<std::uint8_t> wire(codes * w);
  for (std::size_t v = 0; v < codes; ++v) {
    for (std::size_t b = 0; b < w; ++b) wire[v * w + b] = static_cast<std::uint8_t>(v >> (8 * (w - 1 - b)));
  }
  return wire;
}

TEST(PcmKernels, TheCodecUsesTheFastestSetThisCpuRuns) {
  const PcmKernelSet want = fastSets().empty() ? PcmKernelSet::kScalar : fastSets().back()->set;
  EXPECT_EQ(activePcmKernels().set, want) << "active: " << toString(activePcmKernels().set);
  // decodePcm and encodePcm call that set's kernels, through their own copy (pcm_codec.hpp).
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(detail::pcmDispatch.decode[e], activePcmKernels().decode[e]) << "L" << 16 + 8 * e;
    EXPECT_EQ(detail::pcmDispatch.encode[e], activePcmKernels().encode[e]) << "L" << 16 + 8 * e;
  }
}

TEST(PcmKernels, L16DecodesEveryCodeLikeScalar) {
  FOR_EACH_FAST_SET(k) expectSameDecode(*k, PcmEncoding::kL16, everyCode(16));
}

TEST(PcmKernels, L24DecodesEveryCodeLikeScalar) {
  FOR_EACH_FAST_SET(k) expectSameDecode(*k, PcmEncoding::kL24, everyCode(24));
}

TEST(PcmKernels, L32DecodesEdgesAndRandomWordsLikeScalar) {
  std::vector<std::uint32_t> words = {0x80000000u, 0x7FFFFFFFu, 0, 1, 0xFFFFFFFFu, 0x00FFFFFFu, 0x01000001u, 0xFF000001u,
                                      0x7FFFFF80u, 0x7FFFFF7Fu, 0x80000080u, 0x80000081u, 0x40000000u, 0xC0000000u};
  // Around every power of two, where int32 -> float starts to round (and its ties).
  for (int p = 23; p < 31; ++p) {
    for (std::int64_t d = -3; d <= 3; ++d) {
      const std::int64_t step = std::int64_t{1} << (p - 23);
      for (std::int64_t sign : {1, -1}) words.push_back(static_cast<std::uint32_t>(sign * ((std::int64_t{1} << p) + d * step / 2 + d)));
    }
  }
  std::uint64_t s = 0xD1CEu;
  for (int i = 0; i < 1 << 20; ++i) words.push_back(xorshift(s) ^ (xorshift(s) << 16));
  std::vector<std::uint8_t> wire;
  for (std::uint32_t w : words) {
    for (int b = 3; b >= 0; --b) wire.push_back(static_cast<std::uint8_t>(w >> (8 * b)));
  }
  FOR_EACH_FAST_SET(k) expectSameDecode(*k, PcmEncoding::kL32, wire);
}

// Floats that stress rounding, clipping and the specials, for every encoding.
std::vector<float> awkwardFloats() {
  std::vector<float> v;
  for (int bits : {16, 24, 32}) {
    const float full = std::ldexp(1.0f, bits - 1);
    // Every L16 code and tie; for L24 and L32 the codes and ties near the ends and zero.
    const std::int64_t span = bits == 16 ? 32770 : 3000;
    for (std::int64_t base : {std::int64_t{0}, static_cast<std::int64_t>(full), -static_cast<std::int64_t>(full)}) {
      for (std::int64_t k = base - span; k <= base + span; ++k) {
        const float code = static_cast<float>(k) / full;
        const float tie = (static_cast<float>(k) + 0.5f) / full;
        for (float x : {code, tie, std::nextafter(tie, 2.0f), std::nextafter(tie, -2.0f)}) v.push_back(x);
      }
    }
  }
  for (float x : {1.0f, -1.0f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, -1e-45f, 2.0f, -2.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f}) {
    v.push_back(x);
    v.push_back(std::nextafter(x, 0.0f));
    v.push_back(std::nextafter(x, std::numeric_limits<float>::infinity()));
    v.push_back(std::nextafter(x, -std::numeric_limits<float>::infinity()));
  }
  for (std::uint32_t b : {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu, 0xFFFFFFFFu,
                          0x7FC0FFFFu, 0x7FA00001u, 0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu}) {
    v.push_back(floatFromBits(b));
  }
  std::uint64_t s = 0x5EED5u;
  for (int i = 0; i < 1 << 20; ++i) {
    v.push_back(floatFromBits(xorshift(s) ^ (xorshift(s) << 16)));                              // any bit pattern
    v.push_back(static_cast<float>(static_cast<std::int32_t>(xorshift(s) % 4400001) - 2200000) / 2e6f);  // a DAW's mix, some clipping
  }
  return v;
}

TEST(PcmKernels, EncodesAwkwardFloatsLikeScalar) {
  const std::vector<float> in = awkwardFloats();
  FOR_EACH_FAST_SET(k) {
    for (PcmEncoding e : kEncodings) expectSameEncode(*k, e, in);
  }
}

// Packets are any length and start anywhere in a datagram (the payload follows a 12-byte
// RTP header, plus CSRCs and extensions): every length from 0 to 72 samples, the wire at
// every byte offset 0-7 and the floats at every float offset 0-7 from a 64-byte boundary
// (so every alignment a vector load or store can meet), and nothing outside the output
// written.
TEST(PcmKernels, AnyLengthAtAnyAlignmentLikeScalarAndNothingOutside) {
  constexpr std::uint8_t kGuard = 0xA5;
  constexpr std::size_t kMax = 72;
  std::uint64_t s = 99;
  FOR_EACH_FAST_SET(k) {
    for (PcmEncoding e : kEncodings) {
      const std::size_t w = bytesPerSample(e);
      for (std::size_t n = 0; n <= kMax; ++n) {
        for (std::size_t wireOffset = 0; wireOffset < 8; ++wireOffset) {
          for (std::size_t floatOffset = 0; floatOffset < 8; ++floatOffset) {
            const std::string where = std::string(toString(k->set)) + " " + toString(e) + " n=" + std::to_string(n) +
                                      " wire+" + std::to_string(wireOffset) + " B, floats+" + std::to_string(floatOffset);
            // Encode: floats at floatOffset, wire out at wireOffset.
            alignas(64) float in[8 + kMax];
            for (std::size_t i = 0; i < n; ++i) {
              in[floatOffset + i] = static_cast<float>(static_cast<std::int32_t>(xorshift(s) % 2300001) - 1150000) / 1e6f;
            }
            alignas(64) std::uint8_t want[8 + 4 * kMax + 40], got[8 + 4 * kMax + 40];
            std::memset(want, kGuard, sizeof want);
            std::memset(got, kGuard, sizeof got);
            scalar().encode[index(e)](in + floatOffset, n, want + wireOffset);
            k->encode[index(e)](in + floatOffset, n, got + wireOffset);
            ASSERT_EQ(0, std::memcmp(want, got, sizeof want)) << "encode " << where;
            for (std::size_t b = 0; b < wireOffset; ++b) ASSERT_EQ(got[b], kGuard) << "written before, " << where;
            for (std::size_t b = wireOffset + n * w; b < sizeof got; ++b) ASSERT_EQ(got[b], kGuard) << "written after, " << where;

            // Decode: wire at wireOffset, floats out at floatOffset; guards compared as bytes.
            alignas(64) std::uint8_t wire[8 + 4 * kMax];
            for (std::size_t b = 0; b < n * w; ++b) wire[wireOffset + b] = static_cast<std::uint8_t>(xorshift(s));
            alignas(64) float wantF[8 + kMax + 8], gotF[8 + kMax + 8];
            std::memset(wantF, kGuard, sizeof wantF);
            std::memset(gotF, kGuard, sizeof gotF);
            scalar().decode[index(e)](wire + wireOffset, n, wantF + floatOffset);
            k->decode[index(e)](wire + wireOffset, n, gotF + floatOffset);
            ASSERT_EQ(0, std::memcmp(wantF, gotF, sizeof wantF)) << "decode " << where;
            const auto* gotBytes = reinterpret_cast<const std::uint8_t*>(gotF);
            for (std::size_t b = 0; b < 4 * floatOffset; ++b) ASSERT_EQ(gotBytes[b], kGuard) << "written before, " << where;
            for (std::size_t b = 4 * (floatOffset + n); b < sizeof gotF; ++b) ASSERT_EQ(gotBytes[b], kGuard) << "written after, " << where;
          }
        }
      }
    }
  }
}

// MXCSR, where the AVX-512 encoders' fast paths leave their invalid flag (IE).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
std::uint32_t readMxcsr() {
  std::uint32_t csr;
  asm volatile("stmxcsr %0" : "=m"(csr) : : "memory");
  return csr;
}
void writeMxcsr(std::uint32_t csr) { asm volatile("ldmxcsr %0" : : "m"(csr) : "memory"); }
constexpr std::uint32_t kInvalid = 1;  // MXCSR.IE
#endif

// Sample values a packet carries: a mix within and a little beyond full scale, exact codes,
// the ties between them and the ends, as `bits` rounds them.
float packetSample(std::uint64_t& s, int bits) {
  const float full = std::ldexp(1.0f, bits - 1);
  switch (xorshift(s) % 4) {
    case 0: return static_cast<float>(static_cast<std::int32_t>(xorshift(s) % 2300001) - 1150000) / 1e6f;
    case 1: return (static_cast<float>(static_cast<std::int32_t>(xorshift(s) % 65536) - 32768) + 0.5f) / 32768.0f;
    case 2: return static_cast<float>(static_cast<std::int32_t>(xorshift(s) % (1u << 24)) - (1 << 23)) / full;
    default: {
      const float ends[] = {1.0f, -1.0f, (full - 0.5f) / full, -(full + 0.5f) / full, 0.0f, -0.0f, 1.5f, -1.5f};
      return ends[xorshift(s) % 8];
    }
  }
}

// The head and tail paths of every kernel that has them: the output (wire bytes for an
// encoder, floats for a decoder) at every offset of a 64-byte line, the input at every
// offset a float array (encoder) or a datagram (decoder) can give, every length through a
// few whole vectors and loop turns (the AVX-512 L24 encoder takes 128 samples a turn, the
// AVX2 L16 fast path 64 and L24 encoder 32, with tails of every length from 0 to a turn), and
// nothing outside the output written. Through the public kernels, for lengths on both sides
// of where the encoders switch to their fast paths (AVX-512: 320 samples for L16, 160 for
// L24; AVX2: 128 for L16), and through those fast paths alone.
TEST(PcmKernels, HeadsAndTailsAtEveryAlignmentLikeScalar) {
  constexpr std::uint8_t kGuard = 0x5A;
  constexpr std::size_t kMax = 800;
  std::uint64_t s = 0xA11CE;
  struct Encoder {
    std::string name;
    PcmEncoding e;
    PcmEncodeKernel kernel;
    bool fastPath = false;  // must not raise IE on these samples (else the kernel reruns them)
  };
  std::vector<Encoder> encoders;
  std::vector<const PcmKernels*> decoders = fastSets();
  for (const PcmKernels* k : fastSets()) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) encoders.push_back({toString(k->set), e, k->encode[index(e)]});
  }
  if (pcmKernels(PcmKernelSet::kAvx2) != nullptr) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      if (PcmEncodeKernel fast = avx2FastEncoderIfBuilt(e)) encoders.push_back({"avx2 fast path", e, fast, true});
    }
  }
  if (pcmKernels(PcmKernelSet::kAvx512) != nullptr) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      if (PcmEncodeKernel fast = avx512FastEncoderIfBuilt(e)) encoders.push_back({"avx512 fast path", e, fast, true});
    }
  }
  if (encoders.empty()) GTEST_SKIP() << "no kernel set but scalar on this build/CPU (x86-64 with AVX2 has one)";

  alignas(64) float in[16 + kMax];
  alignas(64) std::uint8_t want[64 + 3 * kMax + 64], got[64 + 3 * kMax + 64];
  for (const Encoder& k : encoders) {
    const std::size_t w = bytesPerSample(k.e);
    // Every length through a few vectors, and those around each switch to a fast path.
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= (k.e == PcmEncoding::kL16 ? 160 : 300); ++n) lengths.push_back(n);
    for (std::size_t n = (k.e == PcmEncoding::kL16 ? 310 : 760); n <= (k.e == PcmEncoding::kL16 ? 400 : kMax); ++n) lengths.push_back(n);
    for (std::size_t floatOffset = 0; floatOffset < 16; ++floatOffset) {
      for (std::size_t i = 0; i < 16 + kMax; ++i) in[i] = packetSample(s, 8 * static_cast<int>(w));
      for (std::size_t wireOffset = 0; wireOffset < 64; ++wireOffset) {
        for (std::size_t n : lengths) {
          std::memset(want, kGuard, sizeof want);
          std::memset(got, kGuard, sizeof got);
          scalar().encode[index(k.e)](in + floatOffset, n, want + wireOffset);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
          const std::uint32_t csr = readMxcsr();
          writeMxcsr(csr & ~kInvalid);
          k.kernel(in + floatOffset, n, got + wireOffset);
          const bool raised = readMxcsr() & kInvalid;
          writeMxcsr(csr);
          ASSERT_FALSE(k.fastPath && raised) << k.name << " " << toString(k.e) << " raised IE on packet samples, n=" << n;
#else
          k.kernel(in + floatOffset, n, got + wireOffset);
#endif
          ASSERT_EQ(0, std::memcmp(want, got, sizeof want)) << k.name << " " << toString(k.e) << " encode n=" << n << " floats+"
                                                             << floatOffset << ", wire+" << wireOffset << " B";
        }
      }
    }
  }

  alignas(64) std::uint8_t wire[64 + 3 * kMax];
  alignas(64) float wantF[16 + kMax + 16], gotF[16 + kMax + 16];
  for (std::size_t b = 0; b < sizeof wire; ++b) wire[b] = static_cast<std::uint8_t>(xorshift(s));
  for (const PcmKernels* k : decoders) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      for (std::size_t floatOffset = 0; floatOffset < 16; ++floatOffset) {
        for (std::size_t wireOffset = 0; wireOffset < 64; ++wireOffset) {
          for (std::size_t n = 0; n <= 100; ++n) {
            std::memset(wantF, kGuard, sizeof wantF);
            std::memset(gotF, kGuard, sizeof gotF);
            scalar().decode[index(e)](wire + wireOffset, n, wantF + floatOffset);
            k->decode[index(e)](wire + wireOffset, n, gotF + floatOffset);
            ASSERT_EQ(0, std::memcmp(wantF, gotF, sizeof wantF)) << toString(k->set) << " " << toString(e) << " decode n=" << n
                                                                 << " wire+" << wireOffset << " B, floats+" << floatOffset;
          }
        }
      }
    }
  }
}


// Every packet length from 0 to 1100 samples (past a 1 ms x 8 ch packet, through several
// loop turns of every kernel, with every tail a turn can leave), at a random alignment of
// input and output each, for every encoding, through each fast set's public encoders:
// the scalar kernel's bytes and nothing outside the output written. Each length is coded
// three times: audio within and a little beyond full scale, the same with one special value
// (NaN with any payload, an infinity, a huge or denormal value, -0) at a random place, and
// with one at the last sample (what a kernel's stepped-back last step alone must catch).
// The fast paths alone (the AVX2 L16 one, the AVX2 L32 one without its NaN check) get the
// same lengths with the specials each can take.
TEST(PcmKernels, EveryLengthWithSpecialsAnywhereLikeScalar) {
  constexpr std::size_t kMax = 1100;
  constexpr std::uint8_t kGuard = 0x3C;
  struct Encoder {
    std::string name;
    PcmEncoding e;
    PcmEncodeKernel kernel;
    bool nan, beyond;  // whether it may be given NaN, and magnitudes from 2^16 (L16) on
  };
  std::vector<Encoder> encoders;
  for (const PcmKernels* k : fastSets()) {
    for (PcmEncoding e : kEncodings) encoders.push_back({toString(k->set), e, k->encode[index(e)], true, true});
  }
  if (encoders.empty()) GTEST_SKIP() << "no kernel set but scalar on this build/CPU (x86-64 with AVX2 has one)";
  if (pcmKernels(PcmKernelSet::kAvx2) != nullptr) {
    if (PcmEncodeKernel fast = avx2FastEncoderIfBuilt(PcmEncoding::kL16)) encoders.push_back({"avx2 fast path", PcmEncoding::kL16, fast, false, false});
    if (PcmEncodeKernel fast = avx2L32NanFreeEncoderIfBuilt()) encoders.push_back({"avx2 NaN-free fast path", PcmEncoding::kL32, fast, false, true});
  }
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> nans = {floatFromBits(0x7FC00000u), floatFromBits(0xFFC00000u), floatFromBits(0x7F800001u),
                                   floatFromBits(0xFFBFFFFFu), floatFromBits(0x7FC0FFFFu), floatFromBits(0xFFFFFFFFu)};
  const std::vector<float> beyond = {inf, -inf, 65536.0f, -65536.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, 2147483648.0f};
  const std::vector<float> inRange = {0.0f, -0.0f, 1e-45f, -1e-45f, 1.17e-38f, -1.17e-38f, 1.0f, -1.0f, 255.9f, -255.9f, 65535.0f, -65535.0f,
                                      std::nextafter(1.0f, 0.0f), std::nextafter(-1.0f, 0.0f)};
  std::uint64_t s = 0x7A115;
  std::vector<float> in(16 + kMax);
  std::vector<std::uint8_t> want(64 + 4 * kMax + 64), got(want.size());
  for (const Encoder& k : encoders) {
    const std::size_t w = bytesPerSample(k.e);
    std::vector<float> specials = inRange;
    if (k.nan) specials.insert(specials.end(), nans.begin(), nans.end());
    if (k.beyond) specials.insert(specials.end(), beyond.begin(), beyond.end());
    for (std::size_t n = 0; n <= kMax; ++n) {
      for (int variant = 0; variant < 3; ++variant) {
        const std::size_t floatOffset = xorshift(s) % 16, wireOffset = xorshift(s) % 64;
        float* packet = in.data() + floatOffset;
        for (std::size_t i = 0; i < n; ++i) packet[i] = packetSample(s, 8 * static_cast<int>(w));
        if (n > 0 && variant > 0) packet[variant == 1 ? xorshift(s) % n : n - 1] = specials[xorshift(s) % specials.size()];
        std::fill(want.begin(), want.end(), kGuard);
        std::fill(got.begin(), got.end(), kGuard);
        scalar().encode[index(k.e)](packet, n, want.data() + wireOffset);
        k.kernel(packet, n, got.data() + wireOffset);
        ASSERT_EQ(want, got) << k.name << " " << toString(k.e) << " n=" << n << " variant " << variant << " floats+" << floatOffset
                             << ", wire+" << wireOffset << " B";
      }
    }
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

// The kernel sets with fast encoders (AVX2, AVX-512) this build and CPU run, each with its
// L16 and L24 fast paths alone.
struct FastEncoders {
  const PcmKernels* kernels;
  PcmEncodeKernel (*fast)(PcmEncoding);
};
std::vector<FastEncoders> fastEncoderSets() {
  std::vector<FastEncoders> sets;
  if (const PcmKernels* k = pcmKernels(PcmKernelSet::kAvx2); k && avx2FastEncoderIfBuilt(PcmEncoding::kL16)) {
    sets.push_back({k, avx2FastEncoderIfBuilt});
  }
  if (const PcmKernels* k = pcmKernels(PcmKernelSet::kAvx512); k && avx512FastEncoderIfBuilt(PcmEncoding::kL16)) {
    sets.push_back({k, avx512FastEncoderIfBuilt});
  }
  return sets;
}

#define FAST_PATHS_OR_SKIP \
  if (fastEncoderSets().empty()) GTEST_SKIP() << "no AVX2 or AVX-512 kernel set on this build/CPU"

// What the fast paths cannot take, by encoding: NaN, infinities, and magnitudes from 2^16
// (L16) or 2^8 (L24) on, where x * 2^15 or x * 2^23 leaves int32.
std::vector<float> beyondTheFastPath(PcmEncoding e) {
  const float limit = e == PcmEncoding::kL16 ? 65536.0f : 256.0f;
  return {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(), floatFromBits(0x7F800001u),
          floatFromBits(0xFFC0FFFFu), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
          limit, std::nextafter(-limit, -1e30f), 1e30f, -1e30f, std::numeric_limits<float>::max()};
}

// Each value the fast path cannot take, at every position of a packet (head, loop, tail),
// raises IE in the fast path alone; the public kernel then gives the scalar bytes and leaves
// IE clear, whether or not IE was already set (then its scan of the packet, not IE, must
// find the value). The values just inside the fast path's range raise nothing and come out
// exact, through the kernel too when IE was set before.
TEST(PcmKernels, FastEncodersRaiseInvalidForWhatTheyCannotTakeAndTheKernelRerunsExactly) {
  FAST_PATHS_OR_SKIP;
  const std::uint32_t saved = readMxcsr();
  std::uint64_t s = 0xBAD;
  for (const FastEncoders& set : fastEncoderSets()) {
    const PcmKernels& kernels = *set.kernels;
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      // Long enough for every kernel to take its fast path (AVX-512 from 320 samples for
      // L16, 160 for L24; AVX2 from 128 for L16, none for L24), and no whole number of
      // vectors (the scan's last, partial one is met).
      PcmEncodeKernel fast = set.fast(e);
      if (fast == nullptr) continue;
      const std::size_t w = bytesPerSample(e), n = 407;
      const std::string where = std::string(toString(kernels.set)) + " " + toString(e);
      std::vector<float> in(n + 1);
      std::vector<std::uint8_t> want(n * w), got(n * w);
      for (float bad : beyondTheFastPath(e)) {
        for (std::size_t at = 0; at < n; ++at) {
          for (std::size_t i = 0; i <= n; ++i) in[i] = packetSample(s, 8 * static_cast<int>(w));
          in[at] = bad;
          // From the second float on: the fast path's head (to the input's 64-byte line) is met.
          const float* packet = in.data() + (at % 2);
          scalar().encode[index(e)](packet, n, want.data());
          writeMxcsr(saved & ~kInvalid);
          fast(packet, n, got.data());
          ASSERT_TRUE(readMxcsr() & kInvalid) << where << " fast path took " << bad << " at " << at << " without raising IE";
          for (std::uint32_t before : {saved & ~kInvalid, saved | kInvalid}) {
            writeMxcsr(before);
            kernels.encode[index(e)](packet, n, got.data());
            EXPECT_FALSE(readMxcsr() & kInvalid) << where << " left IE set after " << bad << " at " << at;
            ASSERT_EQ(want, got) << where << " " << bad << " at " << at << ", IE " << (before & kInvalid) << " before";
          }
        }
      }
      // Just inside: the largest magnitudes that still convert, and -2^16 / -2^8 themselves
      // (exactly the most negative int32 after scaling: no IE).
      const float limit = e == PcmEncoding::kL16 ? 65536.0f : 256.0f;
      for (float edge : {std::nextafter(limit, 0.0f), std::nextafter(-limit, 0.0f), -limit, 2.0f, -2.0f}) {
        std::fill(in.begin(), in.end(), edge);
        scalar().encode[index(e)](in.data(), n, want.data());
        writeMxcsr(saved & ~kInvalid);
        fast(in.data(), n, got.data());
        EXPECT_FALSE(readMxcsr() & kInvalid) << where << " fast path raised IE for " << edge;
        ASSERT_EQ(want, got) << where << " fast path, " << edge;
        writeMxcsr(saved | kInvalid);
        kernels.encode[index(e)](in.data(), n, got.data());
        ASSERT_EQ(want, got) << where << " kernel with IE set before, " << edge;
      }
    }
  }
  writeMxcsr(saved);
}

// The fast paths alone on every awkward float they can take (awkwardFloats without NaN,
// infinities and magnitudes from 2^16 / 2^8 on): every L16 code and tie, L24 and L32 codes
// and ties near zero and the ends, -0, denormals, values just beyond full scale, any bit
// pattern in range: the scalar kernel's bytes, and IE never raised. The public kernels
// rerun whole packets that hold what the fast path cannot take, so EncodesAwkwardFloatsLikeScalar
// alone would not reach the fast paths' rounding and clipping.
TEST(PcmKernels, FastEncodersEncodeAwkwardFloatsInTheirRangeLikeScalar) {
  FAST_PATHS_OR_SKIP;
  const std::uint32_t saved = readMxcsr();
  const std::vector<float> all = awkwardFloats();
  for (const FastEncoders& set : fastEncoderSets()) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      if (set.fast(e) == nullptr) continue;
      const float limit = e == PcmEncoding::kL16 ? 65536.0f : 256.0f;
      std::vector<float> in;
      for (float x : all) {
        if (std::fabs(x) < limit) in.push_back(x);  // false for NaN
      }
      const std::size_t w = bytesPerSample(e);
      std::vector<std::uint8_t> want(in.size() * w), got(in.size() * w);
      scalar().encode[index(e)](in.data(), in.size(), want.data());
      writeMxcsr(saved & ~kInvalid);
      set.fast(e)(in.data(), in.size(), got.data());
      EXPECT_FALSE(readMxcsr() & kInvalid) << toString(set.kernels->set) << " " << toString(e) << " fast path raised IE";
      writeMxcsr(saved);
      for (std::size_t i = 0; i < in.size(); ++i) {
        ASSERT_EQ(0, std::memcmp(&want[i * w], &got[i * w], w))
            << toString(set.kernels->set) << " " << toString(e) << " fast path, sample " << i << " = " << in[i] << " (bits 0x"
            << std::hex << [&] { std::uint32_t b; std::memcpy(&b, &in[i], 4); return b; }() << ")";
      }
    }
  }
}

// The rest of MXCSR is the caller's: the encoders with IE fast paths change nothing but IE,
// and clear an IE the caller had set (it costs them a scan of the packet) rather than scan
// every packet after it.
TEST(PcmKernels, FastEncodersClearAnInvalidFlagTheyFindAndKeepTheRestOfMxcsr) {
  FAST_PATHS_OR_SKIP;
  const std::uint32_t saved = readMxcsr();
  // Everything but the six sticky flags (bits 0-5): masks, rounding control, FZ, DAZ.
  constexpr std::uint32_t kControl = ~std::uint32_t{0x3F};
  std::uint64_t s = 7;
  for (const FastEncoders& set : fastEncoderSets()) {
    for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24}) {
      if (set.fast(e) == nullptr) continue;
      const std::size_t w = bytesPerSample(e), n = 3072;
      std::vector<float> in(n);
      for (float& x : in) x = packetSample(s, 8 * static_cast<int>(w));
      std::vector<std::uint8_t> want(n * w), got(n * w);
      scalar().encode[index(e)](in.data(), n, want.data());
      for (std::uint32_t before : {saved & ~kInvalid, saved | kInvalid}) {
        writeMxcsr(before);
        set.kernels->encode[index(e)](in.data(), n, got.data());
        const std::uint32_t after = readMxcsr();
        writeMxcsr(saved);
        EXPECT_EQ(want, got) << toString(set.kernels->set) << " " << toString(e) << " IE " << (before & kInvalid) << " before";
        EXPECT_EQ(after & kInvalid, 0u) << toString(set.kernels->set) << " " << toString(e) << " IE " << (before & kInvalid) << " before";
        EXPECT_EQ(after & kControl, before & kControl) << toString(set.kernels->set) << " " << toString(e);
      }
    }
  }
}
#endif

// Outputs that end in, straddle or start at a 4 KiB page boundary, at every byte offset
// around it: the AVX-512 kernels split any store that would straddle one in two (on Zen 4 a
// straddling store costs 9 ns), which must write exactly the bytes one store would.
TEST(PcmKernels, OutputsAroundAPageBoundaryLikeScalar) {
  constexpr std::size_t kPage = 4096, kMax = 200;
  constexpr std::uint8_t kGuard = 0xC3;
  struct Aligned {
    void operator()(void* p) const { std::free(p); }
  };
  // Three pages: the boundary between the first two is the one met.
  std::unique_ptr<std::uint8_t, Aligned> page(static_cast<std::uint8_t*>(std::aligned_alloc(kPage, 3 * kPage)));
  std::unique_ptr<std::uint8_t, Aligned> reference(static_cast<std::uint8_t*>(std::aligned_alloc(kPage, 3 * kPage)));
  ASSERT_TRUE(page && reference);
  std::uint64_t s = 0xF00D;
  alignas(64) float in[kMax];
  alignas(64) std::uint8_t wire[4 * kMax];
  for (std::size_t b = 0; b < sizeof wire; ++b) wire[b] = static_cast<std::uint8_t>(xorshift(s));
  std::vector<std::pair<std::string, const PcmKernels*>> sets;
  for (const PcmKernels* k : fastSets()) sets.push_back({toString(k->set), k});
  if (sets.empty()) GTEST_SKIP() << "no kernel set but scalar on this build/CPU (x86-64 with AVX2 has one)";
  for (const auto& [name, k] : sets) {
    for (PcmEncoding e : kEncodings) {
      const std::size_t w = bytesPerSample(e);
      std::vector<PcmEncodeKernel> encoders = {k->encode[index(e)]};
      if (k->set == PcmKernelSet::kAvx512) {
        if (PcmEncodeKernel fast = avx512FastEncoderIfBuilt(e)) encoders.push_back(fast);
      }
      if (k->set == PcmKernelSet::kAvx2) {
        if (PcmEncodeKernel fast = avx2FastEncoderIfBuilt(e)) encoders.push_back(fast);
      }
      for (std::size_t i = 0; i < kMax; ++i) in[i] = packetSample(s, 8 * static_cast<int>(w));
      for (std::size_t n : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{33}, std::size_t{64}, std::size_t{100},
                            std::size_t{131}, kMax}) {
        // Encoders: the wire starts anywhere from well before the boundary to just after it.
        for (std::size_t start = kPage - w * n - 70; start <= kPage + 4; ++start) {
          for (PcmEncodeKernel encoder : encoders) {
            std::memset(page.get(), kGuard, 3 * kPage);
            std::memset(reference.get(), kGuard, 3 * kPage);
            scalar().encode[index(e)](in, n, reference.get() + start);
            encoder(in, n, page.get() + start);
            ASSERT_EQ(0, std::memcmp(page.get(), reference.get(), 2 * kPage))
                << name << " " << toString(e) << " encode n=" << n << " at page offset " << start;
          }
        }
        // Decoders: the floats start anywhere (a float apart) around it.
        for (std::size_t start = kPage - 4 * n - 72; start <= kPage + 4; start += 4) {
          std::memset(page.get(), kGuard, 3 * kPage);
          std::memset(reference.get(), kGuard, 3 * kPage);
          scalar().decode[index(e)](wire, n, reinterpret_cast<float*>(reference.get() + start));
          k->decode[index(e)](wire, n, reinterpret_cast<float*>(page.get() + start));
          ASSERT_EQ(0, std::memcmp(page.get(), reference.get(), 2 * kPage))
              << name << " " << toString(e) << " decode n=" << n << " at page offset " << start;
        }
      }
    }
  }
}

#if defined(__unix__)
// The decoders read nothing outside their input: the wire bytes end right before a page that
// may not be read, or start right after one (the AVX2 L24 decoder's inner steps load 4 bytes
// before and after their own 24; a read past the packet would fault here), for every length
// to 100 samples, each compared with the scalar kernel.
TEST(PcmKernels, DecodersReadNothingOutsideTheirInput) {
  if (fastSets().empty()) GTEST_SKIP() << "no kernel set but scalar on this build/CPU (x86-64 with AVX2 has one)";
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // Three pages: none | readable | none.
  void* map = mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto* base = static_cast<std::uint8_t*>(map);
  ASSERT_EQ(mprotect(base, page, PROT_NONE), 0);
  ASSERT_EQ(mprotect(base + 2 * page, page, PROT_NONE), 0);
  std::uint64_t s = 0x6A6E;
  for (std::size_t b = page; b < 2 * page; ++b) base[b] = static_cast<std::uint8_t>(xorshift(s));
  std::vector<float> want(100), got(100);
  for (const PcmKernels* k : fastSets()) {
    for (PcmEncoding e : kEncodings) {
      const std::size_t w = bytesPerSample(e);
      for (std::size_t n = 0; n <= 100; ++n) {
        for (const std::uint8_t* wire : {base + page, base + 2 * page - w * n}) {
          scalar().decode[index(e)](wire, n, want.data());
          k->decode[index(e)](wire, n, got.data());
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), n * sizeof(float)))
              << toString(k->set) << " " << toString(e) << " n=" << n << (wire == base + page ? " at the start" : " at the end");
        }
      }
    }
  }
  munmap(map, 3 * page);
}
#endif

// The real-time rule for the codec: no allocation in any kernel set at packet sizes, counted
// by this binary's operator new (test-support/counting_heap.cpp), which first shows it sees
// an allocation. (Locks and system calls: the kernels call nothing but each other.)
TEST(PcmKernels, NoKernelAllocates) {
  // Through a pointer: the compiler may not elide this allocation as it may a new-expression.
  static void* (*volatile allocate)(std::size_t) = static_cast<void* (*)(std::size_t)>(&::operator new);
  const std::uint64_t before = heapAllocations();
  ::operator delete(allocate(32));
  ASSERT_EQ(heapAllocations(), before + 1) << "the counting heap is not linked into this binary";

  std::vector<std::uint8_t> wire(4 * 64 * 48);
  std::vector<float> audio(64 * 48, 0.25f);
  std::vector<const PcmKernels*> sets = fastSets();
  sets.push_back(&scalar());
  HeapWatch heap;
  const std::uint64_t start = heapAllocations();
  for (const PcmKernels* k : sets) {
    for (PcmEncoding e : kEncodings) {
      for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{48 * 2}, std::size_t{48 * 8 + 3}, std::size_t{48 * 64}}) {
        k->encode[index(e)](audio.data(), n, wire.data());
        k->decode[index(e)](wire.data(), n, audio.data());
      }
    }
  }
  EXPECT_EQ(heapAllocations(), start);
  EXPECT_EQ(heap.peakAbove(), 0);
}

}  // namespace
}  // namespace aes67
