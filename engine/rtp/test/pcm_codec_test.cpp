#include "engine/rtp/pcm_codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(PcmCodec, EncodeClipsAndMapsNanToMinusFullScale) {
  const float in[] = {1.0f, 2.0f, -1.5f, std::nanf("")};
  std::uint8_t out[8];
  encodePcm(PcmEncoding::kL16, in, 4, out);
  EXPECT_EQ(out[0], 0x7F);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(out[2], 0x7F);
  EXPECT_EQ(out[4], 0x80);
  EXPECT_EQ(out[5], 0x00);
  EXPECT_EQ(out[6], 0x80);
  EXPECT_EQ(parsePcmEncoding("L24"), PcmEncoding::kL24);
  EXPECT_FALSE(parsePcmEncoding("L20").has_value());
}

}  // namespace
}  // namespace aes67
