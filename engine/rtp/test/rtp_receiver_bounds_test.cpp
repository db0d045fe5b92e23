// What the network can throw at one RtpReceiver: a thousand unknown senders and SSRCs,
// datagrams larger than its buffer and smaller than a header, partial frames, garbage.
// Nothing crashes, every datagram is accounted for (accepted, or dropped with a reason),
// and the heap does not grow after warm-up: a counting operator new/delete in this test
// binary measures the bytes live and their peak.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_receiver.hpp"
#include "test-support/counting_heap.hpp"

namespace aes67 {
namespace {

std::uint64_t droppedFor(const RtpReceiverStats& s, RtpDropReason r) { return s.dropped[static_cast<std::size_t>(r)]; }

// One figure set as a JSON line for bench/bounds.ts (which runs these tests and prints the
// figures beside the lab's).
void report(const std::string& name, std::initializer_list<std::pair<const char*, long long>> figures) {
  std::string line = "{\"name\":\"" + name + "\"";
  for (const auto& [key, value] : figures) line += ",\"" + std::string(key) + "\":" + std::to_string(value);
  std::printf("[ bounds-json ] %s}\n", line.c_str());
}

void expectEveryDatagramAccountedFor(const RtpReceiverStats& s) {
  EXPECT_EQ(s.received, s.accepted + s.droppedTotal() + s.held)
      << "a datagram was neither accepted, nor dropped with a reason, nor kept aside for probation";
}

struct Receiver {
  explicit Receiver(Ipv4Address sourceFilter = 0) {
    format.encoding = PcmEncoding::kL24;
    format.channels = 2;
    PlayoutConfig pc;
    pc.channels = 2;
    pc.capacityFrames = 4096;
    playout = std::make_unique<PlayoutBuffer>(pc);
    RtpReceiverConfig rc;
    rc.destination = parseEndpoint("239.69.161.1:5004");
    rc.sourceFilter = sourceFilter;
    rc.format = format;
    rx = std::make_unique<RtpReceiver>(rc, *playout);
  }
  RtpStreamFormat format;
  std::unique_ptr<PlayoutBuffer> playout;
  std::unique_ptr<RtpReceiver> rx;
};

// A well-formed 1 ms L24 stereo packet into `out` (12 + 288 bytes).
std::size_t packet(std::uint8_t* out, std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc) {
  RtpHeaderFields h;
  h.payloadType = 96;
  h.sequenceNumber = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  writeRtpHeader(h, out);
  for (std::size_t i = 0; i < 48 * 6; ++i) out[kRtpHeaderSize + i] = static_cast<std::uint8_t>(i * 7 + seq);
  return kRtpHeaderSize + 48 * 6;
}

// The real sender's stream, read by the device as it plays, with 1,000 other senders
// (each its own address and SSRC, random sequence numbers and timestamps) interleaved.
// With the SDP's source filter, every stranger is dropped as wrong-source and the real
// stream plays untouched; the heap does not move.
TEST(RtpReceiverBounds, AThousandUnknownSourcesAreDroppedByTheSourceFilterAndMemoryStaysFlat) {
  const Ipv4Address sender = parseIpv4("10.67.0.1");
  Receiver r(sender);
  Prng prng(1000);
  std::vector<std::uint8_t> buf(2048);
  std::vector<float> out(2 * 48);
  DatagramInfo real;
  real.source = {sender, 5004};
  HeapWatch heap;
  std::uint32_t sent = 0;
  auto sendReal = [&] {
    const std::size_t n = packet(buf.data(), static_cast<std::uint16_t>(sent), sent * 48, 0x5EA1);
    r.rx->handle(buf.data(), n, real);
    // The reader plays one packet behind the newest.
    if (sent > 0) r.playout->read(static_cast<SampleTime>(sent - 1) * 48, out.data(), 48);
    ++sent;
  };
  auto strangers = [&](std::uint32_t count) {
    for (std::uint32_t k = 0; k < count; ++k) {
      DatagramInfo from;
      from.source = {parseIpv4("10.67.1.0") + k, static_cast<std::uint16_t>(5004 + k)};
      const std::size_t n = packet(buf.data(), static_cast<std::uint16_t>(prng.next()), static_cast<std::uint32_t>(prng.next()),
                                   static_cast<std::uint32_t>(prng.next()));
      r.rx->handle(buf.data(), n, from);
      if (k % 10 == 0) sendReal();
    }
  };
  strangers(1000);  // warm-up
  heap.mark();
  for (int round = 0; round < 20; ++round) strangers(1000);
  const RtpReceiverStats& s = r.rx->stats();
  EXPECT_EQ(droppedFor(s, RtpDropReason::kWrongSource), 21u * 1000);
  EXPECT_EQ(s.accepted, sent);
  EXPECT_EQ(s.ssrcChanges, 0u);
  EXPECT_EQ(s.lost, 0u);
  expectEveryDatagramAccountedFor(s);
  EXPECT_EQ(r.playout->stats().glitches, 0u);
  EXPECT_EQ(r.playout->stats().framesMissing, 0u);
  EXPECT_EQ(heap.growth(), 0) << "heap grew while strangers were dropped";
  EXPECT_EQ(heap.peakAbove(), 0) << "the receive path allocated";
  std::printf("[ bounds ] 21,000 datagrams from 1,000 unknown sources: heap growth %lld bytes, peak above warm-up %lld bytes\n",
              static_cast<long long>(heap.growth()), static_cast<long long>(heap.peakAbove()));
  report("rtp-unknown-sources-filtered", {{"datagrams", static_cast<long long>(s.received)},
                                          {"wrongSource", static_cast<long long>(droppedFor(s, RtpDropReason::kWrongSource))},
                                          {"heapGrowthBytes", heap.growth()},
                                          {"heapPeakBytes", heap.peakAbove()}});
}

// Without a source filter (an SDP with none) the receiver locks to the first SSRC that
// passes probation and drops every other SSRC while the locked one is alive (the SSRC
// policy in rtp_receiver.hpp): a thousand strangers, one between each two packets of the
// real sender, are counted as other-ssrc and the real stream plays on untouched. Nothing
// grows: the probation table is fixed-size.
TEST(RtpReceiverBounds, AThousandUnknownSsrcsWithoutAFilterAreCountedAndMemoryStaysFlat) {
  Receiver r;
  Prng prng(1001);
  std::vector<std::uint8_t> buf(2048);
  std::vector<float> out(2 * 48);
  DatagramInfo from;
  from.source = parseEndpoint("10.67.0.1:5004");
  HeapWatch heap;
  std::uint32_t sent = 0;
  std::uint64_t strangers = 0;
  auto round = [&] {
    for (std::uint32_t k = 0; k < 1000; ++k) {
      // The real sender's packets arrive every millisecond, a stranger's half-way between.
      from.receivedAt = static_cast<Nanoseconds>(sent) * 1'000'000 - 500'000;
      std::size_t n = packet(buf.data(), static_cast<std::uint16_t>(prng.next()), static_cast<std::uint32_t>(prng.next()),
                             0x10000000u + k);
      r.rx->handle(buf.data(), n, from);
      ++strangers;
      from.receivedAt += 500'000;
      n = packet(buf.data(), static_cast<std::uint16_t>(sent), sent * 48, 0x5EA1);
      r.rx->handle(buf.data(), n, from);
      if (sent > 0) r.playout->read(static_cast<SampleTime>(sent - 1) * 48, out.data(), 48);
      ++sent;
    }
  };
  round();  // warm-up
  heap.mark();
  for (int i = 0; i < 10; ++i) round();
  const RtpReceiverStats& s = r.rx->stats();
  expectEveryDatagramAccountedFor(s);
  EXPECT_EQ(s.received, 2u * 11 * 1000);
  EXPECT_TRUE(s.locked);
  EXPECT_EQ(s.ssrc, 0x5EA1u);
  EXPECT_EQ(s.ssrcChanges, 0u) << "the first lock is not a change, and no stranger took over";
  // The first stranger came first and was played at once (nothing to protect yet); the real
  // sender's first packet, kept aside for probation, was displaced by the second stranger's;
  // its second packet completed probation and displaced the never-valid stranger at once;
  // the second stranger's packet, still aside, was dropped. From then on every stranger is
  // other-ssrc.
  EXPECT_EQ(droppedFor(s, RtpDropReason::kProbation), 2u);
  EXPECT_EQ(droppedFor(s, RtpDropReason::kOtherSsrc), strangers - 2);
  EXPECT_EQ(s.accepted, (sent - 1) + 1);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(r.playout->stats().framesMissing, 0u) << "the real stream kept playing";
  EXPECT_EQ(r.playout->stats().glitches, 0u);
  EXPECT_EQ(heap.growth(), 0);
  EXPECT_EQ(heap.peakAbove(), 0);
  std::printf("[ bounds ] 11,000 unknown SSRCs, no filter: %llu other-ssrc, %llu probation, %llu SSRC changes, heap growth %lld bytes\n",
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kOtherSsrc)),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kProbation)),
              static_cast<unsigned long long>(s.ssrcChanges), static_cast<long long>(heap.growth()));
  report("rtp-unknown-ssrcs-unfiltered", {{"datagrams", static_cast<long long>(s.received)},
                                          {"otherSsrc", static_cast<long long>(droppedFor(s, RtpDropReason::kOtherSsrc))},
                                          {"framesMissing", static_cast<long long>(r.playout->stats().framesMissing)},
                                          {"heapGrowthBytes", heap.growth()},
                                          {"heapPeakBytes", heap.peakAbove()}});
}

