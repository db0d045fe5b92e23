// RtpTransmitter -> VirtualNetwork -> RtpReceiver -> PlayoutBuffer, in virtual time.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"

namespace aes67 {
namespace {

struct Link {
  explicit Link(std::uint32_t framesPerPacket = 48, std::uint16_t firstSeq = 0, std::uint32_t offset = 0,
                std::uint32_t rate = 48000)
      : clock(0), network(clock, 200'000), media(rate) {
    network.addHost("tx", parseIpv4("10.67.0.1"));
    network.addHost("rx", parseIpv4("10.67.0.2"));
    format.encoding = PcmEncoding::kL24;
    format.channels = 2;
    format.sampleRate = rate;
    format.mediaclkOffset = offset;
    RtpTransmitterConfig tc;
    tc.destination = parseEndpoint("239.69.1.1:5004");
    tc.format = format;
    tc.framesPerPacket = framesPerPacket;
    tc.initialSequence = firstSeq;
    ring = std::make_unique<FrameRingBuffer>(1 << 16, 2);
    tx = std::make_unique<RtpTransmitter>(network.host(parseIpv4("10.67.0.1")), tc, *ring, media);
    PlayoutConfig pc;
    pc.channels = 2;
    pc.capacityFrames = 1 << 14;
    pc.linkOffset = 96;  // 2 ms at 48 kHz
    playout = std::make_unique<PlayoutBuffer>(pc);
    RtpReceiverConfig rc;
    rc.destination = tc.destination;
    rc.format = format;
    rx = std::make_unique<RtpReceiver>(network.host(parseIpv4("10.67.0.2")), rc, *playout, &media);
  }

  // Channel 0: media time / 2^20 (exact in L24), channel 1: its negative.
  static float value(SampleTime t) { return static_cast<float>(t % 4'000'000) / 8388608.0f; }

  // Runs `seconds` of virtual time: the ring is filled ahead, the transmitter sent at each
  // packet's due time, the receiver polled, the reader reads 32-frame blocks.
  std::vector<float> run(double seconds) {
    std::vector<float> played;
    const SampleTime end = static_cast<SampleTime>(seconds * format.sampleRate);
    std::vector<float> block(2 * 32);
    SampleTime produced = 0, readAt = 0;
    tx->start(0);
    while (readAt < end) {
      while (produced < readAt + 4096) {
        const float frame[2] = {value(produced), -value(produced)};
        ring->push(frame, 1);
        ++produced;
      }
      // Next event: a packet due, or the next 32-frame read at media time readAt + link offset.
      const Nanoseconds readDue = media.localTimeOf(readAt + 32 + playout->linkOffset());
      const Nanoseconds next = std::min({tx->nextDue(), readDue, network.nextDeliveryTime()});
      clock.advanceTo(std::max(clock.now(), next));
      tx->poll();
      rx->poll();
      if (clock.now() >= readDue) {
        playout->read(readAt, block.data(), 32);
        played.insert(played.end(), block.begin(), block.end());
        readAt += 32;
      }
    }
    return played;
  }

