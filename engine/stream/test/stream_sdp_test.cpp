// An RX stream's timing from its SDP (RFC 7273), the TX SDP writer's references, the
// check-without-adding calls and the optional keys of the saved configuration.
#include "engine/stream/stream_sdp.hpp"

#include <gtest/gtest.h>

#include "engine/base/virtual_network.hpp"
#include "engine/sdp/sdp_session.hpp"
#include "engine/stream/stream_config_store.hpp"
#include "engine/stream/stream_manager.hpp"

namespace aes67 {
namespace {

std::string sdp(const std::string& extra) {
  return "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=src\r\nc=IN IP4 239.69.0.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\n"
         "a=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n" + extra;
}

TEST(DescribeRxStream, TimingFollowsRfc7273) {
  // AES67: PTP reference and direct media clock.
  auto d = describeRxStream(sdp("a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0\r\na=mediaclk:direct=77\r\n"));
  EXPECT_FALSE(d.senderClocked);
  EXPECT_EQ(d.stream.format.mediaclkOffset, 77u);
  // mediaclk:sender, at media or session level: the sender's own clock (describeStream alone refuses it).
  EXPECT_THROW(describeStream(sdp("a=mediaclk:sender\r\n")), SdpError);
  d = describeRxStream(sdp("a=mediaclk:sender\r\n"));
  EXPECT_TRUE(d.senderClocked);
  EXPECT_EQ(d.stream.format.mediaclkOffset, 0u);
  std::string sessionLevel = sdp("");
  sessionLevel.insert(sessionLevel.find("t=0 0\r\n"), "a=mediaclk:sender\r\n");
  EXPECT_TRUE(describeRxStream(sessionLevel).senderClocked);
  // Neither reference nor media clock (GStreamer, ffmpeg): no common clock can be assumed.
  EXPECT_TRUE(describeRxStream(sdp("")).senderClocked);
  // A reference alone (Dante writes both; some senders only ts-refclk): the media clock.
  EXPECT_FALSE(describeRxStream(sdp("a=ts-refclk:ptp=IEEE1588-2008:traceable\r\n")).senderClocked);
  // Forced either way.
  EXPECT_FALSE(describeRxStream(sdp(""), "media-clock").senderClocked);
  EXPECT_TRUE(describeRxStream(sdp("a=mediaclk:direct=0\r\n"), "sender").senderClocked);
  EXPECT_THROW(describeRxStream(sdp(""), "ptp"), std::invalid_argument);
}

TEST(WriteTxSdp, NamesTheGrandmasterAsAes67WritesIt) {
  TxStreamConfig c;
  c.id = "o";
  c.name = "Out";
  c.destination = parseEndpoint("239.69.0.9:5004");
  c.format.channels = 2;
  c.sessionId = "5";
  const std::string text = writeTxSdp(c, parseIpv4("10.0.0.2"), grandmasterReference({0x00, 0x1d, 0xc1, 0xff, 0xfe, 0x12, 0x34, 0x56}, 3));
  EXPECT_NE(text.find("a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:3\r\n"), std::string::npos) << text;
  EXPECT_NE(writeTxSdp(c, 0, traceablePtpReference()).find("a=ts-refclk:ptp=IEEE1588-2008:traceable\r\n"), std::string::npos);
  // What it writes, the engine reads back.
  const SdpStream back = describeStream(text);
  EXPECT_EQ(formatTsRefclk(*back.ptpRefclk), "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:3");
}

TEST(StreamManagerChecks, RefuseLikeAddWithoutAdding) {
  VirtualClock clock;
  VirtualNetwork net(clock);
  Transport& t = net.addHost("dut", parseIpv4("10.0.0.2"));
  LocalMediaClock media(48000);
  StreamManager m(t, media);
  m.addRx({"a", sdp(""), {1, 2}});
  EXPECT_THROW(m.checkRx({"b", sdp(""), {2, 3}}), std::invalid_argument);
  EXPECT_THROW(m.checkRx({"a", sdp(""), {5, 6}}), std::invalid_argument);
  m.checkRx({"b", sdp(""), {3, 4}});
  EXPECT_EQ(m.rxIds(), (std::vector<std::string>{"a"}));
  TxStreamConfig tx;
  tx.id = "t";
  tx.destination = parseEndpoint("239.69.0.9:5004");
  tx.ringFrames = 1 << 15;
  m.checkTx(tx);
  EXPECT_TRUE(m.txIds().empty());
  m.addTx(tx);
  EXPECT_EQ(m.txRing("t").capacity(), 1u << 15);
  EXPECT_TRUE(m.rxSenderClocked("a"));
}

TEST(StreamConfigJson, OptionalKeysRoundTripAndOldFilesReadTheSame) {
  StreamConfig c;
  RxStreamConfig r;
  r.id = "feed";
  r.sapSessionName = "Feed";
  r.timing = "sender";
  r.channelMap = {1, 2};
  c.rx.push_back(r);
  TxStreamConfig t;
  t.id = "out";
  t.destination = parseEndpoint("239.69.0.9:5004");
  t.announce = true;
  c.tx.push_back(t);
  const StreamConfig back = streamConfigFromJson(streamConfigToJson(c));
  EXPECT_EQ(back.rx[0].sapSessionName, "Feed");
  EXPECT_EQ(back.rx[0].timing, "sender");
  EXPECT_TRUE(back.tx[0].announce);
  // Unset, the keys are not written at all.
  const std::string plain = streamConfigToJson(StreamConfig{{RxStreamConfig{"x", sdp(""), {1, 2}}}, {}});
  EXPECT_EQ(plain.find("sapSessionName"), std::string::npos);
  EXPECT_EQ(plain.find("timing"), std::string::npos);
  c.rx[0].timing = "soon";
  EXPECT_THROW(streamConfigFromJson(streamConfigToJson(c)), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