// The SSRC policy's own work allocates nothing: 200 sender reboots in a row (each a new
// SSRC, sequence and timestamp base after 100 ms of silence, longer than the hold-off), so
// 200 probations, packets kept
// aside and played, takeovers and timestamp re-anchors, while the device reads on. Each
// reboot is counted once, no packet is dropped, and the heap does not move.
TEST(RtpReceiverBounds, SenderRebootsTakeoversAndReanchorsAllocateNothing) {
  Receiver r;
  Prng prng(95);
  std::vector<std::uint8_t> buf(2048);
  std::vector<float> out(2 * 48);
  DatagramInfo from;
  from.source = parseEndpoint("10.67.0.1:5004");
  SampleTime readAt = 0;
  Nanoseconds now = 0;
  auto life = [&] {  // one boot of the sender: 50 packets of 1 ms, then 100 ms of silence
    const auto ssrc = static_cast<std::uint32_t>(prng.next());
    const auto seq = static_cast<std::uint16_t>(prng.next());
    const auto ts = static_cast<std::uint32_t>(prng.next());
    for (std::uint32_t k = 0; k < 50; ++k) {
      from.receivedAt = now;
      const std::size_t n = packet(buf.data(), static_cast<std::uint16_t>(seq + k), ts + k * 48, ssrc);
      r.rx->handle(buf.data(), n, from);
      r.playout->read(readAt, out.data(), 48);
      readAt += 48;
      now += 1'000'000;
    }
    for (int k = 0; k < 100; ++k) {
      r.playout->read(readAt, out.data(), 48);
      readAt += 48;
      now += 1'000'000;
    }
  };
  for (int i = 0; i < 5; ++i) life();  // warm-up
  const RtpReceiverStats& s = r.rx->stats();
  // (Warm-up: with no media clock the first packet ever lands where its own timestamp says,
  // far from the reader; the next one is dropped as out of the window and the third re-anchors.)
  const std::uint64_t droppedBefore = s.droppedTotal();
  const std::uint64_t resyncsBefore = s.timestampResyncs;
  HeapWatch heap;
  for (int i = 0; i < 200; ++i) life();
  EXPECT_EQ(s.ssrcChanges, 204u) << "every reboot after the first boot, once";
  EXPECT_EQ(s.timestampResyncs - resyncsBefore, 200u) << "each new timestamp base, once";
  EXPECT_EQ(s.droppedTotal(), droppedBefore);
  expectEveryDatagramAccountedFor(s);
  EXPECT_EQ(heap.growth(), 0);
  EXPECT_EQ(heap.peakAbove(), 0);
}

