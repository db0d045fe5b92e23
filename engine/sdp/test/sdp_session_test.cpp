#include "engine/sdp/sdp_session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aes67 {
namespace {

std::string crlf(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\r\n";
  return s;
}

// Dante's shape (FIELD-NOTES "Dante SDP shape"): session-level c= /32, keywds, labels with
// commas in i=, PT 97, non-zero mediaclk, an x- attribute and an unknown one kept.
const std::string kDante = crlf({"v=0", "o=- 1423986 1423994 IN IP4 10.67.20.11", "s=AVIOUSB-1e1a2b : 2",
                                 "c=IN IP4 239.69.83.67/32", "t=0 0", "a=keywds:Dante", "a=x-dante-flow:7",
                                 "m=audio 5004 RTP/AVP 97", "i=2 channels: Left, Right", "a=recvonly",
                                 "a=rtpmap:97 L24/48000/2", "a=ptime:1",
                                 "a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0",
                                 "a=mediaclk:direct=3271884240", "a=future-thing"});

TEST(SdpSession, ParsesEveryFieldAndKeepsUnknownAttributes) {
  const SdpSession s = parseSdp(kDante);
  EXPECT_EQ(s.origin.username, "-");
  EXPECT_EQ(s.origin.sessionId, "1423986");
  EXPECT_EQ(s.origin.sessionVersion, "1423994");
  EXPECT_EQ(s.origin.address, "10.67.20.11");
  EXPECT_EQ(s.origin.line, 2);
  EXPECT_EQ(s.name, "AVIOUSB-1e1a2b : 2");
  ASSERT_TRUE(s.connection);
  EXPECT_EQ(s.connection->address, "239.69.83.67");
  EXPECT_EQ(s.connection->ttl, 32u);
  EXPECT_FALSE(s.connection->count);
  ASSERT_EQ(s.timings.size(), 1u);
  ASSERT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(s.attributes[1].name, "x-dante-flow");
  EXPECT_EQ(s.attributes[1].value, "7");
  ASSERT_EQ(s.media.size(), 1u);
  const SdpMedia& m = s.media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 5004);
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_EQ(m.formats, std::vector<std::string>{"97"});
  EXPECT_EQ(m.information, "2 channels: Left, Right");
  ASSERT_NE(m.attribute("future-thing"), nullptr);
  EXPECT_FALSE(m.attribute("future-thing")->hasValue);
  EXPECT_EQ(m.attribute("mediaclk")->line, 14);
}

TEST(SdpSession, RoundTripIsByteIdenticalForCanonicalText) {
  EXPECT_EQ(writeSdp(parseSdp(kDante)), kDante);
  const std::string full = crlf({"v=0", "o=jdoe 2890844526 2890842807 IN IP4 host.example.com", "s=SDP Seminar",
                                 "i=A Seminar on the session description protocol", "u=http://www.example.com/seminars/sdp.pdf",
                                 "e=j.doe@example.com (Jane Doe)", "p=+1 617 555-6011", "c=IN IP4 233.252.0.1/127/3",
                                 "b=AS:128", "t=2873397496 2873404696", "r=7d 1h 0 25h", "z=2882844526 -1h", "k=prompt",
                                 "a=recvonly", "m=audio 49170/2 RTP/AVP 0 96", "i=media title", "c=IN IP6 ff15::101/3",
                                 "b=AS:64", "a=rtpmap:96 L16/48000", "m=video 51372 RTP/AVP 99", "a=rtpmap:99 h263-1998/90000"});
  const SdpSession s = parseSdp(full);
  EXPECT_EQ(writeSdp(s), full);
  EXPECT_EQ(s.connection->ttl, 127u);
  EXPECT_EQ(s.connection->count, 3u);
  EXPECT_EQ(s.media[0].portCount, 2u);
  EXPECT_EQ(s.media[0].connections[0].count, 3u);
  EXPECT_FALSE(s.media[0].connections[0].ttl);
  EXPECT_EQ(s.timings[0].repeats.size(), 1u);
}

TEST(SdpSession, NormalizesLineEndsAndOrderAndThenStaysStable) {
  // LF line ends and c= after t= (as some devices write): parsed, written in RFC order.
  const std::string lf = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=x\nt=0 0\nc=IN IP4 239.1.1.1/32\nm=audio 5004 RTP/AVP 96\n";
  const std::string once = writeSdp(parseSdp(lf));
  EXPECT_EQ(once, crlf({"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=x", "c=IN IP4 239.1.1.1/32", "t=0 0", "m=audio 5004 RTP/AVP 96"}));
  EXPECT_EQ(writeSdp(parseSdp(once)), once);
  // A lone CR ends a line too.
  EXPECT_EQ(parseSdp("v=0\ro=- 1 1 IN IP4 h\rs=x\r").origin.address, "h");
}

TEST(SdpSession, OriginAddressMayBeAHostName) {
  // VLC writes its host name in o= (issue 3); so does RFC 8866's own example.
  const SdpSession s = parseSdp("v=0\r\no=- 15935457 15935457 IN IP4 vlc-host\r\ns=VLC\r\nt=0 0\r\n");
  EXPECT_EQ(s.origin.address, "vlc-host");
}