  VirtualClock clock;
  VirtualNetwork network;
  LocalMediaClock media;
  RtpStreamFormat format;
  std::unique_ptr<FrameRingBuffer> ring;
  std::unique_ptr<RtpTransmitter> tx;
  std::unique_ptr<PlayoutBuffer> playout;
  std::unique_ptr<RtpReceiver> rx;
};

TEST(RtpStream, AudioArrivesSampleExactAtTheLinkOffsetAcrossSequenceAndTimestampWraps) {
  // Start 100 packets before the sequence wrap and 1 s of samples before the timestamp wrap.
  Link link(48, 65436, 0xFFFFFFFFu - 48000);
  const auto played = link.run(3.0);
  const PlayoutStats ps = link.playout->stats();
  EXPECT_EQ(ps.glitches, 0u);
  EXPECT_EQ(ps.framesMissing, 0u);
  // Frames before the first packet arrived are priming; after that every frame is exact.
  const std::size_t first = ps.framesPriming;
  ASSERT_LT(first, played.size() / 2);
  for (std::size_t f = first; f < played.size() / 2; ++f) {
    ASSERT_EQ(played[2 * f], Link::value(static_cast<SampleTime>(f))) << "frame " << f;
    ASSERT_EQ(played[2 * f + 1], -Link::value(static_cast<SampleTime>(f)));
  }
  const RtpReceiverStats& rs = link.rx->stats();
  EXPECT_EQ(rs.lost, 0u);
  EXPECT_EQ(rs.droppedTotal(), 0u);
  EXPECT_GT(link.tx->stats().packetsSent, 65536u - 65436u + 10) << "crossed the sequence wrap";
  // Transit = 200 us of network delay + one packet (the packet is sent when its last frame is due).
  EXPECT_EQ(rs.transitMinNs, 200'000 + 1'000'000);
  EXPECT_EQ(rs.transitMaxNs, 200'000 + 1'000'000);
}

TEST(RtpStream, PacketsLeaveWithinOnePercentOfPtimeOfTheirDueTime) {
  for (std::uint32_t frames : {6u, 12u, 16u, 48u, 192u}) {  // 125 us, 250 us, 333 us, 1 ms, 4 ms
    Link link(frames);
    std::vector<Nanoseconds> sendTimes;
    link.network.setImpairment([&](const VirtualPacket& p, std::vector<Nanoseconds>&) { sendTimes.push_back(p.sentAt); });
    link.run(0.2);
    ASSERT_GT(sendTimes.size(), 10u);
    const Nanoseconds ptime = samplesToNanos(frames, 48000);
    for (std::size_t k = 0; k < sendTimes.size(); ++k) {
      const Nanoseconds due = link.media.localTimeOf(static_cast<SampleTime>((k + 1) * frames));
      ASSERT_LE(std::llabs(sendTimes[k] - due), ptime / 100) << frames << " frames, packet " << k;
    }
    EXPECT_LE(link.tx->stats().latenessMaxNs, ptime / 100);
  }
}

TEST(RtpStream, LossIsSilenceAtTheRightPlaceAndCounted) {
  Link link;
  int n = 0;
  link.network.setImpairment([&](const VirtualPacket&, std::vector<Nanoseconds>& d) {
    if (++n == 50 || n == 51 || n == 200) d.clear();
  });
  const auto played = link.run(1.0);
  const RtpReceiverStats& rs = link.rx->stats();
  EXPECT_EQ(rs.lost, 3u);
  const PlayoutStats ps = link.playout->stats();
  EXPECT_EQ(ps.glitches, 2u);
  EXPECT_EQ(ps.framesMissing, 3u * 48);
  PlayoutGlitch g;
  ASSERT_TRUE(link.playout->popGlitch(g));
  EXPECT_EQ(g.start, 49 * 48) << "packet 50 carried frames 2352..2399";
  EXPECT_EQ(g.frames, 96);
  ASSERT_TRUE(link.playout->popGlitch(g));
  EXPECT_EQ(g.start, 199 * 48);
  EXPECT_EQ(played[2 * (49 * 48)], 0.0f);
}

TEST(RtpStream, ReorderInsideTheWindowHealsDuplicatesAndLateOnesAreDropped) {
  Link link;
  int n = 0;
  link.network.setImpairment([&](const VirtualPacket&, std::vector<Nanoseconds>& d) {
    ++n;
    if (n == 10) d[0] = 1'100'000;          // overtaken by the next packet, still in time to play
    if (n == 20) d.push_back(300'000);      // duplicated
    if (n == 30) d[0] = 5'000'000;          // too late for the 2 ms link offset
  });
  link.run(1.0);
  const RtpReceiverStats& rs = link.rx->stats();
  EXPECT_EQ(rs.reordered, 1u);
  EXPECT_EQ(rs.dropped[static_cast<std::size_t>(RtpDropReason::kDuplicate)], 1u);
  EXPECT_EQ(rs.dropped[static_cast<std::size_t>(RtpDropReason::kLate)], 1u);
  EXPECT_EQ(link.playout->stats().glitches, 1u) << "only the late packet is heard";
  EXPECT_EQ(link.playout->stats().framesMissing, 48u);
}

// A sender that changes its SSRC with no pause at all (timestamps and media time carry on).
// The SSRC policy (rtp_receiver.hpp) cannot tell this from a second sender until the old
// SSRC has been silent for the hold-off: the new SSRC's packets that arrive before then are
// dropped as other-ssrc, the next one takes over (counted once) and plays at its own media
// time. So the audio lost is exactly those packets: the cost of not letting an interloper
// interleave, bounded by the hold-off.
TEST(RtpStream, SsrcChangeWithoutAPauseTakesOverAfterTheHoldoffAndIsCountedOnce) {
  Link link;
  int n = 0;
  Nanoseconds lastOldArrival = 0;
  std::vector<Nanoseconds> newArrivals;
  // After 100 packets the "sender reboots": new SSRC, sequence starts elsewhere.
  link.network.setImpairment([&](const VirtualPacket& p, std::vector<Nanoseconds>&) {
    const Nanoseconds arrival = p.sentAt + 200'000;  // the Link's network delay
    if (++n > 100) {
      auto* bytes = const_cast<std::uint8_t*>(p.data);
      bytes[2] = static_cast<std::uint8_t>(bytes[2] + 0x30);  // sequence restarts 12288 further on
      bytes[11] ^= 0xFF;
      newArrivals.push_back(arrival);
    } else {
      lastOldArrival = arrival;
    }
  });
  link.run(0.5);
  const RtpReceiverStats& rs = link.rx->stats();
  const Nanoseconds holdoff = link.rx->ssrcHoldoff();
  EXPECT_EQ(holdoff, kDefaultSsrcHoldoff) << "1 ms packets: two packet times are less than the default";
  std::uint64_t beforeHoldoff = 0;
  for (Nanoseconds t : newArrivals) beforeHoldoff += t - lastOldArrival < holdoff ? 1 : 0;
  ASSERT_GT(beforeHoldoff, 0u);
  EXPECT_EQ(rs.ssrcChanges, 1u);
  EXPECT_EQ(rs.dropped[static_cast<std::size_t>(RtpDropReason::kOtherSsrc)], beforeHoldoff);
  EXPECT_EQ(rs.droppedTotal(), beforeHoldoff);
  EXPECT_EQ(rs.timestampResyncs, 0u) << "the new SSRC's timestamps are on the SDP's base";
  EXPECT_EQ(rs.lost, 0u) << "sequence tracking starts afresh with the new SSRC";
  const PlayoutStats ps = link.playout->stats();
  EXPECT_EQ(ps.glitches, 1u);
  EXPECT_EQ(ps.framesMissing, beforeHoldoff * 48);
  PlayoutGlitch g;
  ASSERT_TRUE(link.playout->popGlitch(g));
  EXPECT_EQ(g.start, 100 * 48) << "the first frame after the old SSRC's last packet";
  EXPECT_LE(samplesToNanos(g.frames, 48000), holdoff) << "never more than the hold-off is lost";
}

// The locked sender's timestamps jump to another base mid-stream (same SSRC: it re-read a
// new random mediaclk offset). No network moves a packet by a whole playout buffer, so the
// first packet on the new base is dropped (it lands hours away) and the second re-anchors
// the stream to its arrival time and the transit it had: audio resumes at its true media
// time, sample-exact, one packet lost, never wedged dropping everything as too early.
TEST(RtpStream, ATimestampJumpOfTheLockedSenderReanchorsAfterTwoPacketsNotAWedge) {
  Link link;
  int n = 0;
  link.network.setImpairment([&](const VirtualPacket& p, std::vector<Nanoseconds>&) {
    if (++n > 100) {
      auto* bytes = const_cast<std::uint8_t*>(p.data);
      bytes[4] = static_cast<std::uint8_t>(bytes[4] + 0x40);  // timestamp + 2^30: 6 hours away
    }
  });
  const auto played = link.run(1.0);
  const RtpReceiverStats& rs = link.rx->stats();
  EXPECT_EQ(rs.timestampResyncs, 1u);
  EXPECT_EQ(rs.ssrcChanges, 0u);
  EXPECT_EQ(rs.dropped[static_cast<std::size_t>(RtpDropReason::kTooEarly)] +
                rs.dropped[static_cast<std::size_t>(RtpDropReason::kLate)],
            1u);
  EXPECT_EQ(rs.droppedTotal(), 1u);
  const PlayoutStats ps = link.playout->stats();
  EXPECT_EQ(ps.glitches, 1u);
  EXPECT_EQ(ps.framesMissing, 48u);
  PlayoutGlitch g;
  ASSERT_TRUE(link.playout->popGlitch(g));
  EXPECT_EQ(g.start, 100 * 48) << "packet 101 carried frames 4800..4847";
  for (std::size_t f = 101 * 48; f < played.size() / 2; ++f) {
    ASSERT_EQ(played[2 * f], Link::value(static_cast<SampleTime>(f))) << "frame " << f;
  }
}

TEST(RtpStream, MalformedDatagramsAreCountedByReasonNeverPlayed) {
  Link link;
  PlayoutConfig pc;
  pc.channels = 2;
  PlayoutBuffer playout(pc);
  RtpReceiverConfig rc;
  rc.format = link.format;
  rc.sourceFilter = parseIpv4("10.67.0.1");
  RtpReceiver rx(rc, playout);
  DatagramInfo from;
  from.source = parseEndpoint("10.67.0.1:5004");
  std::uint8_t pkt[12 + 6] = {};
  RtpHeaderFields h;
  writeRtpHeader(h, pkt);
  rx.handle(pkt, 5, from);                 // truncated
  rx.handle(pkt, 12 + 5, from);            // not a whole frame (L24 stereo = 6 bytes)
  rx.handle(pkt, 12, from);                // empty payload
  h.payloadType = 0;
  writeRtpHeader(h, pkt);
  rx.handle(pkt, sizeof pkt, from);        // wrong PT
  DatagramInfo stranger = from;
  stranger.source = parseEndpoint("10.67.0.9:5004");
  rx.handle(pkt, sizeof pkt, stranger);    // not the filtered source
  pkt[0] = 0x40;
  rx.handle(pkt, sizeof pkt, from);        // version 1
  const RtpReceiverStats& s = rx.stats();
  EXPECT_EQ(s.received, 6u);
  EXPECT_EQ(s.accepted, 0u);
  EXPECT_EQ(s.dropped[static_cast<std::size_t>(RtpDropReason::kTruncated)], 1u);
  EXPECT_EQ(s.dropped[static_cast<std::size_t>(RtpDropReason::kBadPayloadSize)], 2u);
  EXPECT_EQ(s.dropped[static_cast<std::size_t>(RtpDropReason::kWrongPayloadType)], 1u);
  EXPECT_EQ(s.dropped[static_cast<std::size_t>(RtpDropReason::kWrongSource)], 1u);
  EXPECT_EQ(s.dropped[static_cast<std::size_t>(RtpDropReason::kBadVersion)], 1u);
  EXPECT_EQ(playout.stats().framesWritten, 0u);
}

}  // namespace
}  // namespace aes67