// Every length from 0 to 12 bytes, the header alone, headers announcing CSRCs, extensions
// and padding they do not carry, partial frames and payloads past the decode buffer: each
// dropped for its own reason, none accepted.
TEST(RtpReceiverBounds, UndersizeHeaderOnlyAndPartialFrameDatagramsAreDroppedByReason) {
  Receiver r;
  DatagramInfo from;
  from.source = parseEndpoint("10.67.0.1:5004");
  std::vector<std::uint8_t> buf(20000);
  packet(buf.data(), 1, 0, 0x5EA1);
  for (std::size_t n = 0; n < kRtpHeaderSize; ++n) r.rx->handle(buf.data(), n, from);
  EXPECT_EQ(droppedFor(r.rx->stats(), RtpDropReason::kTruncated), kRtpHeaderSize);
  r.rx->handle(buf.data(), kRtpHeaderSize, from);  // header only: no audio
  for (std::size_t frameBytes = 1; frameBytes < 6; ++frameBytes) r.rx->handle(buf.data(), kRtpHeaderSize + 6 + frameBytes, from);
  EXPECT_EQ(droppedFor(r.rx->stats(), RtpDropReason::kBadPayloadSize), 1u + 5u);
  // Far more audio than the receive buffer holds (a 19,998-byte payload of whole frames).
  r.rx->handle(buf.data(), kRtpHeaderSize + 6 * 3331, from);
  EXPECT_EQ(droppedFor(r.rx->stats(), RtpDropReason::kBadPayloadSize), 7u);
  // 15 CSRCs announced in a 40-byte datagram; an extension of 65535 words; bad padding.
  std::vector<std::uint8_t> p(buf.begin(), buf.begin() + 300);
  p[0] = 0x8F;
  r.rx->handle(p.data(), 40, from);
  p[0] = 0x90;
  p[12] = 0xBE, p[13] = 0xDE, p[14] = 0xFF, p[15] = 0xFF;
  r.rx->handle(p.data(), p.size(), from);
  EXPECT_EQ(droppedFor(r.rx->stats(), RtpDropReason::kTruncated), kRtpHeaderSize + 2);
  p[0] = 0xA0;
  p[99] = 0xFF;  // 255 bytes of padding in an 88-byte payload
  r.rx->handle(p.data(), 100, from);
  p[99] = 0;     // a padding count of zero
  r.rx->handle(p.data(), 100, from);
  EXPECT_EQ(droppedFor(r.rx->stats(), RtpDropReason::kBadPadding), 2u);
  const RtpReceiverStats& s = r.rx->stats();
  EXPECT_EQ(s.accepted, 0u);
  EXPECT_EQ(r.playout->stats().framesWritten, 0u);
  expectEveryDatagramAccountedFor(s);
}

