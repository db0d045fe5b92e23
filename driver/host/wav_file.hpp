// WAV (RIFF/WAVE) files for the lab's player and recorder clients: PCM 8/16/24/32-bit and
// IEEE float 32-bit, plain or WAVE_FORMAT_EXTENSIBLE; unknown chunks are skipped. Samples
// become floats in [-1, 1) exactly as the RTP codecs scale them (value / 2^(bits-1)), so a
// 24-bit file and an L24 stream carry the same numbers. Never used on the IO thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aes67 {

struct AudioClip {
  std::uint32_t sampleRate = 48000;
  std::uint32_t channels = 1;
  std::vector<float> samples;  // interleaved
  std::size_t frames() const { return channels ? samples.size() / channels : 0; }
};

enum class WavSampleFormat : std::uint8_t { kPcm16, kPcm24, kPcm32, kFloat32 };

// Throws std::runtime_error "<name>: <what is wrong>".
AudioClip parseWav(const std::vector<std::uint8_t>& bytes, const std::string& name);
AudioClip readWav(const std::string& path);

std::vector<std::uint8_t> encodeWav(const AudioClip& clip, WavSampleFormat format);
// Writes `path` atomically (a temporary file renamed over it): an existing file is either
// kept or replaced whole. Throws std::runtime_error naming the path.
void writeWav(const std::string& path, const AudioClip& clip, WavSampleFormat format);

}  // namespace aes67
