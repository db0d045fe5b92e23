// Every instruction-set kernel of the PCM codec against the portable scalar kernel, bit for
// bit: every L16 and L24 code, L32 edges and random words, floats that stress rounding,
// clipping and NaN, every length up to 40 samples at every alignment of input and output.
// The scalar kernel is itself checked against a one-sample-at-a-time reference and the
// lab's TypeScript codec (pcm_codec_test.cpp, lab/net/pcm.property.test.ts).
#include "engine/rtp/pcm_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test-support/counting_heap.hpp"

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
