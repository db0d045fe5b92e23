// Linear PCM payloads (RFC 3551 L16, RFC 3190 L24, and L32 as some RAVENNA gear sends):
// big-endian two's complement, interleaved, <-> float32 in [-1, 1). Decoding is exact;
// encoding rounds to nearest (ties to even) and clips, NaN to silence, so
// every integer value survives a round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace aes67 {

enum class PcmEncoding : std::uint8_t { kL16, kL24, kL32 };

constexpr std::size_t bytesPerSample(PcmEncoding e) {
  return e == PcmEncoding::kL16 ? 2 : e == PcmEncoding::kL24 ? 3 : 4;
}
const char* toString(PcmEncoding e);
// "L16" / "L24" / "L32" (case-insensitive), or nothing.
std::optional<PcmEncoding> parsePcmEncoding(const std::string& name);

namespace detail {
// The kernels decodePcm and encodePcm call, by PcmEncoding: the chosen set's, copied here
// once while the program loads (pcm_codec.cpp); the scalar ones before that. Called inline
// through this table: a decodePcm out of line was reached from the addon (a shared object)
// through the PLT and jumped on to the kernel, two indirect jumps a packet more (0.5 ns of the
// 20 a 1 ms x 8 ch L16 packet took on Zen 3). Hidden: the addon reads it without the GOT.
struct PcmDispatch {
  void (*decode[3])(const std::uint8_t* in, std::size_t samples, float* out);
  void (*encode[3])(const float* in, std::size_t samples, std::uint8_t* out);
};
#if defined(__GNUC__) || defined(__clang__)
extern PcmDispatch pcmDispatch __attribute__((visibility("hidden")));
#else
extern PcmDispatch pcmDispatch;
#endif
}  // namespace detail

// samples = frames * channels. No allocation: real-time safe. Runs the fastest kernel set
// this CPU has (pcm_kernels.hpp: AVX-512 F/BW/VL/VBMI, else AVX2, on x86-64 that has it,
// else the portable scalar kernels), chosen once when the program loads; every set gives
// the same bits. The AVX-512 L16 and L24 encoders and the AVX2 L16 one use the thread's
// MXCSR invalid flag to notice NaN and out-of-range samples, and clear it when they find it
// set after a packet long enough for their fast paths (AVX-512: 320 L16 / 160 L24 samples or
// more; AVX2: 128 L16); they expect MXCSR's exceptions masked (the default), as every vector
// kernel here does.
inline void decodePcm(PcmEncoding e, const std::uint8_t* in, std::size_t samples, float* out) {
  detail::pcmDispatch.decode[static_cast<std::size_t>(e)](in, samples, out);
}
inline void encodePcm(PcmEncoding e, const float* in, std::size_t samples, std::uint8_t* out) {
  detail::pcmDispatch.encode[static_cast<std::size_t>(e)](in, samples, out);
}

}  // namespace aes67
