// Anchoring a sender-clocked stream on the media clock: zero transit at the anchor, steady
// streams and stalls left alone, drift and jumps re-anchored and counted.
#include "driver/host/sender_clock_aligner.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "driver/host/test/vlc_rtp_timing.hpp"
#include "engine/base/media_clock.hpp"

namespace aes67 {
namespace {

constexpr std::uint32_t kFrames = 48;
constexpr std::uint32_t kOffset = 0x1000;

// The media time an aligned timestamp stands for, near `now`.
SampleTime mediaOf(std::uint32_t aligned, SampleTime now) { return mediaTimeOf(aligned, kOffset, now); }

TEST(SenderClockAligner, AnchorsTheFirstPacketAtZeroTransitAndKeepsASteadyStreamThere) {
  SenderClockAligner a(96, 4000, kOffset, 48000);
  const std::uint32_t rtp0 = 0xFFFFFF00u;  // the sender's timestamps wrap during the test
  const SampleTime now0 = 123'456'789;
  for (std::uint32_t k = 0; k < 2000; ++k) {
    const SampleTime now = now0 + k * kFrames;
    const std::uint32_t aligned = a.align(7, k, rtp0 + k * kFrames, kFrames, now);
    // Its last frame is due exactly at arrival: media time = now - frames.
    ASSERT_EQ(mediaOf(aligned, now), now - kFrames) << k;
  }
  EXPECT_EQ(a.stats().anchors, 1u);
  EXPECT_EQ(a.stats().driftRealigns, 0u);
  EXPECT_EQ(a.stats().transitMaxFrames, 0);
}

TEST(SenderClockAligner, AStallAndItsBurstAreNotAReanchor) {
  SenderClockAligner a(96, 4000, kOffset, 48000);
  const SampleTime now0 = 1'000'000;
  std::uint32_t k = 0;
  for (; k < 100; ++k) a.align(7, k, k * kFrames, kFrames, now0 + k * kFrames);
  // 50 ms stall: 50 packets arrive together, the first ones later than the link offset.
  const SampleTime burst = now0 + (k + 50) * kFrames;
  for (std::uint32_t i = 0; i < 50; ++i, ++k) a.align(7, k, k * kFrames, kFrames, burst);
  for (std::uint32_t i = 0; i < 500; ++i, ++k) {
    const SampleTime now = now0 + k * kFrames;
    ASSERT_EQ(mediaOf(a.align(7, k, k * kFrames, kFrames, now), now), now - kFrames);
  }
  EXPECT_EQ(a.stats().anchors, 1u);
  EXPECT_EQ(a.stats().driftRealigns, 0u);
}

TEST(SenderClockAligner, DriftOutOfTheWindowReanchorsAfterASecondAndCountsIt) {
  SenderClockAligner a(96, 4000, kOffset, 48000);
  // The sender's clock runs 1000 ppm slow: its packets fall behind by 1 frame per 1000.
  const SampleTime now0 = 5'000'000;
  std::uint64_t realignedAt = 0;
  for (std::uint32_t k = 0; k < 5000; ++k) {
    const SampleTime now = now0 + k * kFrames + (k * kFrames) / 1000;
    a.align(7, k, k * kFrames, kFrames, now);
    if (a.stats().driftRealigns == 1 && realignedAt == 0) realignedAt = k;
  }
  EXPECT_EQ(a.stats().driftRealigns, 1u);
  // Late beyond 96 frames after ~2000 packets, then a second (1000 packets) of patience.
  EXPECT_GT(realignedAt, 2900u);
  EXPECT_LT(realignedAt, 3100u);
}

TEST(SenderClockAligner, AJumpOrANewSsrcReanchorsAtOnce) {
  SenderClockAligner a(96, 4000, kOffset, 48000, 8);
  const SampleTime now0 = 1'000'000;
  std::uint32_t k = 0;
  for (; k < 10; ++k) a.align(7, k, k * kFrames, kFrames, now0 + k * kFrames);
  // The sender restarts its timestamps 10 minutes away: 8 packets, then re-anchored.
  for (std::uint32_t i = 0; i < 8; ++i, ++k) a.align(7, k, 0x40000000u + k * kFrames, kFrames, now0 + k * kFrames);
  EXPECT_EQ(a.stats().driftRealigns, 1u);
  const SampleTime now = now0 + k * kFrames;
  EXPECT_EQ(mediaOf(a.align(7, k, 0x40000000u + k * kFrames, kFrames, now), now), now - kFrames);
  // A new SSRC: anchored on its first packet.
  ++k;
  const SampleTime later = now0 + k * kFrames;
  EXPECT_EQ(mediaOf(a.align(9, 0, 12345, kFrames, later), later), later - kFrames);
  EXPECT_EQ(a.stats().ssrcRealigns, 1u);
  a.reset();
  EXPECT_FALSE(a.anchored());
}

// VLC's timestamps (vlc_rtp_timing.hpp): at 6 of the 125 start phases one packet per 50 ms
// block is stamped a frame early and the next block starts a frame late. At every phase
// each packet is played at the frame the sender played it (where the previous one ended),
// never more than a frame from its own timestamp.
TEST(SenderClockAligner, VlcsTimestampsOffByAFramePlayContinuously) {
  std::uint32_t phasesOff = 0;
  for (std::int64_t phase = 0; phase < 125; ++phase) {  // 125 us = 6 frames: every phase
    const auto packets = test::vlcPcmPackets(7'000'000'000 + phase, 40);
    SenderClockAligner a(4800, 4000, kOffset, 48000);
    std::uint64_t rawOff = 0;
    std::uint32_t aligned0 = 0;
    for (std::size_t k = 0; k < packets.size(); ++k) {
      const test::VlcPacket& p = packets[k];
      const SampleTime now = 50'000'000 + static_cast<SampleTime>(p.firstFrame + p.frames);  // sent when due
      const std::uint32_t aligned = a.align(3, static_cast<std::uint16_t>(k), p.timestamp, p.frames, now);
      if (k == 0) aligned0 = aligned;
      const std::uint32_t truth = packets[0].timestamp + static_cast<std::uint32_t>(p.firstFrame);
      if (p.timestamp != truth) ++rawOff;
      ASSERT_LE(std::abs(static_cast<std::int32_t>(p.timestamp - truth)), 1) << "phase " << phase << " packet " << k;
      ASSERT_EQ(aligned, aligned0 + static_cast<std::uint32_t>(p.firstFrame)) << "phase " << phase << " packet " << k;
    }
    EXPECT_EQ(a.stats().continued, rawOff) << "phase " << phase;
    EXPECT_EQ(a.stats().anchors, 1u);
    if (rawOff > 0) ++phasesOff;
  }
  // The model does what VLC did in CI (a frame early once per block at ~5 % of starts).
  EXPECT_EQ(phasesOff, 6u);
}

// Only a packet next in sequence continues the previous one: after a loss, or off by more
// than kContinuationFrames, its own timestamp places it.
TEST(SenderClockAligner, ALossOrALargerOffsetIsNotContinued) {
  SenderClockAligner a(4800, 4000, kOffset, 48000);
  const SampleTime now0 = 9'000'000;
  const std::uint32_t a0 = a.align(7, 100, 5000, kFrames, now0);
  // Sequence 102 (101 lost), a frame late: placed by its timestamp.
  EXPECT_EQ(a.align(7, 102, 5000 + 2 * kFrames + 1, kFrames, now0 + 2 * kFrames), a0 + 2 * kFrames + 1);
  // Next in sequence, three frames early: placed by its timestamp.
  EXPECT_EQ(a.align(7, 103, 5000 + 3 * kFrames + 1 - 3, kFrames, now0 + 3 * kFrames), a0 + 3 * kFrames + 1 - 3);
  // Next in sequence, two frames late: continues.
  EXPECT_EQ(a.align(7, 104, 5000 + 4 * kFrames - 2 + 2, kFrames, now0 + 4 * kFrames), a0 + 4 * kFrames - 2);
  EXPECT_EQ(a.stats().continued, 1u);
}

TEST(SenderClockAligner, RefusesAnEmptyWindow) {
  EXPECT_THROW(SenderClockAligner(0, 10, 0, 48000), std::invalid_argument);
  EXPECT_THROW(SenderClockAligner(10, 10, 0, 48000, 0), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