// Through the network path: datagrams from 9,217 bytes (one past the receive buffer) up to
// the largest UDP payload are truncated by the socket and dropped as oversize; the stream's
// own packets around them still play. The receiver's heap does not move; the network's
// in-flight copies are released once received.
TEST(RtpReceiverBounds, OversizeDatagramsAreDroppedAsOversizeAndTheStreamPlaysOn) {
  VirtualClock clock(0);
  VirtualNetwork network(clock, 0);
  network.addHost("tx", parseIpv4("10.67.0.1"));
  network.addHost("rx", parseIpv4("10.67.0.2"));
  RtpStreamFormat format;
  format.encoding = PcmEncoding::kL24;
  format.channels = 2;
  PlayoutConfig pc;
  pc.channels = 2;
  PlayoutBuffer playout(pc);
  RtpReceiverConfig rc;
  rc.destination = parseEndpoint("239.69.161.2:5004");
  rc.format = format;
  RtpReceiver rx(network.host(parseIpv4("10.67.0.2")), rc, playout);
  auto socket = network.host(parseIpv4("10.67.0.1")).open(SocketOptions{});
  std::vector<std::uint8_t> big(65507);
  std::vector<float> out(2 * 48);
  std::uint32_t sent = 0;
  auto real = [&] {
    const std::size_t n = packet(big.data(), static_cast<std::uint16_t>(sent), sent * 48, 0x5EA1);
    socket->send(rc.destination, big.data(), n);
    rx.poll();
    if (sent > 0) playout.read(static_cast<SampleTime>(sent - 1) * 48, out.data(), 48);
    ++sent;
  };
  auto oversize = [&](std::size_t size) {
    packet(big.data(), static_cast<std::uint16_t>(sent), sent * 48, 0x5EA1);
    socket->send(rc.destination, big.data(), size);
    rx.poll();
  };
  real();
  oversize(9217);
  real();
  HeapWatch heap;
  std::uint64_t oversized = 1;
  for (std::size_t size = 9217; size <= 65507; size += 997, ++oversized) {
    oversize(size);
    real();
  }
  oversize(65507);
  ++oversized;
  const RtpReceiverStats& s = rx.stats();
  EXPECT_EQ(droppedFor(s, RtpDropReason::kOversize), oversized);
  EXPECT_EQ(s.accepted, sent);
  EXPECT_EQ(playout.stats().framesMissing, 0u);
  expectEveryDatagramAccountedFor(s);
  EXPECT_EQ(heap.growth(), 0) << "in-flight copies were not released";
  // One datagram in flight at a time: its copy plus the network's bookkeeping.
  EXPECT_LT(heap.peakAbove(), 65507 + 4096);
  std::printf("[ bounds ] %llu oversize datagrams up to 65,507 bytes: heap growth %lld bytes, peak above start %lld bytes\n",
              static_cast<unsigned long long>(oversized), static_cast<long long>(heap.growth()),
              static_cast<long long>(heap.peakAbove()));
  report("rtp-oversize", {{"datagrams", static_cast<long long>(oversized)},
                          {"heapGrowthBytes", heap.growth()},
                          {"heapPeakBytes", heap.peakAbove()}});
}

