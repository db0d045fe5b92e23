#include "engine/jitter/playout_buffer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

namespace aes67 {
namespace {

// One channel whose sample value is its media time: any misplacement shows.
std::vector<float> ramp(SampleTime start, std::size_t frames) {
  std::vector<float> v(frames);
  for (std::size_t i = 0; i < frames; ++i) v[i] = static_cast<float>(start + static_cast<SampleTime>(i));
  return v;
}

PlayoutBuffer mono(SampleTime linkOffset = 0) {
  PlayoutConfig c;
  c.channels = 1;
  c.capacityFrames = 64;
  c.linkOffset = linkOffset;
  return PlayoutBuffer(c);
}

TEST(PlayoutBuffer, PlaysByMediaTimeNotArrivalOrder) {
  PlayoutBuffer b = mono();
  // Packets of 4 frames arrive out of order: 8, 0, 4.
  for (SampleTime t : {8, 0, 4}) ASSERT_EQ(b.write(t, ramp(t, 4).data(), 4), PlayoutWrite::kStored);
  std::vector<float> out(12);
  b.read(0, out.data(), 12);
  EXPECT_EQ(out, ramp(0, 12));
  EXPECT_EQ(b.stats().framesMissing, 0u);
  EXPECT_EQ(b.stats().glitches, 0u);
}

TEST(PlayoutBuffer, MissingAudioIsSilenceAndAGlitchAtItsSamplePosition) {
  PlayoutBuffer b = mono();
  for (SampleTime t : {0, 4, 12, 24}) b.write(t, ramp(t, 4).data(), 4);  // 8..11 and 16..23 lost
  std::vector<float> out(28);
  b.read(0, out.data(), 28);
  for (SampleTime t = 0; t < 28; ++t) {
    const bool lost = (t >= 8 && t < 12) || (t >= 16 && t < 24);
    EXPECT_EQ(out[t], lost ? 0.0f : static_cast<float>(t)) << "t=" << t;
  }
  const PlayoutStats s = b.stats();
  EXPECT_EQ(s.framesMissing, 12u);
  EXPECT_EQ(s.glitches, 2u);
  PlayoutGlitch g;
  ASSERT_TRUE(b.popGlitch(g));
  EXPECT_EQ(g.start, 8);
  EXPECT_EQ(g.frames, 4);
  ASSERT_TRUE(b.popGlitch(g));
  EXPECT_EQ(g.start, 16);
  EXPECT_EQ(g.frames, 8);
  EXPECT_FALSE(b.popGlitch(g));
}

TEST(PlayoutBuffer, SilenceBeforeTheFirstAudioIsPrimingNotAGlitch) {
  PlayoutBuffer b = mono();
  std::vector<float> out(8);
  b.read(-8, out.data(), 8);
  b.write(0, ramp(0, 4).data(), 4);
  b.read(0, out.data(), 4);
  EXPECT_EQ(b.stats().framesPriming, 8u);
  EXPECT_EQ(b.stats().glitches, 0u);
}

TEST(PlayoutBuffer, LateDuplicateAndTooEarlyPacketsAreCountedAndDropped) {
  PlayoutBuffer b = mono();
  b.write(0, ramp(0, 4).data(), 4);
  EXPECT_EQ(b.write(0, ramp(0, 4).data(), 4), PlayoutWrite::kDuplicate);
  std::vector<float> out(8);
  b.read(0, out.data(), 8);
  EXPECT_EQ(b.write(4, ramp(4, 4).data(), 4), PlayoutWrite::kLate) << "its frames were already played";
  EXPECT_EQ(b.write(8 + 64, ramp(72, 4).data(), 4), PlayoutWrite::kTooEarly) << "beyond the 64-frame depth";
  EXPECT_EQ(b.write(8 + 60, ramp(68, 4).data(), 4), PlayoutWrite::kStored) << "just inside the depth";
  const PlayoutStats s = b.stats();
  EXPECT_EQ(s.latePackets, 1u);
  EXPECT_EQ(s.duplicatePackets, 1u);
  EXPECT_EQ(s.earlyPackets, 1u);
}

TEST(PlayoutBuffer, ReadAtSubtractsTheLinkOffsetAndReportsFill) {
  PlayoutBuffer b = mono(48);
  b.write(1000, ramp(1000, 48).data(), 48);
  std::vector<float> out(16);
  b.readAt(1048, out.data(), 16);
  EXPECT_EQ(out, ramp(1000, 16));
  EXPECT_EQ(b.readCursor(), 1016);
  EXPECT_EQ(b.fillFrames(), 32);
}

// One writer thread and one reader thread: every frame the reader accepts is the frame for
// its media time (never torn or stale), and when the writer stays ahead nothing is missed.
TEST(PlayoutBuffer, ConcurrentWriterAndReaderNeverTearFrames) {
  PlayoutConfig c;
  c.channels = 4;
  c.capacityFrames = 1024;
  PlayoutBuffer b(c);
  constexpr SampleTime kEnd = 400'000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::vector<float> pkt(4 * 16);
    for (SampleTime t = 0; t < kEnd; t += 16) {
      // Stay within the depth ahead of the reader.
      for (;;) {
        const SampleTime cursor = b.readCursor();
        const SampleTime base = cursor == std::numeric_limits<SampleTime>::min() ? 0 : cursor;
        if (t + 16 <= base + 1000 || done) break;
        std::this_thread::yield();
      }
      for (int f = 0; f < 16; ++f)
        for (int ch = 0; ch < 4; ++ch) pkt[f * 4 + ch] = static_cast<float>(t + f) + ch * 0.125f;
      b.write(t, pkt.data(), 16);
    }
  });
  std::vector<float> out(4 * 32);
  std::uint64_t torn = 0;  // a wrong non-zero value: a frame from another time or half-written
  SampleTime t = 0;
  while (t < kEnd) {
    if (b.newestWritten() < t + 31) {
      std::this_thread::yield();
      continue;
    }
    b.read(t, out.data(), 32);
    for (int f = 0; f < 32; ++f)
      for (int ch = 0; ch < 4; ++ch)
        if (out[f * 4 + ch] != 0.0f && out[f * 4 + ch] != static_cast<float>(t + f) + ch * 0.125f) ++torn;
    t += 32;
  }
  done = true;
  writer.join();
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(b.stats().framesMissing, 0u);
}

