// The RtpReceiver's SSRC policy (rtp_receiver.hpp) against the field failures it exists for,
// in virtual time on the VirtualNetwork: real RtpTransmitters on one PTP media clock,
// RtpReceivers read by a reader that plays every frame at its media time + link offset.
// - a sender reboot (new SSRC, new random sequence and timestamp base): audio resumes from
//   the new sender's first packet, the glitch is the real gap, counted once
//   (FIELD-NOTES: SSRC change after a sender reboot, aes67-linux-daemon#95);
// - two senders on one group and port without a source filter: the first plays untouched,
//   the other is counted; with source filters each receiver plays its own;
// - several streams on one group, different ports (philhartung/aes67-monitor#7).
// Every sender's audio names the sender and the media time of each frame, so "plays its
// own audio, sample-exact" is checked frame by frame, never sampled.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "engine/rtp/rtp_transmitter.hpp"

namespace aes67 {
namespace {

constexpr std::uint32_t kRate = 48000;
constexpr std::uint32_t kFramesPerPacket = 48;  // 1 ms
constexpr Nanoseconds kNetworkDelay = 200'000;
constexpr Nanoseconds kNever = std::numeric_limits<Nanoseconds>::max();
constexpr std::size_t kReadBlock = 32;

// Sender k's channel 0 at media time t: (t mod 10^6 + k x 10^6) / 2^23, exact in L24 for
// k < 8, so a played sample names its sender and its frame. Channel 1 is its negative.
float signal(int sender, SampleTime t) {
  return static_cast<float>(t % 1'000'000 + sender * 1'000'000) / 8388608.0f;
}
int senderOf(float sample) { return static_cast<int>(sample * 8388608.0f) / 1'000'000; }

struct Sender {
  int id = 0;
  Ipv4Address host = 0;
  RtpTransmitterConfig config;
  Nanoseconds bootAt = 0;  // local time it starts sending, its first frame at the media time then
  Nanoseconds stopAt = kNever;
  std::unique_ptr<FrameRingBuffer> ring;
  std::unique_ptr<RtpTransmitter> tx;
  SampleTime start = 0;      // media time of its first frame
  SampleTime end = 0;        // media time after its last frame sent (once stopped)
  SampleTime produced = 0;
  bool done = false;
};

struct Arrival {
  int sender;
  Nanoseconds at;       // when the receivers get it
  SampleTime mediaTime; // of its first frame
};

struct Receiver {
  std::unique_ptr<PlayoutBuffer> playout;
  std::unique_ptr<RtpReceiver> rx;
  std::vector<float> played;  // channel 0 of every frame read, from media time 0
  std::vector<Nanoseconds> readAt;  // local time each block was read
  SampleTime cursor = 0;
  bool channelsMirror = true;  // channel 1 was always -channel 0
};

class Scene {
 public:
  Scene() : network_(clock_, kNetworkDelay), media_(kRate) {
    network_.setImpairment([this](const VirtualPacket& p, std::vector<Nanoseconds>& delays) {
      if (jitter_ > 0) delays[0] = static_cast<Nanoseconds>(prng_.below(static_cast<std::uint64_t>(jitter_)));
      RtpPacketView v;
      if (parseRtp(p.data, p.size, v) != RtpParseError::kNone) return;
      for (const auto& s : senders_) {
        if (s->config.ssrc != v.ssrc) continue;
        arrivals_.push_back({s->id, p.sentAt + kNetworkDelay + delays[0],
                             mediaTimeOf(v.timestamp, s->config.format.mediaclkOffset, s->start)});
      }
    });
  }

