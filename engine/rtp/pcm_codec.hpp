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

// samples = frames * channels. No allocation: real-time safe. Runs the fastest kernel set
// this CPU has (pcm_kernels.hpp: AVX-512 F/BW/VL/VBMI, else AVX2, on x86-64 that has it,
// else the portable scalar kernels), chosen once when the program loads; every set gives
// the same bits. The AVX-512 L16 and L24 encoders and the AVX2 L16 one use the thread's
// MXCSR invalid flag to notice NaN and out-of-range samples, and clear it when they find it
// set after a packet long enough for their fast paths (AVX-512: 320 L16 / 160 L24 samples or
// more; AVX2: 128 L16); they expect MXCSR's exceptions masked (the default), as every vector
// kernel here does.
void decodePcm(PcmEncoding e, const std::uint8_t* in, std::size_t samples, float* out);
void encodePcm(PcmEncoding e, const float* in, std::size_t samples, std::uint8_t* out);

}  // namespace aes67
