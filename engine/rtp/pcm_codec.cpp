#include "engine/rtp/pcm_codec.hpp"

#include <cmath>

namespace aes67 {

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
// Full scale is 2^(bits-1): -1.0 maps to the most negative code; +1.0 clips to max.
template <int Bits>
std::int64_t quantize(float x) {
  constexpr double kScale = static_cast<double>(std::int64_t{1} << (Bits - 1));
  constexpr double kMax = kScale - 1;
  double v = std::nearbyint(static_cast<double>(x) * kScale);
  if (!(v >= -kScale)) v = -kScale;  // also catches NaN
  if (v > kMax) v = kMax;
  return static_cast<std::int64_t>(v);
}
}  // namespace

void decodePcm(PcmEncoding e, const std::uint8_t* in, std::size_t samples, float* out) {
  switch (e) {
    case PcmEncoding::kL16:
      for (std::size_t i = 0; i < samples; ++i, in += 2) {
        out[i] = static_cast<float>(static_cast<std::int16_t>((in[0] << 8) | in[1])) * (1.0f / 32768.0f);
      }
      break;
    case PcmEncoding::kL24:
      for (std::size_t i = 0; i < samples; ++i, in += 3) {
        const std::int32_t v = static_cast<std::int32_t>((std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) |
                                                         (std::uint32_t{in[2]} << 8)) >> 8;
        out[i] = static_cast<float>(v) * (1.0f / 8388608.0f);
      }
      break;
    case PcmEncoding::kL32:
      for (std::size_t i = 0; i < samples; ++i, in += 4) {
        const std::int32_t v = static_cast<std::int32_t>((std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) |
                                                         (std::uint32_t{in[2]} << 8) | in[3]);
        // float has 24 bits of mantissa: L32 decodes to the nearest float, as every DAW does.
        out[i] = static_cast<float>(static_cast<double>(v) * (1.0 / 2147483648.0));
      }
      break;
  }
}

void encodePcm(PcmEncoding e, const float* in, std::size_t samples, std::uint8_t* out) {
  switch (e) {
    case PcmEncoding::kL16:
      for (std::size_t i = 0; i < samples; ++i, out += 2) {
        const auto v = static_cast<std::uint16_t>(quantize<16>(in[i]));
        out[0] = static_cast<std::uint8_t>(v >> 8);
        out[1] = static_cast<std::uint8_t>(v);
      }
      break;
    case PcmEncoding::kL24:
      for (std::size_t i = 0; i < samples; ++i, out += 3) {
        const auto v = static_cast<std::uint32_t>(quantize<24>(in[i]));
        out[0] = static_cast<std::uint8_t>(v >> 16);
        out[1] = static_cast<std::uint8_t>(v >> 8);
        out[2] = static_cast<std::uint8_t>(v);
      }
      break;
    case PcmEncoding::kL32:
      for (std::size_t i = 0; i < samples; ++i, out += 4) {
        const auto v = static_cast<std::uint32_t>(quantize<32>(in[i]));
        out[0] = static_cast<std::uint8_t>(v >> 24);
        out[1] = static_cast<std::uint8_t>(v >> 16);
        out[2] = static_cast<std::uint8_t>(v >> 8);
        out[3] = static_cast<std::uint8_t>(v);
      }
      break;
  }
}

}  // namespace aes67
