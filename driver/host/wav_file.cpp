#include "driver/host/wav_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace aes67 {

namespace {

constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatFloat = 3;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;

std::uint32_t le32(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24); }
std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x));
  v.push_back(static_cast<std::uint8_t>(x >> 8));
}

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": " + what); }

}  // namespace

AudioClip parseWav(const std::vector<std::uint8_t>& b, const std::string& name) {
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 || std::memcmp(b.data() + 8, "WAVE", 4) != 0) {
    fail(name, "not a WAV file (no RIFF/WAVE header)");
  }
  std::uint16_t format = 0, channels = 0, bits = 0, blockAlign = 0;
  std::uint32_t rate = 0;
  bool haveFormat = false;
  const std::uint8_t* data = nullptr;
  std::size_t dataSize = 0;
  std::size_t pos = 12;
  while (pos + 8 <= b.size()) {
    const std::uint8_t* chunk = b.data() + pos;
    std::size_t size = le32(chunk + 4);
    const std::size_t body = pos + 8;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16 || body + size > b.size()) fail(name, "fmt chunk of " + std::to_string(size) + " bytes is truncated");
      format = le16(b.data() + body);
      channels = le16(b.data() + body + 2);
      rate = le32(b.data() + body + 4);
      blockAlign = le16(b.data() + body + 12);
      bits = le16(b.data() + body + 14);
      if (format == kFormatExtensible) {
        if (size < 40) fail(name, "WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
        format = le16(b.data() + body + 24);  // the sub-format GUID starts with the format tag
      }
      haveFormat = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!haveFormat) fail(name, "data chunk before the fmt chunk");
      // A streamed file may carry 0 or 0xFFFFFFFF: take what is there.
      if (size == 0 || body + size > b.size()) size = b.size() - body;
      data = b.data() + body;
      dataSize = size;
      break;
    }
    pos = body + size + (size & 1);  // chunks are padded to even sizes
  }
  if (!haveFormat) fail(name, "no fmt chunk");
  if (!data) fail(name, "no data chunk");
  if (channels == 0) fail(name, "0 channels");
  if (rate == 0) fail(name, "sample rate 0");
  const bool pcm = format == kFormatPcm && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
  const bool flt = format == kFormatFloat && bits == 32;
  if (!pcm && !flt) {
    fail(name, "format " + std::to_string(format) + " with " + std::to_string(bits) +
                   " bits is not supported: use PCM 8/16/24/32-bit or IEEE float 32-bit");
  }
  const std::size_t width = bits / 8;
  if (blockAlign != width * channels) fail(name, "block align " + std::to_string(blockAlign) + " does not match the format");
  AudioClip clip;
  clip.sampleRate = rate;
  clip.channels = channels;
  const std::size_t count = dataSize / width / channels * channels;
  clip.samples.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = data + i * width;
    float v;
    if (flt) {
      const std::uint32_t raw = le32(p);
      std::memcpy(&v, &raw, 4);
    } else if (bits == 8) {
      v = (static_cast<int>(p[0]) - 128) / 128.0f;  // 8-bit WAV is unsigned
    } else {
      std::int64_t x = 0;
      for (std::size_t k = 0; k < width; ++k) x |= static_cast<std::int64_t>(p[k]) << (8 * k);
      const std::int64_t half = std::int64_t{1} << (bits - 1);
      if (x >= half) x -= 2 * half;
      v = static_cast<float>(static_cast<double>(x) / static_cast<double>(half));
    }
    clip.samples[i] = v;
  }
  return clip;
}

AudioClip readWav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parseWav(bytes, path);
}

std::vector<std::uint8_t> encodeWav(const AudioClip& clip, WavSampleFormat format) {
  if (clip.channels == 0 || clip.channels > 0xFFFF) throw std::invalid_argument("encodeWav: channels must be 1-65535");
  if (clip.samples.size() % clip.channels != 0) throw std::invalid_argument("encodeWav: samples are not whole frames");
  const std::uint16_t bits = format == WavSampleFormat::kPcm16 ? 16 : format == WavSampleFormat::kPcm24 ? 24 : 32;
  const std::uint16_t tag = format == WavSampleFormat::kFloat32 ? kFormatFloat : kFormatPcm;
  const std::uint32_t width = bits / 8;
  const std::uint64_t dataBytes = static_cast<std::uint64_t>(clip.samples.size()) * width;
  if (dataBytes + 36 > 0xFFFFFFFFull) throw std::invalid_argument("encodeWav: more than 4 GiB does not fit a WAV file");
  std::vector<std::uint8_t> v;
  v.reserve(static_cast<std::size_t>(dataBytes) + 44);
  v.insert(v.end(), {'R', 'I', 'F', 'F'});
  put32(v, static_cast<std::uint32_t>(36 + dataBytes));
  v.insert(v.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  put32(v, 16);
  put16(v, tag);
  put16(v, static_cast<std::uint16_t>(clip.channels));
  put32(v, clip.sampleRate);
  put32(v, clip.sampleRate * clip.channels * width);
  put16(v, static_cast<std::uint16_t>(clip.channels * width));
  put16(v, bits);
  v.insert(v.end(), {'d', 'a', 't', 'a'});
  put32(v, static_cast<std::uint32_t>(dataBytes));
  const double scale = std::ldexp(1.0, bits - 1);
  for (float s : clip.samples) {
    if (format == WavSampleFormat::kFloat32) {
      std::uint32_t raw;
      std::memcpy(&raw, &s, 4);
      put32(v, raw);
      continue;
    }
    double x = std::isnan(s) ? 0.0 : std::nearbyint(static_cast<double>(s) * scale);
    x = std::min(scale - 1, std::max(-scale, x));
    const auto q = static_cast<std::int64_t>(x);
    for (std::uint32_t k = 0; k < width; ++k) v.push_back(static_cast<std::uint8_t>(q >> (8 * k)));
  }
  return v;
}

void writeWav(const std::string& path, const AudioClip& clip, WavSampleFormat format) {
  const std::vector<std::uint8_t> bytes = encodeWav(clip, format);
  const std::string temp = path + ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, std::string("cannot write ") + temp + ": " + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) fail(path, std::string("writing ") + temp + " failed: " + std::strerror(errno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    fail(path, "cannot replace it: " + why);
  }
}

}  // namespace aes67
