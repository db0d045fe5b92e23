#include "engine/sdp/sdp_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/sdp/sdp_lint.hpp"

namespace aes67 {
namespace {

std::string crlf(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\r\n";
  return s;
}

// FIELD-NOTES "Dante SDP shape".
const std::string kDante = crlf({"v=0", "o=- 1423986 1423994 IN IP4 10.67.20.11", "s=AVIOUSB-1e1a2b : 2",
                                 "c=IN IP4 239.69.83.67/32", "t=0 0", "a=keywds:Dante", "m=audio 5004 RTP/AVP 97",
                                 "i=2 channels: Left, Right", "a=recvonly", "a=rtpmap:97 L24/48000/2", "a=ptime:1",
                                 "a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0", "a=mediaclk:direct=3271884240"});
// FIELD-NOTES "RAVENNA SDP adds ...": clock-domain, sync-time, framecount, source-filter, lower-case GMID.
const std::string kRavenna = crlf({"v=0", "o=- 17 3 IN IP4 10.67.20.12", "s=Stage Box 125", "t=0 0", "a=clock-domain:PTPv2 0",
                                   "m=audio 5004 RTP/AVP 98", "c=IN IP4 239.1.20.12/15", "a=rtpmap:98 L16/48000/8",
                                   "a=source-filter: incl IN IP4 239.1.20.12 10.67.20.12", "a=clock-domain:PTPv2 0",
                                   "a=sync-time:0", "a=framecount:6", "a=ptime:0.12", "a=maxptime:0.25",
                                   "a=ts-refclk:ptp=IEEE1588-2008:00-1d-c1-ff-fe-00-00-0a:0", "a=mediaclk:direct=0",
                                   "a=sendonly"});

TEST(SdpStream, DanteShape) {
  const SdpStream d = describeStream(kDante);
  EXPECT_EQ(d.name, "AVIOUSB-1e1a2b : 2");
  EXPECT_EQ(formatEndpoint(d.destination), "239.69.83.67:5004");
  EXPECT_EQ(d.ttl, 32u);
  EXPECT_EQ(d.format.encoding, PcmEncoding::kL24);
  EXPECT_EQ(d.format.channels, 2u);
  EXPECT_EQ(d.format.sampleRate, 48000u);
  EXPECT_EQ(d.format.payloadType, 97);
  EXPECT_EQ(d.format.mediaclkOffset, 3271884240u);
  EXPECT_EQ(d.mediaclkOffset, 3271884240u);
  EXPECT_EQ(d.framesPerPacket, 48u);
  EXPECT_EQ(d.ptimeUs, 1000u);
  ASSERT_TRUE(d.ptpRefclk);
  EXPECT_EQ(d.ptpRefclk->gmid, "00-1D-C1-FF-FE-12-34-56");
  EXPECT_EQ(d.channelLabels, (std::vector<std::string>{"Left", "Right"}));
  EXPECT_EQ(d.direction, "recvonly");
  EXPECT_EQ(d.keywords, "Dante");
  EXPECT_EQ(d.sourceFilter, 0u);
  EXPECT_TRUE(d.notes.empty());
  EXPECT_TRUE(isAes67(lintSdp(kDante)));
}

TEST(SdpStream, RavennaShape) {
  const SdpStream d = describeStream(kRavenna);
  EXPECT_EQ(formatIpv4(d.sourceFilter), "10.67.20.12");
  EXPECT_EQ(d.clockDomain, 0u);
  EXPECT_EQ(d.framesPerPacket, 6u);  // ptime wins over framecount; 0.12 ms is 6 samples
  EXPECT_EQ(d.ptimeUs, 125u);
  EXPECT_EQ(d.maxptimeUs, 250u);
  EXPECT_EQ(d.ttl, 15u);
  EXPECT_EQ(d.format.channels, 8u);
  EXPECT_EQ(d.format.encoding, PcmEncoding::kL16);
  EXPECT_EQ(d.direction, "sendonly");
  EXPECT_EQ(d.ptpRefclk->gmid, "00-1D-C1-FF-FE-00-00-0A");
  EXPECT_TRUE(isAes67(lintSdp(kRavenna)));
}

TEST(SdpStream, FramecountStandsInForAMissingPtime) {
  std::string text = kRavenna;
  text.replace(text.find("a=ptime:0.12\r\n"), 14, "");
  EXPECT_EQ(describeStream(text).framesPerPacket, 6u);
}

TEST(SdpStream, RtpmapWithoutChannelsIsOneChannelWithANote) {
  std::string text = kDante;
  text.replace(text.find("L24/48000/2"), 11, "L24/48000");
  const SdpStream d = describeStream(text);
  EXPECT_EQ(d.format.channels, 1u);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].line, 10);
  bool warned = false;
  for (const auto& f : lintSdp(text)) warned = warned || (f.code == "rtpmap-no-channels" && f.severity == SdpSeverity::kWarning && f.line == 10);
  EXPECT_TRUE(warned);
}

TEST(SdpStream, StaticPayloadTypesNeedNoRtpmap) {
  const std::string text = crlf({"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=x", "c=IN IP4 10.0.0.9", "t=0 0", "m=audio 5004 RTP/AVP 11", "a=ptime:1"});
  const SdpStream d = describeStream(text);
  EXPECT_EQ(d.format.channels, 1u);
  EXPECT_EQ(d.format.sampleRate, 44100u);
  EXPECT_EQ(d.framesPerPacket, 44u);
  EXPECT_FALSE(d.ttl);
}

