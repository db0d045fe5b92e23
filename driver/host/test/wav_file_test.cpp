// WAV files are checked against two independent implementations run inside the test:
// Python's `wave` module (PCM) and ffmpeg (IEEE float and WAVE_FORMAT_EXTENSIBLE).
#include "driver/host/wav_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace aes67 {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  return out;
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("a67wav-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
  static inline int counter = 0;
};

// Integer sample values spread over the whole 24-bit range, per channel.
AudioClip clip24(std::uint32_t channels, std::uint32_t frames, std::uint32_t rate) {
  AudioClip c;
  c.sampleRate = rate;
  c.channels = channels;
  std::uint32_t x = 12345;
  for (std::uint32_t i = 0; i < frames * channels; ++i) {
    x = x * 1103515245u + 12345u;
    const std::int32_t v = static_cast<std::int32_t>(x >> 8) - (1 << 23);
    c.samples.push_back(static_cast<float>(v) / 8388608.0f);
  }
  return c;
}

TEST(WavFile, Pcm24WeWriteIsWhatPythonWaveReads) {
  ASSERT_TRUE(have("python3")) << "python3 is part of the lab's tool set (ci/setup)";
  TempDir dir;
  const AudioClip c = clip24(2, 500, 96000);
  const std::string f = dir.file("ours.wav");
  writeWav(f, c, WavSampleFormat::kPcm24);
  // Python prints rate, channels, width and every sample as a signed integer.
  const std::string out = run("python3 -c \"import wave,sys\nw=wave.open(sys.argv[1])\nb=w.readframes(w.getnframes())\n"
                              "print(w.getframerate(),w.getnchannels(),w.getsampwidth())\n"
                              "print(' '.join(str(int.from_bytes(b[i:i+3],'little',signed=True)) for i in range(0,len(b),3)))\" " +
                              f);
  std::istringstream in(out);
  int rate, channels, width;
  in >> rate >> channels >> width;
  EXPECT_EQ(rate, 96000);
  EXPECT_EQ(channels, 2);
  EXPECT_EQ(width, 3);
  for (float s : c.samples) {
    long v;
    ASSERT_TRUE(in >> v);
    ASSERT_EQ(v, std::lround(s * 8388608.0));
  }
  long extra;
  EXPECT_FALSE(in >> extra);
}

TEST(WavFile, Pcm16PythonWritesIsWhatWeRead) {
  ASSERT_TRUE(have("python3"));
  TempDir dir;
  const std::string f = dir.file("python.wav");
  run("python3 -c \"import wave,sys,struct\nw=wave.open(sys.argv[1],'wb')\nw.setnchannels(3)\nw.setsampwidth(2)\n"
      "w.setframerate(44100)\nw.writeframes(b''.join(struct.pack('<h',(i*7919)%65536-32768) for i in range(3*300)))\nw.close()\" " +
      f);
  const AudioClip c = readWav(f);
  EXPECT_EQ(c.sampleRate, 44100u);
  EXPECT_EQ(c.channels, 3u);
  ASSERT_EQ(c.frames(), 300u);
  for (int i = 0; i < 900; ++i) ASSERT_EQ(c.samples[i], static_cast<float>((i * 7919) % 65536 - 32768) / 32768.0f) << i;
}

TEST(WavFile, FfmpegFloatAndExtensibleFilesReadBackExactly) {
  ASSERT_TRUE(have("ffmpeg")) << "ffmpeg is part of the lab's tool set (ci/setup)";
  TempDir dir;
  const AudioClip c = clip24(4, 1000, 48000);  // 4 channels: ffmpeg writes WAVE_FORMAT_EXTENSIBLE
  const std::string ours = dir.file("ours.wav");
  writeWav(ours, c, WavSampleFormat::kPcm24);
  for (const char* codec : {"pcm_f32le", "pcm_s24le", "pcm_s32le"}) {
    const std::string theirs = dir.file(std::string(codec) + ".wav");
    run("ffmpeg -v error -y -i " + ours + " -c:a " + std::string(codec) + " " + theirs);
    const AudioClip back = readWav(theirs);
    EXPECT_EQ(back.sampleRate, 48000u) << codec;
    EXPECT_EQ(back.channels, 4u) << codec;
    ASSERT_EQ(back.samples.size(), c.samples.size()) << codec;
    for (std::size_t i = 0; i < c.samples.size(); ++i) ASSERT_EQ(back.samples[i], c.samples[i]) << codec << " sample " << i;
  }
  // And ffmpeg reads our float file as the same numbers (decoded to 32-bit integers).
  const std::string f32 = dir.file("ours-f32.wav");
  writeWav(f32, c, WavSampleFormat::kFloat32);
  const std::string raw = dir.file("raw.s32");
  run("ffmpeg -v error -y -i " + f32 + " -f s32le -c:a pcm_s32le " + raw);
  std::ifstream in(raw, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.size(), c.samples.size() * 4);
  for (std::size_t i = 0; i < c.samples.size(); ++i) {
    std::int32_t v;
    std::memcpy(&v, &bytes[i * 4], 4);
    ASSERT_EQ(v, static_cast<std::int32_t>(std::lround(c.samples[i] * 8388608.0)) * 256) << i;
  }
}

TEST(WavFile, BadFilesAreRefusedNamingTheFileAndTheProblem) {
  auto errorOf = [](const std::vector<std::uint8_t>& bytes) {
    try {
      parseWav(bytes, "x.wav");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(errorOf({'h', 'e', 'l', 'l', 'o'}), "x.wav: not a WAV file (no RIFF/WAVE header)");
  AudioClip c = clip24(1, 10, 48000);
  std::vector<std::uint8_t> good = encodeWav(c, WavSampleFormat::kPcm16);
  std::vector<std::uint8_t> mulaw = good;
  mulaw[20] = 7;  // format tag 7: mu-law
  EXPECT_EQ(errorOf(mulaw), "x.wav: format 7 with 16 bits is not supported: use PCM 8/16/24/32-bit or IEEE float 32-bit");
  std::vector<std::uint8_t> noData(good.begin(), good.begin() + 36);
  EXPECT_EQ(errorOf(noData), "x.wav: no data chunk");
  std::vector<std::uint8_t> cut(good.begin(), good.begin() + 30);
  EXPECT_EQ(errorOf(cut), "x.wav: fmt chunk of 16 bytes is truncated");
  EXPECT_THROW(readWav("/nonexistent/a67.wav"), std::runtime_error);
  // A failed write leaves an existing file alone.
  TempDir dir;
  const std::string f = dir.file("keep.wav");
  writeWav(f, c, WavSampleFormat::kPcm16);
  EXPECT_THROW(writeWav(dir.file("no/such/dir.wav"), c, WavSampleFormat::kPcm16), std::runtime_error);
  EXPECT_EQ(readWav(f).frames(), 10u);
}

}  // namespace
}  // namespace aes67