  Sender& addSender(const std::string& host, const std::string& destination, std::uint32_t ssrc, Nanoseconds bootAt,
                    std::uint32_t mediaclkOffset = 0, std::uint16_t firstSequence = 0) {
    auto s = std::make_unique<Sender>();
    s->id = static_cast<int>(senders_.size());
    s->host = parseIpv4(host);
    s->config.destination = parseEndpoint(destination);
    s->config.format = format(mediaclkOffset);
    s->config.framesPerPacket = kFramesPerPacket;
    s->config.ssrc = ssrc;
    s->config.initialSequence = firstSequence;
    s->bootAt = bootAt;
    bool known = false;
    for (auto& other : senders_) known = known || other->host == s->host;
    if (!known) network_.addHost(host, s->host);
    senders_.push_back(std::move(s));
    return *senders_.back();
  }

  // A receiver on its own host, as the SDP describes the stream: `mediaclkOffset` is the
  // SDP's (the first sender's, for a reboot).
  Receiver& addReceiver(const std::string& destination, Ipv4Address sourceFilter = 0, std::uint32_t mediaclkOffset = 0,
                        SampleTime linkOffset = 96) {
    auto r = std::make_unique<Receiver>();
    PlayoutConfig pc;
    pc.channels = 2;
    pc.capacityFrames = 1 << 14;
    pc.linkOffset = linkOffset;
    r->playout = std::make_unique<PlayoutBuffer>(pc);
    RtpReceiverConfig rc;
    rc.destination = parseEndpoint(destination);
    rc.sourceFilter = sourceFilter;
    rc.format = format(mediaclkOffset);
    const Ipv4Address host = parseIpv4("10.67.1.0") + static_cast<Ipv4Address>(receivers_.size() + 1);
    network_.addHost("rx" + std::to_string(receivers_.size()), host);
    r->rx = std::make_unique<RtpReceiver>(network_.host(host), rc, *r->playout, &media_);
    receivers_.push_back(std::move(r));
    return *receivers_.back();
  }

  // Network jitter: each datagram is delayed by a further [0, jitter) (seeded).
  void setJitter(Nanoseconds jitter) { jitter_ = jitter; }

  void runUntil(Nanoseconds until) {
    while (clock_.now() < until) {
      const Nanoseconds now = clock_.now();
      Nanoseconds next = until;
      for (auto& sp : senders_) {
        Sender& s = *sp;
        if (s.done) continue;
        if (!s.tx && now >= s.bootAt) boot(s);
        if (s.tx && now >= s.stopAt) {
          s.end = s.tx->nextMediaTime();
          s.tx.reset();
          s.done = true;
          continue;
        }
        if (!s.tx) {
          next = std::min(next, s.bootAt);
          continue;
        }
        feed(s);
        s.tx->poll();
        next = std::min({next, s.tx->nextDue(), s.stopAt});
      }
      network_.deliverDue();
      for (auto& rp : receivers_) {
        Receiver& r = *rp;
        r.rx->poll();
        while (readDue(r) <= now) read(r);
        next = std::min(next, readDue(r));
      }
      next = std::min(next, network_.nextDeliveryTime());
      clock_.advanceTo(std::max(next, now + 1));
    }
    network_.deliverDue();
    for (auto& r : receivers_) r->rx->poll();
  }

  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  // Datagrams of sender `s` that reached the receivers by the end of the run.
  std::uint64_t deliveredFrom(const Sender& s) const {
    return static_cast<std::uint64_t>(std::count_if(arrivals_.begin(), arrivals_.end(), [&](const Arrival& a) {
      return a.sender == s.id && a.at <= clock_.now();
    }));
  }
  LocalMediaClock& media() { return media_; }

 private:
  static RtpStreamFormat format(std::uint32_t mediaclkOffset) {
    RtpStreamFormat f;
    f.encoding = PcmEncoding::kL24;
    f.channels = 2;
    f.sampleRate = kRate;
    f.mediaclkOffset = mediaclkOffset;
    return f;
  }

