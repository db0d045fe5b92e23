#include "engine/stream/stream_manager.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/virtual_network.hpp"
#include "engine/sdp/sdp_lint.hpp"

namespace aes67 {
namespace {

std::string rxSdp(const std::string& group, int channels = 2, const std::string& extra = "") {
  return "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=src\r\nc=IN IP4 " + group + "/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\n" +
         "a=rtpmap:97 L24/48000/" + std::to_string(channels) + "\r\na=ptime:1\r\n" + extra;
}

TxStreamConfig tx(const std::string& id, const std::string& group) {
  TxStreamConfig c;
  c.id = id;
  c.name = "Out " + id;
  c.destination = parseEndpoint(group + ":5004");
  c.format.channels = 2;
  c.format.mediaclkOffset = 12345;
  return c;
}

struct Lab {
  VirtualClock clock{0};
  VirtualNetwork network{clock, 0};
  Transport& dut = network.addHost("dut", parseIpv4("10.0.0.2"));
  LocalMediaClock media{48000};
};

TEST(StreamManager, TwoRxStreamsOnOneDeviceChannelIsAnErrorNamingBoth) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  m.addRx({"dante-a", rxSdp("239.69.0.1"), {1, 2}});
  try {
    m.addRx({"ravenna-b", rxSdp("239.69.0.2"), {3, 2}});
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'ravenna-b' channel 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'dante-a' channel 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("device input channel 2"), std::string::npos) << msg;
  }
  m.addRx({"ravenna-b", rxSdp("239.69.0.2"), {3, 4}});
  EXPECT_EQ(m.rxIds(), (std::vector<std::string>{"dante-a", "ravenna-b"}));
  // 0 = not routed never collides.
  m.addRx({"c", rxSdp("239.69.0.3"), {0, 5}});
  m.addRx({"d", rxSdp("239.69.0.4"), {0, 6}});
}

TEST(StreamManager, RefusesBadConfigurationWithTheReason) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  auto expectError = [](auto fn, const std::string& part) {
    try {
      fn();
      ADD_FAILURE() << "accepted, wanted " << part;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " / " << part;
    }
  };
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1").substr(0, 80), {}}); }, "RX stream 'x': SDP");
  expectError([&] { m.addRx({"x", "v=0\r\n", {}}); }, "bad-origin");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1"), {1}}); }, "channel map has 1 entries");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1"), {1, 129}}); }, "device has 1-128");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1"), {4, 4}}); }, "both map to device channel 4");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1", 65), {}}); }, "1-64");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1"), {}, -1}); }, "link offset");
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.1"), {}, 8192, 1024}); }, "playout capacity");
  expectError([&] { m.addRx({"", rxSdp("239.69.0.1"), {}}); }, "non-empty id");
  m.addRx({"x", rxSdp("239.69.0.1"), {}});
  expectError([&] { m.addRx({"x", rxSdp("239.69.0.9"), {9, 10}}); }, "already in use");
  expectError([&] { m.addTx(tx("x", "239.69.1.1")); }, "already in use");
  auto t = tx("t", "239.69.1.1");
  t.direction = "sideways";
  expectError([&] { m.addTx(t); }, "direction must be");
  t = tx("t", "239.69.1.1");
  t.format.channels = 0;
  expectError([&] { m.addTx(t); }, "channels must be 1-64");
  t = tx("t", "239.69.1.1");
  t.framesPerPacket = 0;
  expectError([&] { m.addTx(t); }, "frames per packet");
  t = tx("t", "239.69.1.1");
  t.destination.port = 0;
  expectError([&] { m.addTx(t); }, "port must not be 0");
  t = tx("t", "239.69.1.1");
  t.ttl = 300;
  expectError([&] { m.addTx(t); }, "TTL");
  t = tx("t", "239.69.1.1");
  t.format.sampleRate = 0;
  expectError([&] { m.addTx(t); }, "sample rate");
  t = tx("t", "239.69.1.1");
  t.format.payloadType = 200;
  expectError([&] { m.addTx(t); }, "payload type");
  t = tx("t", "239.69.1.1");
  t.sessionId = "12a";
  expectError([&] { m.addTx(t); }, "session id");
  t = tx("t", "239.69.1.1");
  t.channelMap = {1, 200};
  expectError([&] { m.addTx(t); }, "device has 1-128");
  expectError([&] { m.remove("nope"); }, "no stream 'nope'");
  expectError([&] { m.playout("nope"); }, "no RX stream");
  expectError([&] { m.txRing("nope"); }, "no TX stream");
  expectError([&] { m.txSdp("nope"); }, "no TX stream");
  expectError([&] { m.framesPerPacket("nope"); }, "no stream");
  expectError([&] { m.channelMap("nope"); }, "no stream");
  expectError([&] { m.rxDescription("nope"); }, "no RX stream");
  SdpTsRefclk mac;
  mac.kind = SdpTsRefclk::Kind::kLocalMac;
  expectError([&] { m.setPtpReference(mac); }, "ptp=");
  StreamManagerConfig bad;
  bad.deviceInputChannels = 129;
  expectError([&] { StreamManager(lab.dut, lab.media, bad); }, "1-128");
  // apply() is all-or-nothing.
  StreamConfig c;
  c.rx.push_back({"ok", rxSdp("239.69.0.5"), {}});
  c.rx.push_back({"clash", rxSdp("239.69.0.6"), {}});
  expectError([&] { m.apply(c); }, "both map to device input channel 1");
  EXPECT_EQ(m.rxIds(), std::vector<std::string>{"x"});
  c.rx.pop_back();
  c.tx.push_back(tx("ok", "239.69.1.1"));
  expectError([&] { m.apply(c); }, "repeated");
}

