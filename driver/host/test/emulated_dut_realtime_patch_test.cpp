// Streams patched while the real-time IO thread runs (issue 9): a TX stream added, an RX
// stream added, then removed, on the real clock with UDP on the loopback interface (the
// test's own sockets on ephemeral ports, nothing else). The IO thread reads the device's
// bindings while this thread (the network thread's role) swaps them: run under
// ThreadSanitizer (ci/sanitizers tsan) this is the proof that the hand-over has no race;
// here it checks what the wire shows: the TX streams already running step one packet
// through every change, the new TX stream's timestamps are on the media clock's packet
// grid, the RX stream already running is not anchored again, the added RX stream's audio
// comes back and stops when it is removed, and no change stopped IO.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "driver/host/test/test_ports.hpp"
#include "engine/base/clock.hpp"
#include "engine/base/udp_transport.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {
namespace {

DutTransmitStream out(const std::string& id, Ipv4Endpoint to, std::uint32_t ssrc, std::vector<std::uint32_t> channels) {
  DutTransmitStream t;
  t.id = id;
  t.stream.name = "DUT " + id;
  t.stream.destination = to;
  t.stream.format.channels = 2;
  t.stream.format.payloadType = 96;
  t.stream.framesPerPacket = 48;
  t.deviceChannels = std::move(channels);
  t.ssrc = ssrc;
  return t;
}

// A sender-clocked stream to the DUT on the loopback interface (GStreamer's kind of SDP).
DutReceiveStream in(const std::string& id, std::uint16_t port, std::vector<std::uint32_t> channels) {
  DutReceiveStream r;
  r.id = id;
  r.sdp = "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=" + id + "\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " + std::to_string(port) +
          " RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n";
  r.deviceChannels = std::move(channels);
  return r;
}

struct Heard {
  std::vector<std::uint16_t> sequence;
  std::vector<std::uint32_t> timestamp;
  std::vector<Nanoseconds> arrival;
  std::vector<float> audio;  // channel 1
};

void stepsOnePacket(const Heard& h, const char* id) {
  ASSERT_GT(h.sequence.size(), 100u) << id;
  for (std::size_t k = 1; k < h.sequence.size(); ++k) {
    const auto ds = static_cast<std::uint16_t>(h.sequence[k] - h.sequence[k - 1]);
    const std::uint32_t dt = h.timestamp[k] - h.timestamp[k - 1];
    if (ds != 1 || dt != 48) {
      ADD_FAILURE() << id << ": packet " << k << " of " << h.sequence.size() << ": sequence +" << ds << ", timestamp +" << dt
                    << " (one packet is +1, +48)";
      return;
    }
  }
}

TEST(EmulatedDutRealTime, StreamsPatchedWhileIoRunsLeaveTheOthersWithoutAStep) {
  RealClock clock;
  UdpTransport transport(clock, "lo");
  SocketOptions ro;
  ro.bindAddress = 0x7F000001;
  auto lab = transport.open(ro);
  const Ipv4Endpoint to = lab->localEndpoint();
  // Two free ports for the DUT's RX streams: the system's pick, released for the DUT.
  std::uint16_t port1 = 0, port2 = 0;
  {
    auto p1 = transport.open(ro);
    auto p2 = transport.open(ro);
    port1 = p1->localEndpoint().port;
    port2 = p2->localEndpoint().port;
  }

  // Two senders on their own clocks, 40 and 50 minutes away from the DUT's.
  LocalMediaClock clock1(48000, 2'400'000'000'000), clock2(48000, 3'000'000'000'000);
  constexpr std::size_t kFrames = 48000 * 3;
  FrameRingBuffer ring1(1 << 18, 2), ring2(1 << 18, 2);
  std::vector<float> audio(2 * kFrames);
  for (int which = 0; which < 2; ++which) {
    for (std::size_t i = 0; i < kFrames; ++i) {
      for (std::uint32_t ch = 0; ch < 2; ++ch) audio[i * 2 + ch] = test::signature(static_cast<SampleTime>(i + which * 30000), ch);
    }
    (which == 0 ? ring1 : ring2).push(audio.data(), kFrames);
  }
  RtpTransmitterConfig sc;
  sc.destination = {0x7F000001, port1};
  sc.format.channels = 2;
  sc.format.payloadType = 97;
  sc.framesPerPacket = 48;
  sc.ssrc = 0x600d;
  RtpTransmitter sender1(transport, sc, ring1, clock1);
  sc.destination = {0x7F000001, port2};
  sc.ssrc = 0x600e;
  RtpTransmitter sender2(transport, sc, ring2, clock2);

  EmulatedDutConfig c;
  c.device.inputChannels = c.device.outputChannels = 4;
  c.ioBufferFrames = 64;
  c.linkOffsetFrames = 960;  // 20 ms: this loop polls every ~0.2 ms on a busy machine
  c.realTimePriority = false;
  c.receive.push_back(in("in1", port1, {0, 1}));
  c.transmit.push_back(out("a", to, 0xA, {0, 1}));
  c.transmit.push_back(out("c", to, 0xC, {2, 3}));
  EmulatedDut dut(transport, c);
  dut.startRealTime();
  sender1.start(clock1.sampleAt(clock.now()));
  sender2.start(clock2.sampleAt(clock.now()));

  Heard a, b, cc;
  std::vector<std::uint8_t> buf(9216);
  std::vector<float> decoded(2 * 48);
  auto runFor = [&](std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      sender1.poll();
      sender2.poll();
      dut.poll();
      while (auto info = lab->receive(buf.data(), buf.size())) {
        RtpPacketView p;
        if (parseRtp(buf.data(), info->size, p) != RtpParseError::kNone) continue;
        Heard& h = p.ssrc == 0xA ? a : p.ssrc == 0xB ? b : cc;
        h.sequence.push_back(p.sequenceNumber);
        h.timestamp.push_back(p.timestamp);
        h.arrival.push_back(info->receivedAt);
        decodePcm(PcmEncoding::kL24, p.payload, 2 * 48, decoded.data());
        for (std::size_t i = 0; i < 48; ++i) h.audio.push_back(decoded[i * 2]);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  runFor(std::chrono::milliseconds(300));
  const std::uint64_t changes = dut.host().stats().configurationChanges;
  dut.addTransmit(out("b", to, 0xB, {0, 1}));
  runFor(std::chrono::milliseconds(300));
  dut.addReceive(in("in2", port2, {2, 3}));
  runFor(std::chrono::milliseconds(400));
  const std::size_t cBeforeRemoval = cc.audio.size();
  dut.removeStream("in2");
  runFor(std::chrono::milliseconds(300));
  dut.stop();

  EXPECT_EQ(dut.host().stats().configurationChanges, changes) << "a patch stopped IO";
  stepsOnePacket(a, "a");
  stepsOnePacket(cc, "c");
  stepsOnePacket(b, "b");
  // 'b' on the media clock's packet grid: its first timestamp, unwrapped by the DUT's media
  // clock at arrival, is a whole number of packets.
  ASSERT_FALSE(b.timestamp.empty());
  const SampleTime atArrival = dut.mediaClock().sampleAt(b.arrival[0]);
  const SampleTime firstMedia = atArrival - static_cast<std::uint32_t>(static_cast<std::uint32_t>(atArrival) - b.timestamp[0]);
  EXPECT_EQ(((firstMedia % 48) + 48) % 48, 0) << "'b' starts off the packet grid (media time " << firstMedia << ")";
  // The RX stream already running was never anchored again for the device's sake (a drift
  // re-anchor under load is the sender's, counted apart).
  const SenderClockAlignerStats* in1 = dut.alignerStats(0);
  ASSERT_NE(in1, nullptr);
  EXPECT_EQ(in1->anchors - in1->driftRealigns, 1u) << "'in1' was anchored again";
  // 'c' carried sender 2's audio while 'in2' was patched in, and silence at the end.
  std::size_t heard2 = 0;
  for (std::size_t i = 0; i < cBeforeRemoval && i < cc.audio.size(); ++i) {
    const float v = cc.audio[i];
    const SampleTime k = static_cast<SampleTime>(std::lround(v * 2097152.0f - 1.0f)) / 16;
    if (v != 0.0f && k >= 30000) ++heard2;
  }
  EXPECT_GT(heard2, 48u * 100) << "'in2' never reached 'c'";
  ASSERT_GT(cc.audio.size(), cBeforeRemoval + 48 * 150);
  for (std::size_t i = cc.audio.size() - 48 * 100; i < cc.audio.size(); ++i) {
    ASSERT_EQ(cc.audio[i], 0.0f) << "'c' still carried 'in2' " << (cc.audio.size() - i) / 48 << " packets before the end";
  }
  EXPECT_EQ(dut.retiredPorts(), 0u);
}

}  // namespace
}  // namespace aes67