  void boot(Sender& s) {
    s.ring = std::make_unique<FrameRingBuffer>(1 << 16, 2);
    s.start = media_.sampleAt(clock_.now());
    s.produced = s.start;
    s.tx = std::make_unique<RtpTransmitter>(network_.host(s.host), s.config, *s.ring, media_);
    s.tx->start(s.start);
  }

  void feed(Sender& s) {
    const SampleTime target = media_.sampleAt(clock_.now()) + 4096;
    while (s.produced < target && s.ring->space() > 0) {
      const float v = signal(s.id, s.produced);
      const float frame[2] = {v, -v};
      s.ring->push(frame, 1);
      ++s.produced;
    }
  }

  Nanoseconds readDue(const Receiver& r) const {
    return media_.localTimeOf(r.cursor + static_cast<SampleTime>(kReadBlock) + r.playout->linkOffset());
  }

  void read(Receiver& r) {
    float block[2 * kReadBlock];
    r.playout->read(r.cursor, block, kReadBlock);
    for (std::size_t f = 0; f < kReadBlock; ++f) {
      r.played.push_back(block[2 * f]);
      r.channelsMirror = r.channelsMirror && block[2 * f + 1] == -block[2 * f];
    }
    r.readAt.push_back(clock_.now());
    r.cursor += static_cast<SampleTime>(kReadBlock);
  }

