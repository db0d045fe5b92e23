#include "engine/rtp/pcm_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace aes67 {
namespace {

TEST(PcmCodec, L16RoundTripsEveryCodeExactly) {
  std::vector<std::uint8_t> in(65536 * 2), out(65536 * 2);
  for (std::uint32_t v = 0; v < 65536; ++v) {
    in[2 * v] = static_cast<std::uint8_t>(v >> 8);
    in[2 * v + 1] = static_cast<std::uint8_t>(v);
  }
  std::vector<float> f(65536);
  decodePcm(PcmEncoding::kL16, in.data(), f.size(), f.data());
  encodePcm(PcmEncoding::kL16, f.data(), f.size(), out.data());
  EXPECT_EQ(in, out);
  EXPECT_EQ(f[0x7FFF], 32767.0f / 32768.0f);
  EXPECT_EQ(f[0x8000], -1.0f);
  EXPECT_EQ(f[0xFFFF], -1.0f / 32768.0f);
}

TEST(PcmCodec, L24RoundTripsEveryCodeExactly) {
  constexpr std::size_t kCodes = 1u << 24;
  std::vector<std::uint8_t> in(kCodes * 3), out(kCodes * 3);
  for (std::uint32_t v = 0; v < kCodes; ++v) {
    in[3 * v] = static_cast<std::uint8_t>(v >> 16);
    in[3 * v + 1] = static_cast<std::uint8_t>(v >> 8);
    in[3 * v + 2] = static_cast<std::uint8_t>(v);
  }
  std::vector<float> f(kCodes);
  decodePcm(PcmEncoding::kL24, in.data(), kCodes, f.data());
  encodePcm(PcmEncoding::kL24, f.data(), kCodes, out.data());
  EXPECT_EQ(in, out);
  EXPECT_EQ(f[0x7FFFFF], 8388607.0f / 8388608.0f);
  EXPECT_EQ(f[0x800000], -1.0f);
}

TEST(PcmCodec, L32DecodesBigEndianAndRoundTripsRepresentableValues) {
  const std::uint8_t in[] = {0x40, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00};
  float f[3];
  decodePcm(PcmEncoding::kL32, in, 3, f);
  EXPECT_EQ(f[0], 0.5f);
  EXPECT_EQ(f[1], -1.0f);
  EXPECT_EQ(f[2], -256.0f / 2147483648.0f);
  std::uint8_t out[12];
  encodePcm(PcmEncoding::kL32, f, 3, out);
  EXPECT_EQ(std::vector<std::uint8_t>(out, out + 12), std::vector<std::uint8_t>(in, in + 12));
}

TEST(PcmCodec, EncodeClipsAndMapsNanToSilence) {
  const float in[] = {1.0f, 2.0f, -1.5f, std::nanf("")};
  std::uint8_t out[8];
  encodePcm(PcmEncoding::kL16, in, 4, out);
  EXPECT_EQ(out[0], 0x7F);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(out[2], 0x7F);
  EXPECT_EQ(out[4], 0x80);
  EXPECT_EQ(out[5], 0x00);
  EXPECT_EQ(out[6], 0x00);  // NaN: silence
  EXPECT_EQ(out[7], 0x00);
  EXPECT_EQ(parsePcmEncoding("L24"), PcmEncoding::kL24);
  EXPECT_FALSE(parsePcmEncoding("L20").has_value());
}

}  // namespace
}  // namespace aes67

namespace aes67 {
namespace {

// The codecs as first written: one sample at a time, rounding in double with nearbyint.
// The vectorized codecs must give the same bytes and floats for every input.
template <int Bits>
std::int64_t referenceQuantize(float x) {
  constexpr double kScale = static_cast<double>(std::int64_t{1} << (Bits - 1));
  if (std::isnan(x)) return 0;  // silence, not a click
  double v = std::nearbyint(static_cast<double>(x) * kScale);
  if (v < -kScale) v = -kScale;
  if (v > kScale - 1) v = kScale - 1;
  return static_cast<std::int64_t>(v);
}

std::vector<std::uint8_t> referenceEncode(PcmEncoding e, const std::vector<float>& in) {
  const std::size_t width = bytesPerSample(e);
  std::vector<std::uint8_t> out(in.size() * width);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::int64_t q = e == PcmEncoding::kL16   ? referenceQuantize<16>(in[i])
                           : e == PcmEncoding::kL24 ? referenceQuantize<24>(in[i])
                                                    : referenceQuantize<32>(in[i]);
    for (std::size_t b = 0; b < width; ++b) out[i * width + b] = static_cast<std::uint8_t>(q >> (8 * (width - 1 - b)));
  }
  return out;
}

std::vector<float> referenceDecode(PcmEncoding e, const std::vector<std::uint8_t>& in) {
  const std::size_t width = bytesPerSample(e);
  std::vector<float> out(in.size() / width);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t u = 0;
    for (std::size_t b = 0; b < width; ++b) u = (u << 8) | in[i * width + b];
    const int shift = static_cast<int>(32 - 8 * width);
    const std::int32_t v = static_cast<std::int32_t>(u << shift) >> shift;
    out[i] = static_cast<float>(static_cast<double>(v) / static_cast<double>(std::int64_t{1} << (8 * width - 1)));
  }
  return out;
}

