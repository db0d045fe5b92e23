#include "engine/sdp/sdp_attributes.hpp"

#include <gtest/gtest.h>

namespace aes67 {
namespace {

SdpAttribute attr(const std::string& name, const std::string& value, int line = 9) {
  return SdpAttribute{name, value, true, line};
}

template <typename Fn>
void expectError(Fn fn, SdpErrorReason reason, int line = 9) {
  try {
    fn();
    ADD_FAILURE() << "no error";
  } catch (const SdpError& e) {
    EXPECT_EQ(e.reason(), reason) << e.what();
    EXPECT_EQ(e.line(), line) << e.what();
  }
}

TEST(SdpAttributes, Rtpmap) {
  const SdpRtpmap r = parseRtpmap(attr("rtpmap", "97 L24/48000/2"));
  EXPECT_EQ(r.payloadType, 97);
  EXPECT_EQ(r.encoding, "L24");
  EXPECT_EQ(r.clockRate, 48000u);
  EXPECT_EQ(r.channelCount(), 2u);
  // RFC 3551 §4.5: no channel count means one channel (the reference driver got this wrong).
  const SdpRtpmap mono = parseRtpmap(attr("rtpmap", "96 L24/48000"));
  EXPECT_FALSE(mono.channels);
  EXPECT_EQ(mono.channelCount(), 1u);
  for (const char* bad : {"97", "x L24/48000", "200 L24/48000", "97 L24", "97 L24/0", "97 L24/48000/0", "97 L24/48000/2/1",
                          "97 /48000", "97 L24/48k", "97 L24/48000/two"}) {
    expectError([&] { parseRtpmap(attr("rtpmap", bad)); }, SdpErrorReason::kBadRtpmap);
  }
}

TEST(SdpAttributes, FractionalPtimeGivesTheAes67SampleCounts) {
  // The AES67 §7.2 packet times as SDPs write them, at 48 kHz: 6, 6, 12, 16, 16 samples
  // (issue 3; the reference driver dropped the fractions).
  const std::pair<const char*, std::uint64_t> at48k[] = {{"0.125", 6}, {"0.12", 6}, {"0.250", 12}, {"0.25", 12},
                                                          {"0.333", 16}, {"0.33", 16}, {"1", 48}, {"4", 192}, {".5", 24}};
  for (const auto& [text, frames] : at48k) EXPECT_EQ(parsePtime(attr("ptime", text)).framesAt(48000), frames) << text;
  EXPECT_EQ(parsePtime(attr("ptime", "0.333")).framesAt(96000), 32u);
  EXPECT_EQ(parsePtime(attr("ptime", "0.125")).framesAt(44100), 6u);   // 5.5125
  EXPECT_EQ(parsePtime(attr("ptime", "1")).framesAt(44100), 44u);      // 44.1
  EXPECT_EQ(parsePtime(attr("ptime", " 1 ")).framesAt(48000), 48u);
  EXPECT_DOUBLE_EQ(parsePtime(attr("ptime", "0.125")).milliseconds(), 0.125);
  for (const char* bad : {"", "fast", "0", "0.000", "-1", "1e0", "1.2.3", ".", "1000000", "0.0000001", "0x10"}) {
    expectError([&] { parsePtime(attr("ptime", bad)); }, SdpErrorReason::kBadPtime);
  }
  expectError([&] { parsePtime(attr("maxptime", "x"), SdpErrorReason::kBadMaxptime); }, SdpErrorReason::kBadMaxptime);
}

TEST(SdpAttributes, PtimeTextFromFrames) {
  EXPECT_EQ(formatPtime(48, 48000), "1");
  EXPECT_EQ(formatPtime(6, 48000), "0.125");
  EXPECT_EQ(formatPtime(12, 48000), "0.25");
  EXPECT_EQ(formatPtime(16, 48000), "0.333");
  EXPECT_EQ(formatPtime(192, 48000), "4");
  EXPECT_EQ(formatPtime(6, 44100), "0.136");
  // Written text reads back as the same sample count at every AES67 rate and packet size.
  for (std::uint32_t rate : {44100u, 48000u, 88200u, 96000u, 192000u, 384000u}) {
    for (std::uint32_t frames = 1; frames <= 2000; ++frames) {
      ASSERT_EQ(parsePtime(attr("ptime", formatPtime(frames, rate))).framesAt(rate), frames) << frames << " @ " << rate;
    }
  }
  EXPECT_EQ(packetMicroseconds(16, 48000), 333u);
}

TEST(SdpAttributes, Framecount) {
  EXPECT_EQ(parseFramecount(attr("framecount", "6")), 6u);
  for (const char* bad : {"0", "", "six", "-1", "99999999999"}) {
    expectError([&] { parseFramecount(attr("framecount", bad)); }, SdpErrorReason::kBadPtime);
  }
}

TEST(SdpAttributes, TsRefclkForms) {
  const SdpTsRefclk gm = parseTsRefclk(attr("ts-refclk", "ptp=IEEE1588-2008:00-1d-c1-ff-fe-12-34-56:0"));
  EXPECT_EQ(gm.kind, SdpTsRefclk::Kind::kPtp);
  EXPECT_EQ(gm.gmid, "00-1D-C1-FF-FE-12-34-56");
  EXPECT_EQ(gm.domain, 0u);
  EXPECT_EQ(formatTsRefclk(gm), "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0");
  const SdpTsRefclk noDomain = parseTsRefclk(attr("ts-refclk", "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56"));
  EXPECT_FALSE(noDomain.domain);
  EXPECT_EQ(formatTsRefclk(noDomain), "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56");
  const SdpTsRefclk traceable = parseTsRefclk(attr("ts-refclk", "ptp=IEEE1588-2008:traceable"));
  EXPECT_EQ(traceable.kind, SdpTsRefclk::Kind::kPtpTraceable);
  EXPECT_TRUE(traceable.isPtp());
  EXPECT_EQ(formatTsRefclk(traceable), "ptp=IEEE1588-2008:traceable");
  const SdpTsRefclk mac = parseTsRefclk(attr("ts-refclk", "localmac=7c-e9-d3-1b-9a-af"));
  EXPECT_EQ(mac.kind, SdpTsRefclk::Kind::kLocalMac);
  EXPECT_EQ(mac.mac, "7C-E9-D3-1B-9A-AF");
  EXPECT_FALSE(mac.isPtp());
  EXPECT_EQ(formatTsRefclk(mac), "localmac=7C-E9-D3-1B-9A-AF");
  const SdpTsRefclk ntp = parseTsRefclk(attr("ts-refclk", "ntp=203.0.113.10"));
  EXPECT_EQ(ntp.kind, SdpTsRefclk::Kind::kOther);
  EXPECT_EQ(formatTsRefclk(ntp), "ntp=203.0.113.10");
  EXPECT_EQ(parseTsRefclk(attr("ts-refclk", "ptp=IEEE802.1AS-2011:00-1D-C1-FF-FE-12-34-56")).ptpVersion, "IEEE802.1AS-2011");
  for (const char* bad : {"ptp=IEEE1588-2008", "ptp=IEEE1588-2008:nonsense", "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34:0",
                          "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:128", "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:x",
                          "ptp=PTPv2:00-1D-C1-FF-FE-12-34-56:0", "ptp=IEEE1588-2008:traceable:0",
                          "ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-GG:0", "localmac=00-11", "ptp=IEEE1588-2008:a:b:c"}) {
    expectError([&] { parseTsRefclk(attr("ts-refclk", bad)); }, SdpErrorReason::kBadTsRefclk);
  }
}

TEST(SdpAttributes, MediaclkForms) {
  const SdpMediaclk d = parseMediaclk(attr("mediaclk", "direct=3271884240"));
  EXPECT_EQ(d.kind, SdpMediaclk::Kind::kDirect);
  EXPECT_EQ(d.offset, 3271884240u);
  const SdpMediaclk r = parseMediaclk(attr("mediaclk", "direct=963214424 rate=1000/1001"));
  EXPECT_EQ(r.offset, 963214424u);
  EXPECT_EQ(r.rateNumerator, 1000u);
  EXPECT_EQ(r.rateDenominator, 1001u);
  EXPECT_EQ(parseMediaclk(attr("mediaclk", "direct")).offset, 0u);
  EXPECT_EQ(parseMediaclk(attr("mediaclk", "direct=0 rate=48000")).rateDenominator, 1u);
  EXPECT_EQ(parseMediaclk(attr("mediaclk", "sender")).kind, SdpMediaclk::Kind::kSender);
  EXPECT_EQ(parseMediaclk(attr("mediaclk", "IEEE1722=38-D6-6D-8E-D2-78-13-2A")).kind, SdpMediaclk::Kind::kOther);
  for (const char* bad : {"", "direct=", "direct=abc", "direct=4294967296", "directx", "direct=1 speed=2", "direct=1 rate=0",
                          "direct=1 rate=1/0", "direct=1 rate=1/2/3"}) {
    expectError([&] { parseMediaclk(attr("mediaclk", bad)); }, SdpErrorReason::kBadMediaclk);
  }
}

TEST(SdpAttributes, SourceFilter) {
  const SdpSourceFilter f = parseSourceFilter(attr("source-filter", " incl IN IP4 239.1.20.12 10.67.20.12 10.67.20.13"));
  EXPECT_TRUE(f.include);
  EXPECT_EQ(f.destination, "239.1.20.12");
  EXPECT_EQ(f.sources, (std::vector<std::string>{"10.67.20.12", "10.67.20.13"}));
  EXPECT_EQ(formatSourceFilter(f), " incl IN IP4 239.1.20.12 10.67.20.12 10.67.20.13");
  EXPECT_FALSE(parseSourceFilter(attr("source-filter", "excl IN IP4 * 10.0.0.1")).include);
  for (const char* bad : {"", " incl IN IP4 239.1.1.1", " both IN IP4 239.1.1.1 10.0.0.1"}) {
    expectError([&] { parseSourceFilter(attr("source-filter", bad)); }, SdpErrorReason::kBadSourceFilter);
  }
}

TEST(SdpAttributes, ClockDomainAndLabels) {
  EXPECT_EQ(parseClockDomain(attr("clock-domain", "PTPv2 0")), 0u);
  EXPECT_EQ(parseClockDomain(attr("clock-domain", "PTPv2 42")), 42u);
  EXPECT_FALSE(parseClockDomain(attr("clock-domain", "PTPv1 0")));
  EXPECT_FALSE(parseClockDomain(attr("clock-domain", "PTPv2 x")));
  EXPECT_EQ(parseChannelLabels("2 channels: Left, Right"), (std::vector<std::string>{"Left", "Right"}));
  EXPECT_EQ(parseChannelLabels("1 Channel : Mono Mix"), (std::vector<std::string>{"Mono Mix"}));
  EXPECT_EQ(parseChannelLabels("Kick, Snare,, Hat "), (std::vector<std::string>{"Kick", "Snare", "Hat"}));
  EXPECT_EQ(parseChannelLabels("8 chans: A"), (std::vector<std::string>{"8 chans: A"}));
  EXPECT_TRUE(parseChannelLabels(" ").empty());
}

}  // namespace
}  // namespace aes67