// Reads of every length at every ring position, across the wrap, over audio with holes:
// each frame is its own media time's audio or silence exactly where a packet was dropped,
// and the counters and glitch log say the same. Covers the whole-read fast path and the
// frame-by-frame path and the switches between them.
TEST(PlayoutBuffer, ReadsOfAnyLengthAcrossTheWrapGiveEachFrameOrSilenceWhereLost) {
  PlayoutConfig c;
  c.channels = 3;
  c.capacityFrames = 128;
  PlayoutBuffer b(c);
  auto value = [](SampleTime t, std::size_t ch) { return static_cast<float>(t) + 0.25f * static_cast<float>(ch); };
  std::uint64_t seed = 7;
  auto next = [&](std::uint64_t bound) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (seed >> 33) % bound;
  };
  std::set<SampleTime> lost;  // frames of dropped packets
  SampleTime written = 0, readAt = 0;
  std::uint64_t expectMissing = 0, expectGlitches = 0;
  bool inGap = false;
  std::vector<float> pkt, out;
  PlayoutGlitch g;
  std::uint64_t logged = 0;
  // A logged run starts at a lost frame after a played one and spans exactly the lost run.
  auto checkGlitch = [&](const PlayoutGlitch& glitch) {
    ++logged;
    SampleTime end = glitch.start;
    while (lost.count(end) != 0) ++end;
    EXPECT_TRUE(lost.count(glitch.start - 1) == 0 && end - glitch.start == glitch.frames) << glitch.start << "+" << glitch.frames;
  };
  while (readAt < 20000) {
    // Keep up to ~100 frames ahead of the reader in packets of 1..16 frames; drop some.
    while (written < readAt + 100) {
      const std::size_t n = 1 + next(16);
      if (next(10) == 0) {
        for (std::size_t f = 0; f < n; ++f) lost.insert(written + static_cast<SampleTime>(f));
      } else {
        pkt.resize(n * 3);
        for (std::size_t f = 0; f < n; ++f)
          for (std::size_t ch = 0; ch < 3; ++ch) pkt[f * 3 + ch] = value(written + static_cast<SampleTime>(f), ch);
        ASSERT_EQ(b.write(written, pkt.data(), n), PlayoutWrite::kStored);
      }
      written += static_cast<SampleTime>(n);
    }
    const std::size_t n = 1 + next(64);
    out.assign(n * 3, -1.0f);
    b.read(readAt, out.data(), n);
    for (std::size_t f = 0; f < n; ++f) {
      const SampleTime t = readAt + static_cast<SampleTime>(f);
      const bool gap = lost.count(t) != 0;
      if (gap) {
        ++expectMissing;
        if (!inGap) ++expectGlitches;
      }
      inGap = gap;
      for (std::size_t ch = 0; ch < 3; ++ch) ASSERT_EQ(out[f * 3 + ch], gap ? 0.0f : value(t, ch)) << "t=" << t << " ch=" << ch;
    }
    readAt += static_cast<SampleTime>(n);
    while (b.popGlitch(g)) checkGlitch(g);  // the consumer keeps the log from overflowing
    // A run is logged as soon as a read has played past it.
    ASSERT_EQ(logged + (inGap ? 1 : 0), expectGlitches) << "at " << readAt;
  }
  ASSERT_FALSE(lost.empty());
  const PlayoutStats s = b.stats();
  EXPECT_EQ(s.framesMissing, expectMissing);
  EXPECT_EQ(s.glitches, expectGlitches);
  EXPECT_EQ(s.framesPlayed + s.framesMissing, static_cast<std::uint64_t>(readAt));
  // Every closed run was logged (a run still open at the end is logged when audio resumes).
  EXPECT_EQ(logged + (inGap ? 1 : 0), expectGlitches);
  EXPECT_EQ(s.glitchLogOverflow, 0u);
}

