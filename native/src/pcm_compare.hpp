// One channel of big-endian two's complement L16/L24/L32 payload bytes, decoded as
// lab/net/pcm.ts decodePcm does (value / 2^(8 width - 1), stored as a float), and compared
// with a period of expected values: the measurement's sample-by-sample loop
// (measure_binding.cc on bytes JavaScript holds, recorded_channel.cc on a recording in place).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace aes67::native::pcm {

// The decoders, as types (not function pointers) so the loops below inline them.
struct DecodeL16 {
  float operator()(const std::uint8_t* b) const {
    const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>((b[0] << 8) | b[1]));
    return static_cast<float>(static_cast<double>(v) / 32768.0);
  }
};
struct DecodeL24 {
  float operator()(const std::uint8_t* b) const {
    const auto u = static_cast<std::uint32_t>((b[0] << 24) | (b[1] << 16) | (b[2] << 8));
    const std::int32_t v = static_cast<std::int32_t>(u) / 256;  // arithmetic, exact: u's low byte is 0
    return static_cast<float>(static_cast<double>(v) / 8388608.0);
  }
};
struct DecodeL32 {
  float operator()(const std::uint8_t* b) const {
    const auto u = (static_cast<std::uint32_t>(b[0]) << 24) | (static_cast<std::uint32_t>(b[1]) << 16) | (static_cast<std::uint32_t>(b[2]) << 8) | b[3];
    return static_cast<float>(static_cast<double>(static_cast<std::int32_t>(u)) / 2147483648.0);
  }
};

// Calls f(decoder) with the decoder of `width` bytes (2, 3 or 4; the caller checks).
template <typename F>
auto withDecoder(int width, F f) {
  if (width == 2) return f(DecodeL16{});
  if (width == 3) return f(DecodeL24{});
  return f(DecodeL32{});
}

// Of `count` samples at p, p + stride, ..., how many differ from table[k], table[k + 1], ...
// (wrapping at `period`); k is left after the last one.
template <typename Decode>
std::int64_t countDiffering(const std::uint8_t* p, std::ptrdiff_t stride, std::int64_t count, const float* table, std::int64_t period, std::int64_t& k, Decode decode) {
  std::int64_t wrong = 0;
  // Runs that do not wrap around the table.
  for (std::int64_t i = 0; i < count;) {
    const std::int64_t stop = std::min(count, i + (period - k));
    for (; i < stop; ++i, ++k, p += stride) wrong += decode(p) != table[k];
    if (k == period) k = 0;
  }
  return wrong;
}

// `count` samples at p, p + stride, ... decoded into out[0..count).
template <typename Decode>
void decodeChannel(const std::uint8_t* p, std::ptrdiff_t stride, std::int64_t count, float* out, Decode decode) {
  for (std::int64_t i = 0; i < count; ++i, p += stride) out[i] = decode(p);
}

}  // namespace aes67::native::pcm