// 200,000 random datagrams (random length 0-1,500, random bytes; half of them given a
// valid version so they get past the first check): no crash, each one accounted for, no
// heap growth. Then the real stream still plays.
TEST(RtpReceiverBounds, RandomGarbageIsCountedNeverCrashesAndDoesNotGrowMemory) {
  Receiver r;
  Prng prng(0xBAD);
  std::vector<std::uint8_t> buf(1500);
  DatagramInfo from;
  from.source = parseEndpoint("10.67.0.1:5004");
  auto garbage = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const std::size_t n = static_cast<std::size_t>(prng.below(buf.size() + 1));
      for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(prng.next());
      if (n > 0 && (i & 1)) buf[0] = static_cast<std::uint8_t>(0x80 | (buf[0] & 0x3F));
      if (n > 1 && (i & 2)) buf[1] = static_cast<std::uint8_t>((buf[1] & 0x80) | 96);  // our payload type
      r.rx->handle(buf.data(), n, from);
    }
  };
  garbage(10000);  // warm-up
  HeapWatch heap;
  garbage(190000);
  const RtpReceiverStats& s = r.rx->stats();
  EXPECT_EQ(s.received, 200000u);
  expectEveryDatagramAccountedFor(s);
  for (RtpDropReason reason : {RtpDropReason::kTruncated, RtpDropReason::kBadVersion, RtpDropReason::kBadPadding,
                               RtpDropReason::kWrongPayloadType, RtpDropReason::kBadPayloadSize}) {
    EXPECT_GT(droppedFor(s, reason), 0u) << toString(reason) << ": garbage should reach every parse check";
  }
  EXPECT_EQ(heap.growth(), 0);
  EXPECT_EQ(heap.peakAbove(), 0);
  // Garbage that parsed as our stream (all of it "arriving" at time 0) may have locked a
  // random SSRC; a real sender starting a second later, after the hold-off, is taken up after
  // probation and every one of its packets plays (the first was kept aside).
  const std::uint64_t acceptedBefore = s.accepted;
  for (std::uint32_t k = 0; k < 100; ++k) {
    const std::size_t n = packet(buf.data(), static_cast<std::uint16_t>(k), 0x40000000u + k * 48, 0x5EA1);
    from.receivedAt = kNanosPerSecond + static_cast<Nanoseconds>(k) * 1'000'000;
    r.rx->handle(buf.data(), n, from);
  }
  EXPECT_EQ(s.accepted - acceptedBefore, 100u);
  EXPECT_EQ(s.ssrc, 0x5EA1u);
  expectEveryDatagramAccountedFor(s);
  std::printf("[ bounds ] 200,000 garbage datagrams: accepted %llu, dropped %llu (truncated %llu, bad-version %llu, "
              "bad-padding %llu, wrong-payload-type %llu, bad-payload-size %llu), heap growth %lld bytes\n",
              static_cast<unsigned long long>(acceptedBefore), static_cast<unsigned long long>(s.droppedTotal()),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kTruncated)),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kBadVersion)),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kBadPadding)),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kWrongPayloadType)),
              static_cast<unsigned long long>(droppedFor(s, RtpDropReason::kBadPayloadSize)),
              static_cast<long long>(heap.growth()));
  report("rtp-garbage", {{"datagrams", 200000}, {"heapGrowthBytes", heap.growth()}, {"heapPeakBytes", heap.peakAbove()}});
}

}  // namespace
}  // namespace aes67