float floatFromBits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Floats that stress rounding and clipping: every tie between two L16 codes, ties and
// near-ties of L24 and L32, the edges of full scale, specials, and random bit patterns.
std::vector<float> awkwardFloats() {
  std::vector<float> v;
  for (std::int32_t k = -32769; k <= 32768; ++k) {
    v.push_back((static_cast<float>(k) + 0.5f) / 32768.0f);
    v.push_back(std::nextafter((static_cast<float>(k) + 0.5f) / 32768.0f, 2.0f));
  }
  for (std::int32_t k = -8388608; k < 8388608; k += 977) v.push_back((static_cast<float>(k) + 0.5f) / 8388608.0f);
  for (float x : {1.0f, -1.0f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, 2.0f, -2.0f, 1e30f, -1e30f}) v.push_back(x);
  for (float x : {1.0f, -1.0f}) {
    v.push_back(std::nextafter(x, 0.0f));
    v.push_back(std::nextafter(x, 2.0f * x));
  }
  v.push_back(std::numeric_limits<float>::infinity());
  v.push_back(-std::numeric_limits<float>::infinity());
  v.push_back(std::numeric_limits<float>::quiet_NaN());
  v.push_back(-std::numeric_limits<float>::quiet_NaN());
  v.push_back(floatFromBits(0x7F800001u));  // signalling NaN
  std::uint64_t s = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 200000; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    v.push_back(floatFromBits(static_cast<std::uint32_t>(s)));               // any bit pattern
    v.push_back(static_cast<float>(static_cast<std::int64_t>(s >> 11) % 4000000 - 2000000) / 1.9e6f);  // near full scale
  }
  return v;
}

TEST(PcmCodec, EncodeMatchesTheOneSampleAtATimeReferenceOnAwkwardFloats) {
  const std::vector<float> in = awkwardFloats();
  for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24, PcmEncoding::kL32}) {
    std::vector<std::uint8_t> out(in.size() * bytesPerSample(e));
    encodePcm(e, in.data(), in.size(), out.data());
    const std::vector<std::uint8_t> want = referenceEncode(e, in);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::size_t w = bytesPerSample(e);
      ASSERT_TRUE(std::equal(out.begin() + static_cast<std::ptrdiff_t>(i * w), out.begin() + static_cast<std::ptrdiff_t>((i + 1) * w),
                             want.begin() + static_cast<std::ptrdiff_t>(i * w)))
          << toString(e) << " sample " << i << " = " << in[i];
    }
  }
}

TEST(PcmCodec, DecodeMatchesTheReferenceForRandomBytes) {
  std::vector<std::uint8_t> bytes(3 * 4 * 100003);
  std::uint64_t s = 12345;
  for (auto& b : bytes) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    b = static_cast<std::uint8_t>(s);
  }
  for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24, PcmEncoding::kL32}) {
    const std::vector<float> want = referenceDecode(e, bytes);
    std::vector<float> got(want.size());
    decodePcm(e, bytes.data(), got.size(), got.data());
    EXPECT_EQ(got, want) << toString(e);
  }
}

// Packets are any length and start anywhere in a datagram: every length from 0 to 70
// samples at every byte offset, and nothing outside [out, out + samples) is written.
TEST(PcmCodec, AnyLengthAtAnyAlignmentTouchesOnlyItsOwnSamples) {
  for (PcmEncoding e : {PcmEncoding::kL16, PcmEncoding::kL24, PcmEncoding::kL32}) {
    const std::size_t w = bytesPerSample(e);
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t n = 0; n <= 70; ++n) {
        std::vector<float> in(n);
        for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<float>(static_cast<int>(i * 37 % 201) - 100) / 101.0f;
        std::vector<std::uint8_t> wire(offset + n * w + 8, 0xA5);
        encodePcm(e, in.data(), n, wire.data() + offset);
        for (std::size_t b = 0; b < offset; ++b) ASSERT_EQ(wire[b], 0xA5) << "before, " << toString(e) << " n=" << n;
        for (std::size_t b = offset + n * w; b < wire.size(); ++b) ASSERT_EQ(wire[b], 0xA5) << "after, " << toString(e) << " n=" << n;
        const std::vector<std::uint8_t> payload(wire.begin() + static_cast<std::ptrdiff_t>(offset),
                                                wire.begin() + static_cast<std::ptrdiff_t>(offset + n * w));
        EXPECT_EQ(payload, referenceEncode(e, in));
        std::vector<float> back(n + 4, 42.0f);
        decodePcm(e, wire.data() + offset, n, back.data() + 1);
        EXPECT_EQ(back[0], 42.0f);
        for (std::size_t i = n + 1; i < back.size(); ++i) EXPECT_EQ(back[i], 42.0f);
        EXPECT_EQ(std::vector<float>(back.begin() + 1, back.begin() + 1 + static_cast<std::ptrdiff_t>(n)), referenceDecode(e, payload));
      }
    }
  }
}

}  // namespace
}  // namespace aes67
