// The emulated DUT on the virtual network: a sender (the engine's RtpTransmitter on another
// host) -> DUT (receiver, playout, device, HAL loopback, transmitter) -> a plain socket on
// a third host. The audio comes back sample-identical, displaced in media time by exactly
// link offset + input safety + 2 x buffer + output safety, and every stamp is consistent.
// (native/test/driver-roundtrip.test.ts crosses the same path with the lab's own codecs.)
#include "driver/host/emulated_dut.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <tuple>

#include "driver/host/test/test_ports.hpp"
#include "engine/base/virtual_network.hpp"
#include "engine/rtp/pcm_codec.hpp"
#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {
namespace {

constexpr Ipv4Address kSender = 0x0A000001, kDut = 0x0A000002, kLab = 0x0A000003;

RtpStreamDescription stream(const std::string& name, Ipv4Endpoint destination, std::uint32_t rate, std::uint32_t frames) {
  RtpStreamDescription s;
  s.name = name;
  s.destination = destination;
  s.format.encoding = PcmEncoding::kL24;
  s.format.channels = 2;
  s.format.sampleRate = rate;
  s.format.payloadType = 97;
  s.format.mediaclkOffset = 0x12345678;
  s.framesPerPacket = frames;
  return s;
}

EmulatedDutConfig dutConfig(std::uint32_t rate, std::uint32_t buffer, std::uint32_t ptime, std::uint32_t linkOffset) {
  EmulatedDutConfig c;
  c.device.sampleRate = rate;
  c.device.inputChannels = 4;
  c.device.outputChannels = 4;
  c.ioBufferFrames = buffer;
  c.linkOffsetFrames = linkOffset;
  c.receive.push_back({stream("in", {0xEF450001, 5004}, rate, ptime), {0, 1}});
  c.transmit.push_back({stream("out", {0xEF450002, 5004}, rate, ptime), {0, 1}});
  return c;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(EmulatedDut, ConfigurationErrorsNameTheStream) {
  VirtualClock clock;
  VirtualNetwork net(clock);
  Transport& t = net.addHost("dut", kDut);
  LocalMediaClock media(48000);
  EmulatedDutConfig c = dutConfig(48000, 64, 48, 48);
  c.receive[0].stream.format.sampleRate = 96000;
  EXPECT_EQ(errorOf([&] { EmulatedDut d(t, media, c); }), "stream 'in' runs at 96000 Hz but the device at 48000 Hz");
  c = dutConfig(48000, 64, 48, 24);
  EXPECT_EQ(errorOf([&] { EmulatedDut d(t, media, c); }),
            "link offset 24 frames is shorter than stream 'in''s packet time (48 frames): every packet would be late");
  c = dutConfig(48000, 64, 48, 48);
  c.transmit[0].deviceChannels = {0, 4};
  EXPECT_EQ(errorOf([&] { EmulatedDut d(t, media, c); }), "stream 'out': output channel 5 does not exist (the device has 4)");
  c = dutConfig(48000, 64, 48, 48);
  c.receive[0].stream.framesPerPacket = 0;
  EXPECT_EQ(errorOf([&] { EmulatedDut d(t, media, c); }), "stream 'in': 0 frames per packet: check a=ptime");
  c = dutConfig(48000, 8, 48, 48);
  EXPECT_EQ(errorOf([&] { EmulatedDut d(t, media, c); }), "ioBufferFrames 8 is out of range: use 16-4096");
  c = dutConfig(48000, 64, 48, 48);
  c.loopbackMap = {0, 1, 2, 9};
  EXPECT_NE(errorOf([&] { EmulatedDut d(t, media, c); }).find("output 4 takes input 10"), std::string::npos);
}

// The lab's two ways to make a device late on purpose (issue 11, late packets into Dante):
// host load wakes each IO cycle up to ioWakeDelayMaxNs after its predicted time (seeded,
// repeatable), and sendOffsetNs holds every sent packet that long past its due time.
TEST(EmulatedDut, HostLoadWakesIoCyclesLateAndSendOffsetDelaysEveryPacket) {
  auto run = [](Nanoseconds wakeDelay, Nanoseconds sendOffset, std::uint64_t seed) {
    VirtualClock clock(1'000'000'000);
    VirtualNetwork net(clock);
    Transport& dutHost = net.addHost("dut", kDut);
    LocalMediaClock media(48000, -1'000'000'000'000);
    EmulatedDutConfig c = dutConfig(48000, 64, 48, 96);
    c.receive.clear();
    c.ioWakeDelayMaxNs = wakeDelay;
    c.ioWakeSeed = seed;
    c.transmit[0].sendOffsetNs = sendOffset;
    EmulatedDut dut(dutHost, media, c);
    dut.start();
    const Nanoseconds end = clock.now() + 500'000'000;
    while (clock.now() < end) {
      net.deliverDue();
      const Nanoseconds next = std::min(dut.poll(), net.nextDeliveryTime());
      clock.advanceTo(std::min(std::max(next, clock.now() + 1), end));
    }
    // Send time minus when the packet's last frame was due, over every sent packet.
    Nanoseconds minLate = std::numeric_limits<Nanoseconds>::max(), maxLate = std::numeric_limits<Nanoseconds>::min();
    PacketStamp s;
    std::uint64_t sent = 0;
    while (dut.packetLog().pop(s)) {
      if (s.direction != PacketStamp::Direction::kSent) continue;
      const Nanoseconds late = s.hostTime - media.localTimeOf(s.mediaTime + s.frames);
      minLate = std::min(minLate, late);
      maxLate = std::max(maxLate, late);
      ++sent;
    }
    return std::tuple{dut.host().stats().maxLatenessNs, minLate, maxLate, sent};
  };
  const auto [onTime, min0, max0, sent0] = run(0, 0, 1);
  EXPECT_EQ(onTime, 0);
  EXPECT_EQ(min0, 0);
  EXPECT_EQ(max0, 0);
  EXPECT_GT(sent0, 450u);
  // 2 ms of host load: cycles wake late, up to the bound, and within the device's output
  // headroom (buffer + output safety offset) the packets still leave on time.
  const auto [loaded, minL, maxL, sentL] = run(2'000'000, 0, 7);
  EXPECT_GT(loaded, 1'500'000);
  EXPECT_LE(loaded, 2'000'000);
  EXPECT_EQ(maxL, 0);
  EXPECT_EQ(std::get<0>(run(2'000'000, 0, 7)), loaded) << "the same seed wakes the same cycles";
  // A 2.5 ms send offset: every packet exactly that late.
  const auto [_, minS, maxS, sentS] = run(0, 2'500'000, 1);
  EXPECT_EQ(minS, 2'500'000);
  EXPECT_EQ(maxS, 2'500'000);
  EXPECT_GT(sentS, 450u);
  (void)minL;
  (void)sentL;
}

TEST(EmulatedDut, LoopsAudioBackSampleIdenticalWithTheConfiguredLatency) {
  for (auto [rate, buffer, ptime] : {std::tuple{48000u, 32u, 6u}, std::tuple{96000u, 256u, 96u}, std::tuple{48000u, 256u, 48u}}) {
    VirtualClock clock(1'000'000'000);
    VirtualNetwork net(clock, 150'000);  // 150 us on the wire
    Transport& senderHost = net.addHost("sender", kSender);
    Transport& dutHost = net.addHost("dut", kDut);
    Transport& labHost = net.addHost("lab", kLab);
    LocalMediaClock media(rate, -1'000'000'000'000);  // every host shares the media clock (PTP locked)
    const std::uint32_t linkOffset = ptime + static_cast<std::uint32_t>(rate / 1000);  // a packet + 1 ms
    EmulatedDut dut(dutHost, media, dutConfig(rate, buffer, ptime, linkOffset));

    // The sender: 2 channels of signature audio from media time m0 for 0.2 s.
    const SampleTime m0 = media.sampleAt(clock.now()) + 1000;
    const std::size_t frames = rate / 5;
    FrameRingBuffer senderRing(frames * 2, 2);
    std::vector<float> audio(frames * 2);
    for (std::size_t i = 0; i < frames; ++i) {
      for (std::uint32_t c = 0; c < 2; ++c) audio[i * 2 + c] = test::signature(m0 + static_cast<SampleTime>(i), c);
    }
    ASSERT_EQ(senderRing.push(audio.data(), frames), frames);
    RtpTransmitterConfig sc;
    sc.destination = {0xEF450001, 5004};
    sc.format = dut.config().receive[0].stream.format;
    sc.framesPerPacket = ptime;
    RtpTransmitter sender(senderHost, sc, senderRing, media);
    sender.start(m0);

    SocketOptions lo;
    lo.localPort = 5004;
    lo.bindAddress = 0xEF450002;
    auto lab = labHost.open(lo);
    lab->joinMulticast(0xEF450002);

    dut.start();
    std::map<SampleTime, std::array<float, 2>> back;  // by media time
    std::vector<std::uint8_t> buf(9216);
    std::vector<float> decoded(2 * 2048);
    std::uint64_t labPackets = 0;
    auto drainLab = [&] {
      while (auto info = lab->receive(buf.data(), buf.size())) {
        RtpPacketView p;
        ASSERT_EQ(parseRtp(buf.data(), info->size, p), RtpParseError::kNone);
        ASSERT_EQ(info->dscp, 34);
        const std::size_t n = p.payloadSize / 6;
        decodePcm(PcmEncoding::kL24, p.payload, n * 2, decoded.data());
        const SampleTime m = mediaTimeOf(p.timestamp, 0x12345678, media.sampleAt(info->receivedAt));
        // Departure = when the packet's last frame is due, plus the network's 150 us.
        ASSERT_EQ(info->receivedAt, media.localTimeOf(m + static_cast<SampleTime>(n)) + 150'000);
        for (std::size_t i = 0; i < n; ++i) back[m + static_cast<SampleTime>(i)] = {decoded[i * 2], decoded[i * 2 + 1]};
        ++labPackets;
      }
    };
    // Until the sender's audio has had time to come back (its 0.2 s plus 0.1 s).
    const Nanoseconds end = clock.now() + 300'000'000;
    while (clock.now() < end) {
      net.deliverDue();
      Nanoseconds next = dut.poll();
      const Nanoseconds senderDue = sender.poll();
      if (senderDue > clock.now()) next = std::min(next, senderDue);  // not due in the past: it has run dry
      drainLab();
      next = std::min(next, net.nextDeliveryTime());
      clock.advanceTo(std::min(std::max(next, clock.now() + 1), end));
    }
    clock.advanceBy(1'000'000);  // what is still on the wire arrives
    net.deliverDue();
    drainLab();
    const Device& d = dut.device();
    const SampleTime rt = linkOffset + d.inputSafetyOffsetFrames() + 2 * SampleTime{buffer} + d.outputSafetyOffsetFrames();
    ASSERT_EQ(d.inputLatencyFrames(), linkOffset);
    ASSERT_EQ(d.inputSafetyOffsetFrames(), ptime);
    ASSERT_EQ(d.outputSafetyOffsetFrames(), ptime);
    // Every frame of the sender's audio came back, in place.
    std::size_t matched = 0;
    for (std::size_t i = 0; i < frames; ++i) {
      auto it = back.find(m0 + static_cast<SampleTime>(i) + rt);
      if (it == back.end()) continue;
      ASSERT_EQ(it->second[0], audio[i * 2]) << "frame " << i;
      ASSERT_EQ(it->second[1], audio[i * 2 + 1]) << "frame " << i;
      ++matched;
    }
    const std::size_t expectedBack = std::min<std::size_t>(frames, static_cast<std::size_t>(back.rbegin()->first - (m0 + rt) + 1));
    EXPECT_EQ(matched, expectedBack) << rate << "/" << buffer << "/" << ptime;
    EXPECT_GT(matched, frames / 2);
    EXPECT_EQ(dut.receiverStats(0).droppedTotal(), 0u);
    // Every frame the sender sent was played; silence only after it stopped.
    EXPECT_EQ(dut.playoutStats(0).framesPlayed, frames);
    EXPECT_LE(dut.playoutStats(0).glitches, 1u);
    EXPECT_EQ(dut.transmitterStats(0).waitingForAudio, 0u);
    EXPECT_EQ(d.counters().inputDiscontinuities + d.counters().outputDiscontinuities, 0u);

    // Stamps: a received packet is presented link offset after its media time; a sent one
    // leaves when its last frame is due.
    std::uint64_t received = 0, sent = 0;
    PacketStamp s;
    while (dut.packetLog().pop(s)) {
      if (s.direction == PacketStamp::Direction::kReceived) {
        ASSERT_TRUE(s.accepted);
        ASSERT_EQ(s.deviceTime - d.timeline().deviceTimeOf(s.mediaTime), linkOffset);
        ASSERT_EQ(s.hostTime, media.localTimeOf(s.mediaTime + ptime) + 150'000);
        ++received;
      } else {
        ASSERT_EQ(s.hostTime, media.localTimeOf(s.mediaTime + ptime));
        ASSERT_EQ(s.rtpTimestamp, rtpTimestampOf(s.mediaTime, 0x12345678));
        ++sent;
      }
    }
    EXPECT_EQ(received, dut.receiverStats(0).received);
    EXPECT_EQ(sent, dut.transmitterStats(0).packetsSent);
    EXPECT_EQ(sent, labPackets);
  }
}

}  // namespace
}  // namespace aes67