TEST(SdpStream, MediaLevelOverridesSessionLevel) {
  const std::string text = crlf({"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=x", "c=IN IP4 239.0.0.1/8", "t=0 0", "a=ptime:4",
                                 "a=source-filter: incl IN IP4 * 10.0.0.2", "a=mediaclk:direct=5",
                                 "m=video 5000 RTP/AVP 96", "m=audio 5004 RTP/AVP 96", "c=IN IP4 239.0.0.2/16",
                                 "a=rtpmap:96 L24/96000/4", "a=ptime:0.25", "a=mediaclk:direct=7", "a=inactive"});
  const SdpStream d = describeStream(text);
  EXPECT_EQ(d.mediaIndex, 1u);
  EXPECT_EQ(formatEndpoint(d.destination), "239.0.0.2:5004");
  EXPECT_EQ(d.framesPerPacket, 24u);
  EXPECT_EQ(d.mediaclkOffset, 7u);
  EXPECT_EQ(formatIpv4(d.sourceFilter), "10.0.0.2");  // session-level filter still applies
  EXPECT_EQ(d.direction, "inactive");
  EXPECT_THROW(describeStream(text, 0), SdpError);
}

struct BadCase {
  std::string from, to;
  SdpErrorReason reason;
  int line;
};

TEST(SdpStream, EveryRefusalNamesItsLineAndReason) {
  const std::vector<BadCase> cases = {
      {"m=audio", "m=video", SdpErrorReason::kNoAudioMedia, 0},
      {"c=IN IP4 239.69.83.67/32\r\n", "", SdpErrorReason::kNoConnection, 6},
      {"c=IN IP4 239.69.83.67/32", "c=IN IP4 dante.local/32", SdpErrorReason::kBadConnection, 4},
      {"c=IN IP4 239.69.83.67/32", "c=IN IP6 ff15::1", SdpErrorReason::kBadConnection, 4},
      {"RTP/AVP 97", "RTP/AVP", SdpErrorReason::kBadMediaLine, 7},
      {"RTP/AVP 97", "RTP/AVP x97", SdpErrorReason::kBadMediaLine, 7},
      {"RTP/AVP 97", "RTP/AVP 128", SdpErrorReason::kBadMediaLine, 7},
      {"a=rtpmap:97 L24/48000/2\r\n", "", SdpErrorReason::kNoRtpmap, 7},
      {"L24/48000/2", "L24/48000/0", SdpErrorReason::kBadRtpmap, 10},
      {"L24/48000/2", "opus/48000/2", SdpErrorReason::kUnsupportedEncoding, 10},
      {"a=ptime:1", "a=ptime:fast", SdpErrorReason::kBadPtime, 11},
      {"a=ptime:1", "a=ptime:0.001", SdpErrorReason::kBadPtime, 11},
      {"a=ptime:1", "a=ptime:1\r\na=maxptime:x", SdpErrorReason::kBadMaxptime, 12},
      {"a=ptime:1", "a=ptime:1\r\na=source-filter: incl IN IP4 239.69.83.67 host", SdpErrorReason::kBadSourceFilter, 12},
      {"a=ptime:1", "a=ptime:1\r\na=source-filter:incl", SdpErrorReason::kBadSourceFilter, 12},
      {"00-1D-C1-FF-FE-12-34-56:0", "nonsense", SdpErrorReason::kBadTsRefclk, 12},
      {"direct=3271884240", "direct=x", SdpErrorReason::kBadMediaclk, 13},
      {"direct=3271884240", "sender", SdpErrorReason::kBadMediaclk, 13},
  };
  for (const auto& c : cases) {
    std::string text = kDante;
    text.replace(text.find(c.from), c.from.size(), c.to);
    try {
      describeStream(text);
      ADD_FAILURE() << "accepted: " << c.to;
    } catch (const SdpError& e) {
      EXPECT_EQ(e.reason(), c.reason) << c.to << " -> " << e.what();
      EXPECT_EQ(e.line(), c.line) << c.to << " -> " << e.what();
    }
  }
  // A malformed localmac is not a PTP reference: describe skips it (the lint reports it).
  std::string mac = kDante;
  mac.replace(mac.find("a=ptime:1"), 9, "a=ptime:1\r\na=ts-refclk:localmac=zz");
  EXPECT_NO_THROW(describeStream(mac));
}

// ffmpeg and VLC write no ptime: 1 ms (AES67 §7.2.1) is assumed and noted, lint still reports it.
TEST(SdpStream, MissingPtimeAssumesOneMillisecondWithANote) {
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 41010 RTP/AVP 97\r\na=rtpmap:97 L24/96000/2\r\n";
  const SdpStream d = describeStream(sdp);
  EXPECT_EQ(d.framesPerPacket, 96u);
  EXPECT_EQ(d.ptimeUs, 1000u);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].message.find("assumed 1 ms"), std::string::npos);
  bool linted = false;
  for (const auto& f : lintSdp(sdp)) linted |= f.code == "missing-ptime";
  EXPECT_TRUE(linted);
}

}  // namespace
}  // namespace aes67