struct BadCase {
  std::string text;
  SdpErrorReason reason;
  int line;
};

TEST(SdpSession, EveryRefusalNamesItsLineAndReason) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=x\r\n";
  const std::vector<BadCase> cases = {
      {"", SdpErrorReason::kEmpty, 0},
      {"\r\n \r\n", SdpErrorReason::kEmpty, 0},
      {"v=1\r\n", SdpErrorReason::kBadVersion, 1},
      {"o=- 1 1 IN IP4 h\r\n", SdpErrorReason::kBadVersion, 1},
      {"v=0\r\nv=0\r\n", SdpErrorReason::kBadVersion, 2},
      {"v=0\r\nhello\r\n", SdpErrorReason::kBadLine, 2},
      {"v=0\r\nA=b\r\n", SdpErrorReason::kBadLine, 2},
      {"v=0\r\nx=1\r\n", SdpErrorReason::kUnknownType, 2},
      {"v=0\r\no=- one 1 IN IP4 h\r\n", SdpErrorReason::kBadOrigin, 2},
      {"v=0\r\no=- 1 1 IN IP4\r\n", SdpErrorReason::kBadOrigin, 2},
      {"v=0\r\ns=x\r\n", SdpErrorReason::kBadOrigin, 0},
      {head + "o=- 1 1 IN IP4 h\r\n", SdpErrorReason::kBadOrigin, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\n", SdpErrorReason::kNoSessionName, 0},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=\r\n", SdpErrorReason::kNoSessionName, 3},
      {head + "s=y\r\n", SdpErrorReason::kBadLine, 4},
      {head + "i=a\r\ni=b\r\n", SdpErrorReason::kBadLine, 5},
      {head + "c=IN IP4 239.1.1.1/256\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP4 239.1.1.1/x\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP4 239.1.1.1/32/0\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP4 a/1/2/3\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP6 ff15::1/3/4\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP4\r\n", SdpErrorReason::kBadConnection, 4},
      {head + "c=IN IP4 a\r\nc=IN IP4 b\r\n", SdpErrorReason::kBadConnection, 5},
      {head + "t=0\r\n", SdpErrorReason::kBadTiming, 4},
      {head + "t=a b\r\n", SdpErrorReason::kBadTiming, 4},
      {head + "r=7d 1h 0\r\n", SdpErrorReason::kBadTiming, 4},
      {head + "m=audio 5004\r\n", SdpErrorReason::kBadMediaLine, 4},
      {head + "m=audio 70000 RTP/AVP 96\r\n", SdpErrorReason::kBadMediaLine, 4},
      {head + "m=audio 5004/0 RTP/AVP 96\r\n", SdpErrorReason::kBadMediaLine, 4},
      {head + "m=audio x RTP/AVP 96\r\n", SdpErrorReason::kBadMediaLine, 4},
      {head + "m=audio 5004 RTP/AVP 96\r\nt=0 0\r\n", SdpErrorReason::kBadLine, 5},
      {head + "m=audio 5004 RTP/AVP 96\r\ni=a\r\ni=b\r\n", SdpErrorReason::kBadLine, 6},
      {head + "m=audio 5004 RTP/AVP 96\r\ny=1\r\n", SdpErrorReason::kUnknownType, 5},
      {head + "m=audio 5004 RTP/AVP 96\r\nc=IN IP4 a/999\r\n", SdpErrorReason::kBadConnection, 5},
      {head + "a=:x\r\n", SdpErrorReason::kBadAttribute, 4},
  };
  for (const auto& c : cases) {
    try {
      parseSdp(c.text);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const SdpError& e) {
      EXPECT_EQ(e.reason(), c.reason) << c.text << " -> " << e.what();
      EXPECT_EQ(e.line(), c.line) << c.text << " -> " << e.what();
      if (c.line > 0) {
        EXPECT_NE(std::string(e.what()).find("line " + std::to_string(c.line)), std::string::npos) << e.what();
      }
      EXPECT_NE(std::string(e.what()).find(toString(c.reason)), std::string::npos);
    }
  }
}

TEST(SdpSession, EveryReasonHasAName) {
  for (int r = 0; r < static_cast<int>(SdpErrorReason::kCount); ++r) {
    EXPECT_STRNE(toString(static_cast<SdpErrorReason>(r)), "unknown") << r;
  }
  EXPECT_STREQ(toString(SdpErrorReason::kCount), "unknown");
}

TEST(SdpSession, ConnectionAddressForms) {
  SdpConnection c;
  EXPECT_TRUE(parseConnectionAddress("IP4", "10.0.0.1", c));
  EXPECT_FALSE(c.ttl);
  EXPECT_TRUE(parseConnectionAddress("IP4", "239.0.0.1/0", c));
  EXPECT_EQ(c.ttl, 0u);
  EXPECT_TRUE(parseConnectionAddress("IP6", "ff15::1/2", c));
  EXPECT_EQ(c.count, 2u);
  EXPECT_FALSE(parseConnectionAddress("IP4", "/32", c));
  EXPECT_FALSE(parseConnectionAddress("IP4", "239.0.0.1/", c));
  EXPECT_FALSE(parseConnectionAddress("IP6", "ff15::1/0", c));
}

}  // namespace
}  // namespace aes67