TEST(StreamManager, TxSdpIsAes67AndFollowsTheFieldNotes) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  auto c = tx("main", "239.69.1.1");
  c.channelLabels = {"Left", "Right, wide"};
  c.framesPerPacket = 6;
  m.addTx(c);
  const std::string sdp = m.txSdp("main");
  const auto findings = lintSdp(sdp);
  for (const auto& f : findings) EXPECT_NE(f.severity, SdpSeverity::kError) << f.code << ": " << f.message;
  EXPECT_NE(sdp.find("a=recvonly\r\n"), std::string::npos) << "Dante's habit: a sender announces recvonly";
  const SdpSession s = parseSdp(sdp);
  EXPECT_TRUE(s.attributes.empty()) << "no session-level source-filter (aes67-linux-daemon#94)";
  const SdpStream d = describeStream(sdp);
  EXPECT_EQ(formatIpv4(d.sourceFilter), "10.0.0.2");
  EXPECT_EQ(d.origin.address, "10.0.0.2");
  EXPECT_EQ(d.framesPerPacket, 6u);
  EXPECT_EQ(d.ptimeUs, 125u);
  EXPECT_EQ(d.mediaclkOffset, 12345u);
  EXPECT_EQ(d.ttl, 32u);
  EXPECT_EQ(d.direction, "recvonly");
  EXPECT_EQ(d.name, "Out main");
  EXPECT_EQ(d.ptpRefclk->kind, SdpTsRefclk::Kind::kPtpTraceable);
  EXPECT_EQ(d.channelLabels, (std::vector<std::string>{"Left", "Right", "wide"}));  // commas split, as Dante's parsers do
  // A new grandmaster is named and the session version goes up; the same one changes nothing.
  SdpTsRefclk gm;
  gm.kind = SdpTsRefclk::Kind::kPtp;
  gm.ptpVersion = "IEEE1588-2008";
  gm.gmid = "00-1D-C1-FF-FE-12-34-56";
  gm.domain = 0;
  m.setPtpReference(gm);
  m.setPtpReference(gm);
  const SdpStream after = describeStream(m.txSdp("main"));
  EXPECT_EQ(after.ptpRefclk->gmid, "00-1D-C1-FF-FE-12-34-56");
  EXPECT_EQ(after.origin.sessionVersion, "2");
  EXPECT_EQ(after.origin.sessionId, d.origin.sessionId);
  EXPECT_TRUE(isAes67(lintSdp(m.txSdp("main"))));
  auto quiet = tx("quiet", "239.69.1.2");
  quiet.direction = "";
  m.addTx(quiet);
  EXPECT_TRUE(describeStream(m.txSdp("quiet")).direction.empty());
}

