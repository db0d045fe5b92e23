// The whole emulated device (EmulatedDut: sockets, RTP receiver, playout, HAL loopback,
// transmitter) under hostile traffic on the virtual network, while a real sender's stream
// plays (issue 9, Bounds): 1,000 unknown senders on the stream's group and port, oversize
// datagrams up to 65,507 bytes, undersize ones from 0 bytes to a partial frame, and RTP to
// groups and ports the device never joined. With the SDP's source filter the strangers never
// reach the device's socket (a source-specific join). Nothing crashes, the heap does not grow (an
// exact count: this binary replaces operator new), every datagram the receiver saw is
// counted accepted or dropped with its reason, the counts are exactly what was sent, and
// the real stream plays on without a missing frame. Figures go to bench/bounds.ts as
// [ bounds-json ] lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "engine/base/prng.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "test-support/counting_heap.hpp"

namespace aes67 {
namespace {

constexpr Ipv4Address kSender = 0x0A000001, kDut = 0x0A000002;
constexpr std::uint32_t kOffset = 0x12345678;
const Ipv4Endpoint kGroup{0xEF450001, 5004};

std::uint64_t dropped(const RtpReceiverStats& s, RtpDropReason r) { return s.dropped[static_cast<std::size_t>(r)]; }

RtpStreamDescription stream(const std::string& name, Ipv4Endpoint destination, Ipv4Address source) {
  RtpStreamDescription s;
  s.name = name;
  s.destination = destination;
  s.source = source;
  s.format.encoding = PcmEncoding::kL24;
  s.format.channels = 2;
  s.format.sampleRate = 48000;
  s.format.payloadType = 97;
  s.format.mediaclkOffset = kOffset;
  s.framesPerPacket = 48;
  return s;
}

// A 1 ms L24 stereo packet (12 + 288 bytes) into `out`.
std::size_t rtp(std::uint8_t* out, std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc) {
  RtpHeaderFields h;
  h.payloadType = 97;
  h.sequenceNumber = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  writeRtpHeader(h, out);
  for (std::size_t i = 0; i < 48 * 6; ++i) out[kRtpHeaderSize + i] = static_cast<std::uint8_t>(i * 7 + seq);
  return kRtpHeaderSize + 48 * 6;
}

struct Figures {
  std::int64_t growth = 0, peak = 0;
  std::uint64_t strangers = 0, oversize = 0, undersize = 0, elsewhere = 0, legit = 0;
  std::uint64_t truncatedSent = 0, badSizeSent = 0;
  std::uint64_t oversizeCounted = 0;  // EmulatedDut::oversizeDatagrams: truncated by its socket, dropped before parsing
  bool filtered = false;
  RtpReceiverStats before, after;
  PlayoutStats playBefore, playAfter;
};

// Runs the device for 0.5 s of the real stream, then 1 s of the real stream with the flood.
// `sourceFilter`: the SDP names the sender (strangers are wrong-source) or not (other-ssrc).
Figures flood(bool sourceFilter) {
  VirtualClock clock(1'000'000'000);
  VirtualNetwork net(clock, 30'000);
  LocalMediaClock media(48000, -1'000'000'000'000);
  Transport& senderHost = net.addHost("sender", kSender);
  Transport& dutHost = net.addHost("dut", kDut);
  EmulatedDutConfig c;
  c.device.sampleRate = 48000;
  c.device.inputChannels = 2;
  c.device.outputChannels = 2;
  c.ioBufferFrames = 64;
  c.linkOffsetFrames = 96;
  c.receive.push_back({stream("in", kGroup, sourceFilter ? kSender : 0), {0, 1}});
  c.transmit.push_back({stream("out", {0xEF450002, 5004}, 0), {0, 1}});
  auto dut = std::make_unique<EmulatedDut>(dutHost, media, c);
  auto sender = senderHost.open(SocketOptions{});
  std::vector<std::unique_ptr<DatagramSocket>> strangers;
  for (std::uint32_t i = 0; i < 1000; ++i) strangers.push_back(net.addHost("stranger", 0x0A010000 + i).open(SocketOptions{}));
  std::vector<std::uint8_t> buf(65536);
  Prng prng(9);
  dut->start();

  Figures f;
  const SampleTime m0 = media.sampleAt(clock.now()) + 48;
  std::uint16_t seq = 100;
  std::uint64_t k = 0;
  // Runs to `until`, sending the real stream's packet k when its last frame is due; `extra`
  // sends the flood's share for the millisecond.
  auto run = [&](Nanoseconds until, const std::function<void()>& extra) {
    while (clock.now() < until) {
      const Nanoseconds due = media.localTimeOf(m0 + static_cast<SampleTime>((k + 1) * 48));
      if (due <= clock.now()) {
        const std::size_t n = rtp(buf.data(), seq++, static_cast<std::uint32_t>(m0 + static_cast<SampleTime>(k * 48)) + kOffset, 0x5EA1);
        sender->send(kGroup, buf.data(), n);
        ++k;
        extra();
        continue;
      }
      net.deliverDue();
      // Keep the stamp logs drained, as the lab does (their rings are fixed-size anyway).
      PacketStamp ps;
      while (dut->packetLog().pop(ps)) {
      }
      const Nanoseconds next = std::min({dut->poll(), net.nextDeliveryTime(), due, until});
      clock.advanceTo(std::max(next, clock.now() + 1));
    }
  };
  std::uint32_t ms = 0;
  bool counting = false;
  auto floodMs = [&] {
    ++ms;
    // 10 of the 1,000 strangers each millisecond: every one sends 10 packets a second, its
    // own SSRC, random sequence numbers and timestamps.
    for (int j = 0; j < 10; ++j) {
      const std::uint32_t who = (ms * 10 + static_cast<std::uint32_t>(j)) % 1000;
      const std::size_t n = rtp(buf.data(), static_cast<std::uint16_t>(prng.next()), static_cast<std::uint32_t>(prng.next()), 0xBAD00000 + who);
      strangers[who]->send(kGroup, buf.data(), n);
      if (counting) ++f.strangers;
    }
    // Oversize: 9,217 bytes (one past the receive buffer) up to 65,507, one every 10 ms.
    if (ms % 10 == 0) {
      const std::size_t size = 9217 + ((ms / 10) % 100) * 569;
      rtp(buf.data(), 1, 2, 0x5EA1);
      sender->send(kGroup, buf.data(), std::min<std::size_t>(size, 65507));
      if (counting) ++f.oversize;
    }
    // Undersize, from the real sender's address: 0, 1 and 11 bytes (truncated), then the
    // header alone and partial frames (bad payload size).
    if (ms % 5 == 0) {
      const std::size_t sizes[] = {0, 1, 11, kRtpHeaderSize, kRtpHeaderSize + 6 + 1, kRtpHeaderSize + 6 + 5};
      const std::size_t size = sizes[(ms / 5) % 6];
      rtp(buf.data(), 1, 2, 0x5EA1);
      sender->send(kGroup, buf.data(), size);
      if (counting) (size < kRtpHeaderSize ? f.truncatedSent : f.badSizeSent)++;
      if (counting) ++f.undersize;
    }
    // RTP to a group and a port the device never joined.
    strangers[ms % 1000]->send({0xEF450009, 5004}, buf.data(), rtp(buf.data(), 1, 2, 3));
    strangers[ms % 1000]->send({kGroup.address, 5006}, buf.data(), rtp(buf.data(), 1, 2, 3));
    if (counting) f.elsewhere += 2;
  };
  // Warm-up: the real stream for 0.3 s, then 0.2 s of the flood uncounted, so every lazy
  // structure and high-water mark (the virtual network's queues too) exists before the count.
  run(clock.now() + 300'000'000, [] {});
  run(clock.now() + 200'000'000, floodMs);
  net.deliverDue();
  f.filtered = sourceFilter;
  const std::uint64_t oversizeBefore = dut->oversizeDatagrams(0);
  f.before = dut->receiverStats(0);
  f.playBefore = dut->playoutStats(0);
  const std::uint64_t k0 = k;
  HeapWatch heap;

  counting = true;
  run(clock.now() + 1'000'000'000, floodMs);
  clock.advanceBy(1'000'000);
  net.deliverDue();
  dut->poll();
  f.legit = k - k0;
  f.after = dut->receiverStats(0);
  f.oversizeCounted = dut->oversizeDatagrams(0) - oversizeBefore;
  f.playAfter = dut->playoutStats(0);
  f.growth = heap.growth();
  f.peak = heap.peakAbove();
  dut->stop();
  return f;
}

void report(const char* name, const Figures& f, const RtpReceiverStats& d) {
  std::printf("[ bounds ] %s: %llu strangers, %llu oversize, %llu undersize, %llu elsewhere: heap growth %lld B, peak above start %lld B\n", name,
              static_cast<unsigned long long>(f.strangers), static_cast<unsigned long long>(f.oversize),
              static_cast<unsigned long long>(f.undersize), static_cast<unsigned long long>(f.elsewhere), static_cast<long long>(f.growth),
              static_cast<long long>(f.peak));
  std::printf("[ bounds-json ] {\"name\":\"%s\",\"datagrams\":%llu,\"strangers\":%llu,\"oversize\":%llu,\"undersize\":%llu,\"elsewhere\":%llu,"
              "\"heapGrowthBytes\":%lld,\"heapPeakBytes\":%lld,\"wrongSource\":%llu,\"otherSsrc\":%llu,\"probation\":%llu,\"droppedOversize\":%llu,"
              "\"truncated\":%llu,\"badPayloadSize\":%llu}\n",
              name, static_cast<unsigned long long>(f.strangers + f.oversize + f.undersize + f.elsewhere), static_cast<unsigned long long>(f.strangers),
              static_cast<unsigned long long>(f.oversize), static_cast<unsigned long long>(f.undersize), static_cast<unsigned long long>(f.elsewhere),
              static_cast<long long>(f.growth), static_cast<long long>(f.peak), static_cast<unsigned long long>(dropped(d, RtpDropReason::kWrongSource)),
              static_cast<unsigned long long>(dropped(d, RtpDropReason::kOtherSsrc)), static_cast<unsigned long long>(dropped(d, RtpDropReason::kProbation)),
              static_cast<unsigned long long>(f.oversizeCounted), static_cast<unsigned long long>(dropped(d, RtpDropReason::kTruncated)),
              static_cast<unsigned long long>(dropped(d, RtpDropReason::kBadPayloadSize)));
}

RtpReceiverStats delta(const RtpReceiverStats& a, const RtpReceiverStats& b) {
  RtpReceiverStats d = b;
  d.received -= a.received;
  d.accepted -= a.accepted;
  for (std::size_t i = 0; i < d.dropped.size(); ++i) d.dropped[i] -= a.dropped[i];
  return d;
}

void expectCommon(const Figures& f, const RtpReceiverStats& d) {
  // Undersize: 0, 1 and 11 bytes are truncated; the header alone and partial frames have a bad payload size.
  EXPECT_EQ(dropped(d, RtpDropReason::kTruncated), f.truncatedSent);
  EXPECT_EQ(dropped(d, RtpDropReason::kBadPayloadSize), f.badSizeSent);
  EXPECT_EQ(f.oversizeCounted, f.oversize);
  // The real stream: every packet accepted, not a frame missing, nothing late.
  EXPECT_EQ(d.accepted, f.legit);
  EXPECT_EQ(f.playAfter.framesMissing, f.playBefore.framesMissing);
  EXPECT_EQ(f.playAfter.latePackets, f.playBefore.latePackets);
  EXPECT_EQ(d.ssrc, 0x5EA1u);
  // Every datagram the receiver saw is accounted for; the ones elsewhere never reached it,
  // nor (with the source filter: a source-specific join) did the strangers.
  EXPECT_EQ(d.received, f.legit + (f.filtered ? 0 : f.strangers) + f.undersize);
  EXPECT_EQ(d.received, d.accepted + d.droppedTotal() + d.held);
  // Memory: flat once the flood is over (give or take the one datagram of the device's own
  // stream, 300 bytes and the network's node, that may be in flight at either mark); the
  // peak is the datagrams in flight on the virtual network, not the device.
  EXPECT_LE(f.growth, 512);
  EXPECT_LE(f.peak, 256 * 1024);
}

TEST(EmulatedDutBounds, WithTheSdpSourceFilterStrangersAreWrongSourceAndTheStreamPlaysOn) {
  const Figures f = flood(true);
  const RtpReceiverStats d = delta(f.before, f.after);
  report("dut-flood-filtered", f, d);
  // The source-specific join keeps them off the device's socket (as IGMPv3 does); a stray
  // one that got through would be dropped as wrong-source.
  EXPECT_EQ(dropped(d, RtpDropReason::kWrongSource), 0u);
  EXPECT_EQ(d.ssrcChanges, 0u);
  expectCommon(f, d);
}

TEST(EmulatedDutBounds, WithoutAFilterStrangersAreOtherSsrcAndTheStreamKeepsItsSource) {
  const Figures f = flood(false);
  const RtpReceiverStats d = delta(f.before, f.after);
  report("dut-flood-unfiltered", f, d);
  // A stranger's packet is dropped as other-ssrc, or held for probation and then dropped
  // when another stranger takes its place: never played.
  EXPECT_EQ(dropped(d, RtpDropReason::kOtherSsrc) + dropped(d, RtpDropReason::kProbation) + d.held, f.strangers);
  EXPECT_EQ(d.ssrcChanges, 0u);
  expectCommon(f, d);
}

}  // namespace
}  // namespace aes67