  VirtualClock clock_{0};
  VirtualNetwork network_;
  LocalMediaClock media_;
  Prng prng_{67};
  Nanoseconds jitter_ = 0;
  std::vector<std::unique_ptr<Sender>> senders_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::vector<Arrival> arrivals_;
};

std::uint64_t dropped(const Receiver& r, RtpDropReason reason) {
  return r.rx->stats().dropped[static_cast<std::size_t>(reason)];
}

// Frames [from, to) of what `r` played are sender `s`'s audio at exactly their media time.
::testing::AssertionResult plays(const Receiver& r, const Sender& s, SampleTime from, SampleTime to) {
  if (to > static_cast<SampleTime>(r.played.size())) {
    return ::testing::AssertionFailure() << "only " << r.played.size() << " frames were read, wanted up to " << to;
  }
  if (from >= to) return ::testing::AssertionFailure() << "empty range [" << from << ", " << to << ")";
  for (SampleTime f = from; f < to; ++f) {
    const float got = r.played[static_cast<std::size_t>(f)];
    if (got != signal(s.id, f)) {
      return ::testing::AssertionFailure() << "frame " << f << " played " << got << " (sender " << senderOf(got)
                                           << ", frame " << static_cast<SampleTime>(got * 8388608.0f) % 1'000'000
                                           << "), not sender " << s.id << "'s";
    }
  }
  if (!r.channelsMirror) return ::testing::AssertionFailure() << "channel 1 was not channel 0's negative";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult silent(const Receiver& r, SampleTime from, SampleTime to) {
  for (SampleTime f = from; f < to; ++f) {
    if (r.played[static_cast<std::size_t>(f)] != 0.0f) return ::testing::AssertionFailure() << "frame " << f << " is not silent";
  }
  return ::testing::AssertionSuccess();
}

constexpr Nanoseconds ms(std::int64_t n) { return n * 1'000'000; }

// (a) A sender reboots: after a second of audio it falls silent; 1.5 s later it is back
// with a new random SSRC, sequence number and RTP timestamp base, on the same PTP media
// clock. The receiver still has the SDP from before the reboot. Twice: the rebooted sender
// keeps its mediaclk offset (timestamps fit the SDP), or draws a new one (they do not: the
// receiver re-anchors, once). Either way its audio resumes with its first packet, within
// one link offset of that packet's arrival; the glitch is exactly the silence between the
// two senders' audio; the change is counted once and nothing else is lost or dropped.
TEST(RtpSsrcPolicy, ASenderRebootResumesFromItsFirstPacketTheGlitchIsTheRealGapCountedOnce) {
  for (const bool newTimestampBase : {false, true}) {
    SCOPED_TRACE(newTimestampBase ? "new mediaclk offset after the reboot" : "same mediaclk offset after the reboot");
    Prng prng(newTimestampBase ? 9595 : 95);
    const auto offsetBefore = static_cast<std::uint32_t>(prng.next());
    const auto offsetAfter = newTimestampBase ? static_cast<std::uint32_t>(prng.next()) : offsetBefore;
    Scene scene;
    Sender& before = scene.addSender("10.67.0.1", "239.69.1.1:5004", static_cast<std::uint32_t>(prng.next()), 0, offsetBefore,
                                     static_cast<std::uint16_t>(prng.next()));
    before.stopAt = ms(1000);
    Sender& after = scene.addSender("10.67.0.1", "239.69.1.1:5004", static_cast<std::uint32_t>(prng.next()), ms(2500),
                                    offsetAfter, static_cast<std::uint16_t>(prng.next()));
    Receiver& r = scene.addReceiver("239.69.1.1:5004", 0, offsetBefore);
    scene.runUntil(ms(4000));

    const RtpReceiverStats& s = r.rx->stats();
    EXPECT_EQ(s.ssrc, after.config.ssrc);
    EXPECT_EQ(s.ssrcChanges, 1u);
    EXPECT_EQ(s.timestampResyncs, newTimestampBase ? 1u : 0u);
    EXPECT_EQ(s.accepted, scene.deliveredFrom(before) + scene.deliveredFrom(after)) << "every packet played";
    EXPECT_EQ(s.droppedTotal(), 0u);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_EQ(s.held, 0u);

    // The glitch is the real gap: from the old sender's last frame to the new one's first.
    const PlayoutStats ps = r.playout->stats();
    EXPECT_EQ(ps.glitches, 1u);
    PlayoutGlitch g;
    ASSERT_TRUE(r.playout->popGlitch(g));
    EXPECT_EQ(g.start, before.end);
    EXPECT_EQ(g.frames, after.start - before.end);
    EXPECT_EQ(ps.framesMissing, static_cast<std::uint64_t>(after.start - before.end));
    EXPECT_TRUE(plays(r, before, 0, before.end));
    EXPECT_TRUE(silent(r, before.end, after.start));
    EXPECT_TRUE(plays(r, after, after.start, static_cast<SampleTime>(r.played.size())));

    // Audio resumes within one link offset of the new sender's first packet.
    const auto first = std::find_if(scene.arrivals().begin(), scene.arrivals().end(),
                                     [&](const Arrival& a) { return a.sender == after.id; });
    ASSERT_NE(first, scene.arrivals().end());
    EXPECT_EQ(first->mediaTime, after.start);
    const Nanoseconds resumedAt = r.readAt[static_cast<std::size_t>(after.start) / kReadBlock];
    EXPECT_LE(resumedAt - first->at, samplesToNanos(r.playout->linkOffset(), kRate))
        << "heard " << (resumedAt - first->at) << " ns after its first packet arrived";
    EXPECT_GE(resumedAt, first->at);
  }
}

// (b) Two senders on one group and port, both on the same PTP clock and mediaclk offset
// (so the second's audio falls on exactly the media times the first is playing), and no
// source filter in the SDP. With up to 0.8 ms of network jitter on every packet, the first
// plays without a single glitch and the second never takes over: all its packets are
// counted as other-ssrc.
TEST(RtpSsrcPolicy, TwoSendersOnOneGroupAndPortWithoutAFilterTheFirstPlaysUntouched) {
  Scene scene;
  scene.setJitter(800'000);
  Sender& first = scene.addSender("10.67.0.1", "239.69.2.1:5004", 0xA11CE, 0);
  Sender& second = scene.addSender("10.67.0.3", "239.69.2.1:5004", 0xB0B, ms(100));
  Receiver& r = scene.addReceiver("239.69.2.1:5004", 0, 0, 144);  // 3 ms: 1 ms packet + 0.2 ms + 0.8 ms jitter
  scene.runUntil(ms(3000));
  const RtpReceiverStats& s = r.rx->stats();
  EXPECT_EQ(s.ssrc, first.config.ssrc);
  EXPECT_EQ(s.ssrcChanges, 0u);
  EXPECT_GT(scene.deliveredFrom(second), 2800u);
  EXPECT_EQ(dropped(r, RtpDropReason::kOtherSsrc), scene.deliveredFrom(second));
  EXPECT_EQ(s.droppedTotal(), dropped(r, RtpDropReason::kOtherSsrc));
  EXPECT_EQ(s.accepted, scene.deliveredFrom(first));
  EXPECT_EQ(r.playout->stats().glitches, 0u);
  EXPECT_EQ(r.playout->stats().framesMissing, 0u);
  EXPECT_EQ(r.playout->stats().framesPriming, 0u);
  EXPECT_TRUE(plays(r, first, 0, static_cast<SampleTime>(r.played.size())));
}

// (b, continued) When the sender that plays falls silent for good, the other one takes over
// after the hold-off, counted once. What is lost is exactly the other sender's audio that
// arrived before the hold-off ran out: the hold-off is the price of never interleaving.
TEST(RtpSsrcPolicy, WhenThePlayingSenderFallsSilentTheOtherTakesOverAfterTheHoldoff) {
  Scene scene;
  scene.setJitter(800'000);
  Sender& first = scene.addSender("10.67.0.1", "239.69.2.2:5004", 0xA11CE, 0);
  first.stopAt = ms(2000);
  Sender& second = scene.addSender("10.67.0.3", "239.69.2.2:5004", 0xB0B, ms(100));
  Receiver& r = scene.addReceiver("239.69.2.2:5004", 0, 0, 144);
  scene.runUntil(ms(3000));
  const Nanoseconds holdoff = r.rx->ssrcHoldoff();
  EXPECT_EQ(holdoff, kDefaultSsrcHoldoff);
  // From the network's own record: the first sender's last arrival, then the first packet
  // of the second that arrived a hold-off later.
  Nanoseconds lastFirst = 0;
  for (const Arrival& a : scene.arrivals()) {
    if (a.sender == first.id) lastFirst = std::max(lastFirst, a.at);
  }
  const auto takeover = std::find_if(scene.arrivals().begin(), scene.arrivals().end(), [&](const Arrival& a) {
    return a.sender == second.id && a.at >= lastFirst + holdoff;
  });
  ASSERT_NE(takeover, scene.arrivals().end());
  const std::uint64_t secondBefore = static_cast<std::uint64_t>(std::count_if(
      scene.arrivals().begin(), takeover, [&](const Arrival& a) { return a.sender == second.id; }));
  const RtpReceiverStats& s = r.rx->stats();
  EXPECT_EQ(s.ssrc, second.config.ssrc);
  EXPECT_EQ(s.ssrcChanges, 1u);
  EXPECT_EQ(s.timestampResyncs, 0u);
  EXPECT_EQ(dropped(r, RtpDropReason::kOtherSsrc), secondBefore);
  EXPECT_EQ(s.droppedTotal(), secondBefore);
  EXPECT_EQ(r.playout->stats().glitches, 1u);
  PlayoutGlitch g;
  ASSERT_TRUE(r.playout->popGlitch(g));
  EXPECT_EQ(g.start, first.end);
  EXPECT_EQ(g.start + g.frames, takeover->mediaTime);
  EXPECT_LE(samplesToNanos(g.frames, kRate), holdoff + ms(1)) << "at most the hold-off and a packet";
  EXPECT_TRUE(plays(r, first, 0, first.end));
  EXPECT_TRUE(plays(r, second, takeover->mediaTime, static_cast<SampleTime>(r.played.size())));
}

// (c) The same two senders on one group and port, and three receivers: two whose SDPs carry
// a source filter (an SSM include join each), and one with none. Each filtered receiver
// plays its own sender, sample-exact and glitch-free, and never even sees the other (the
// join filters it); the unfiltered one plays the first and counts the second.
TEST(RtpSsrcPolicy, SourceFiltersLetTwoReceiversEachPlayTheirOwnSenderOnOneGroupAndPort) {
  Scene scene;
  Sender& a = scene.addSender("10.67.0.1", "239.69.3.1:5004", 0xA, 0);
  Sender& b = scene.addSender("10.67.0.3", "239.69.3.1:5004", 0xB, ms(100));
  Receiver& ra = scene.addReceiver("239.69.3.1:5004", a.host);
  Receiver& rb = scene.addReceiver("239.69.3.1:5004", b.host);
  Receiver& any = scene.addReceiver("239.69.3.1:5004");
  scene.runUntil(ms(2000));
  const SampleTime end = static_cast<SampleTime>(ra.played.size());
  EXPECT_TRUE(plays(ra, a, 0, end));
  EXPECT_TRUE(silent(rb, 0, b.start)) << "before its sender started";
  EXPECT_TRUE(plays(rb, b, b.start, end));
  EXPECT_TRUE(plays(any, a, 0, end));
  for (const Receiver* r : {&ra, &rb, &any}) {
    EXPECT_EQ(r->playout->stats().glitches, 0u);
    EXPECT_EQ(r->rx->stats().ssrcChanges, 0u);
  }
  EXPECT_EQ(ra.rx->stats().received, scene.deliveredFrom(a)) << "the SSM join kept the other sender out";
  EXPECT_EQ(rb.rx->stats().received, scene.deliveredFrom(b));
  EXPECT_EQ(ra.rx->stats().droppedTotal() + rb.rx->stats().droppedTotal(), 0u);
  EXPECT_EQ(dropped(any, RtpDropReason::kOtherSsrc), scene.deliveredFrom(b));
}

// (d) One device sends three streams to one multicast group on three ports (the
// configuration in philhartung/aes67-monitor#7), and another device a fourth stream to
// another group on the first stream's port. All four start at the same instant on the same
// clock and offset, so their timestamps and sequence numbers are identical: only the
// destination tells them apart. Each receiver plays its own stream and nothing else.
TEST(RtpSsrcPolicy, SeveralStreamsOnOneGroupOnDifferentPortsEachPlayTheirOwn) {
  Scene scene;
  const std::vector<std::string> destinations = {"239.69.83.67:6514", "239.69.83.67:6516", "239.69.83.67:6518",
                                                 "239.69.83.68:6514"};
  std::vector<Sender*> senders;
  std::vector<Receiver*> receivers;
  for (std::size_t k = 0; k < destinations.size(); ++k) {
    senders.push_back(&scene.addSender(k < 3 ? "10.67.0.1" : "10.67.0.3", destinations[k],
                                       0x5000u + static_cast<std::uint32_t>(k), ms(10)));
  }
  for (const auto& d : destinations) receivers.push_back(&scene.addReceiver(d));
  scene.runUntil(ms(2000));
  for (std::size_t k = 0; k < destinations.size(); ++k) {
    SCOPED_TRACE(destinations[k]);
    const Receiver& r = *receivers[k];
    const Sender& s = *senders[k];
    EXPECT_TRUE(silent(r, 0, s.start));
    EXPECT_TRUE(plays(r, s, s.start, static_cast<SampleTime>(r.played.size())));
    EXPECT_EQ(r.rx->stats().received, scene.deliveredFrom(s));
    EXPECT_EQ(r.rx->stats().accepted, scene.deliveredFrom(s));
    EXPECT_EQ(r.rx->stats().droppedTotal(), 0u);
    EXPECT_EQ(r.playout->stats().glitches, 0u);
  }
}

}  // namespace
}  // namespace aes67