TEST(StreamManager, NoSocketsWhileIoIsStoppedAndAudioFlowsWhileRunning) {
  Lab lab;
  Transport& peer = lab.network.addHost("peer", parseIpv4("10.0.0.3"));
  StreamManager m(lab.dut, lab.media);
  auto c = tx("out", "239.69.1.1");
  m.addTx(c);
  m.addRx({"in", m.txSdp("out"), {7, 8}});  // the device hears its own stream (multicast loop)
  EXPECT_EQ(m.framesPerPacket("in"), 48u);
  EXPECT_EQ(m.channelMap("in"), (std::vector<std::uint32_t>{7, 8}));
  EXPECT_EQ(m.channelMap("out"), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(m.playout("in").channels(), 2u);
  EXPECT_EQ(m.txRing("out").channels(), 2u);
  EXPECT_FALSE(m.ioRunning());
  EXPECT_EQ(m.rxStats("in"), nullptr);

  // Stopped: a packet to the group finds no receiver and nothing is sent.
  auto probe = peer.open(SocketOptions{});
  const std::uint8_t one[1] = {0};
  probe->send(parseEndpoint("239.69.1.1:5004"), one, 1);
  lab.network.deliverDue();
  EXPECT_EQ(lab.network.stats().noReceiver, 1u);
  EXPECT_EQ(m.poll(), INT64_MAX);
  EXPECT_EQ(lab.network.stats().sent, 1u);

  m.startIo();
  m.startIo();  // idempotent
  EXPECT_TRUE(m.ioRunning());
  EXPECT_FALSE(m.networkThreadRunning());
  std::vector<float> tone(48 * 2 * 20);
  for (std::size_t i = 0; i < tone.size() / 2; ++i) tone[2 * i] = tone[2 * i + 1] = static_cast<float>(0.5 * std::sin(i * 0.05));
  EXPECT_EQ(m.txRing("out").push(tone.data(), tone.size() / 2), tone.size() / 2);
  for (int step = 0; step < 100000 && lab.clock.now() < 30'000'000; ++step) {
    const Nanoseconds next = m.poll();
    lab.network.deliverDue();
    m.poll();
    // A transmitter waiting for audio reports a due time in the past: step on regardless.
    const Nanoseconds to = std::min<Nanoseconds>({next, lab.network.nextDeliveryTime(), lab.clock.now() + 1'000'000});
    lab.clock.advanceTo(std::max(to, lab.clock.now() + 1000));
  }
  ASSERT_NE(m.txStats("out"), nullptr);
  EXPECT_EQ(m.txStats("out")->packetsSent, 20u);
  EXPECT_EQ(m.rxStats("in")->accepted, 20u);
  EXPECT_EQ(m.playout("in").stats().framesWritten, 960u);

  m.stopIo();
  EXPECT_FALSE(m.ioRunning());
  EXPECT_EQ(m.rxStats("in"), nullptr);
  const auto noReceiverBefore = lab.network.stats().noReceiver;
  probe->send(parseEndpoint("239.69.1.1:5004"), one, 1);
  lab.network.deliverDue();
  EXPECT_EQ(lab.network.stats().noReceiver, noReceiverBefore + 1);
  // The buffers outlive IO (the driver keeps its pointers).
  EXPECT_EQ(m.playout("in").stats().framesWritten, 960u);

  // add/remove while running opens and closes at once.
  m.startIo();
  m.addRx({"late", rxSdp("239.69.0.9"), {9, 10}});
  EXPECT_NE(m.rxStats("late"), nullptr);
  m.remove("late");
  m.remove("in");
  EXPECT_EQ(m.rxIds().size(), 0u);
  m.stopIo();
}

// A device whose IO thread still writes into a removed TX stream's ring keeps the ring: the
// stream is gone (id free again, nothing sent, not in the configuration), the ring is the
// same one, with what it held.
TEST(StreamManager, RemoveTxHandsOverTheRing) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  m.addTx(tx("out", "239.69.1.1"));
  m.addTx(tx("stays", "239.69.1.2"));
  m.startIo();
  FrameRingBuffer* ring = &m.txRing("out");
  const float frame[2] = {0.25f, -0.25f};
  ASSERT_EQ(ring->push(frame, 1), 1u);
  std::unique_ptr<FrameRingBuffer> kept = m.removeTx("out");
  ASSERT_EQ(kept.get(), ring);
  EXPECT_EQ(kept->fill(), 1u);
  EXPECT_EQ(m.txIds(), (std::vector<std::string>{"stays"}));
  EXPECT_EQ(m.txStats("out"), nullptr);
  EXPECT_EQ(m.config().tx.size(), 1u);
  EXPECT_THROW(m.txRing("out"), std::invalid_argument);
  EXPECT_THROW(m.removeTx("out"), std::invalid_argument);
  m.addRx({"in", rxSdp("239.69.0.9"), {1, 2}});
  EXPECT_THROW(m.removeTx("in"), std::invalid_argument);  // an RX stream is not handed over
  m.addTx(tx("out", "239.69.1.1"));                       // the id is free again
  EXPECT_NE(&m.txRing("out"), kept.get());
  m.stopIo();
}