TEST(PlayoutBuffer, APacketLongerThanTheBufferKeepsItsLastCapacityFrames) {
  PlayoutBuffer b = mono();  // 64 frames
  ASSERT_EQ(b.write(0, ramp(0, 100).data(), 100), PlayoutWrite::kStored);
  std::vector<float> out(64);
  b.read(36, out.data(), 64);
  EXPECT_EQ(out, ramp(36, 64));
  EXPECT_EQ(b.stats().framesMissing, 0u);
}

// A late packet whose start has played (as silence) still brings the rest in time.
TEST(PlayoutBuffer, APacketStraddlingTheReadCursorStoresOnlyWhatIsStillToPlay) {
  PlayoutBuffer b = mono();
  std::vector<float> out(8);
  b.write(0, ramp(0, 4).data(), 4);
  b.read(0, out.data(), 8);                        // 4..7 missing; cursor at 8
  b.write(16, ramp(16, 8).data(), 8);
  EXPECT_EQ(b.write(4, ramp(4, 16).data(), 16), PlayoutWrite::kStored) << "4..19: 8..19 still to play";
  out.resize(16);
  b.read(8, out.data(), 16);
  EXPECT_EQ(out, ramp(8, 16));
  EXPECT_EQ(b.stats().framesMissing, 4u);
  EXPECT_EQ(b.stats().glitches, 1u);
  PlayoutGlitch g;
  ASSERT_TRUE(b.popGlitch(g));
  EXPECT_EQ(g.start, 4);
  EXPECT_EQ(g.frames, 4);
}

}  // namespace
}  // namespace aes67