// Likewise an RX stream's playout buffer, which a device's IO thread may still read: the
// stream is gone (id and channels free again), the buffer is the same one, with its audio.
TEST(StreamManager, RemoveRxHandsOverThePlayoutBuffer) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  m.addRx({"in", rxSdp("239.69.0.9"), {1, 2}});
  m.addRx({"stays", rxSdp("239.69.0.10"), {3, 4}});
  PlayoutBuffer* playout = &m.playout("in");
  const float frame[2] = {0.25f, -0.25f};
  ASSERT_EQ(playout->write(1000, frame, 1), PlayoutWrite::kStored);
  std::unique_ptr<PlayoutBuffer> kept = m.removeRx("in");
  ASSERT_EQ(kept.get(), playout);
  float back[2] = {};
  kept->read(1000, back, 1);
  EXPECT_EQ(back[0], 0.25f);
  EXPECT_EQ(m.rxIds(), (std::vector<std::string>{"stays"}));
  EXPECT_EQ(m.rxStats("in"), nullptr);
  EXPECT_THROW(m.playout("in"), std::invalid_argument);
  EXPECT_THROW(m.removeRx("in"), std::invalid_argument);
  m.addTx(tx("out", "239.69.1.1"));
  EXPECT_THROW(m.removeRx("out"), std::invalid_argument);  // a TX stream is not handed over
  m.addRx({"in", rxSdp("239.69.0.9"), {1, 2}});            // its id and channels are free again
  EXPECT_NE(&m.playout("in"), kept.get());
}

TEST(StreamManager, NetworkThreadExistsOnlyWhileIoRuns) {
  RealClock clock;
  VirtualClock vclock{0};
  VirtualNetwork network{vclock, 0};
  Transport& dut = network.addHost("dut", parseIpv4("10.0.0.2"));
  LocalMediaClock media{48000};
  StreamManager m(dut, media);
  m.addTx(tx("out", "239.69.1.1"));
  EXPECT_FALSE(m.networkThreadRunning());
  m.startIo(true);
  EXPECT_TRUE(m.networkThreadRunning());
  const Nanoseconds t0 = clock.now();
  m.stopIo();
  EXPECT_FALSE(m.networkThreadRunning());
  EXPECT_LT(clock.now() - t0, 500'000'000) << "stopIo waits for the thread to leave";
}

TEST(StreamManager, RxFromASapSessionAndConfigRoundTrip) {
  Lab lab;
  StreamManager m(lab.dut, lab.media);
  SapSession s;
  s.sdp = rxSdp("239.69.0.7", 4, "a=mediaclk:direct=99\r\n");
  m.addRxFromSap("sap-1", s, {1, 2, 3, 4});
  EXPECT_EQ(m.rxDescription("sap-1").format.channels, 4u);
  EXPECT_EQ(m.rxDescription("sap-1").format.mediaclkOffset, 99u);
  m.addTx(tx("out", "239.69.1.1"));
  const StreamConfig c = m.config();
  StreamManager other(lab.dut, lab.media);
  other.apply(c);
  EXPECT_EQ(other.txSdp("out"), m.txSdp("out"));
  EXPECT_EQ(other.channelMap("sap-1"), m.channelMap("sap-1"));
}

}  // namespace
}  // namespace aes67
