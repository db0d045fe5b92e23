#include "engine/sdp/sdp_lint.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace aes67 {
namespace {

std::string crlf(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\r\n";
  return s;
}

const std::string kGood = crlf({"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=good", "c=IN IP4 239.69.1.1/32", "t=0 0",
                                "m=audio 5004 RTP/AVP 97", "a=rtpmap:97 L24/48000/2", "a=ptime:1",
                                "a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0", "a=mediaclk:direct=0", "a=sendonly"});

std::set<std::string> codes(const std::vector<SdpFinding>& fs, SdpSeverity sev) {
  std::set<std::string> out;
  for (const auto& f : fs)
    if (f.severity == sev) out.insert(f.code);
  return out;
}

std::string edit(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(SdpLint, AConformingStreamHasNoErrorOrWarning) {
  const auto fs = lintSdp(kGood);
  EXPECT_TRUE(isAes67(fs));
  EXPECT_TRUE(codes(fs, SdpSeverity::kError).empty());
  EXPECT_TRUE(codes(fs, SdpSeverity::kWarning).empty());
  EXPECT_TRUE(codes(fs, SdpSeverity::kInfo).empty());
}

TEST(SdpLint, NamesEveryMissingAes67Attribute) {
  // The shape ffmpeg writes (no ptime, no ts-refclk, no mediaclk, no TTL): every gap named.
  const std::string plain = crlf({"v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=No Name", "c=IN IP4 239.69.0.1", "t=0 0",
                                  "a=tool:libavformat", "m=audio 5004 RTP/AVP 97", "a=rtpmap:97 L24/48000/2"});
  const auto fs = lintSdp(plain);
  EXPECT_FALSE(isAes67(fs));
  EXPECT_EQ(codes(fs, SdpSeverity::kError),
            (std::set<std::string>{"missing-ptime", "missing-ts-refclk", "missing-mediaclk", "missing-ttl"}));
  for (const auto& f : fs) {
    EXPECT_FALSE(f.clause.empty()) << f.code;
    EXPECT_FALSE(f.message.empty()) << f.code;
  }
}

struct LintCase {
  std::string from, to;
  SdpSeverity severity;
  std::string code;
};

TEST(SdpLint, EachRuleFires) {
  const std::vector<LintCase> cases = {
      {"t=0 0\r\n", "", SdpSeverity::kError, "missing-timing"},
      {"m=audio", "m=video", SdpSeverity::kError, "no-audio-media"},
      {"RTP/AVP 97", "RTP/SAVP 97", SdpSeverity::kError, "bad-proto"},
      {"c=IN IP4 239.69.1.1/32\r\n", "", SdpSeverity::kError, "missing-connection"},
      {"239.69.1.1/32", "host.example/32", SdpSeverity::kError, "bad-connection"},
      {"239.69.1.1/32", "239.69.1.1", SdpSeverity::kError, "missing-ttl"},
      {"239.69.1.1/32", "232.1.1.1/32", SdpSeverity::kInfo, "not-admin-scoped"},
      {"RTP/AVP 97", "RTP/AVP", SdpSeverity::kError, "bad-media-line"},
      {"RTP/AVP 97", "RTP/AVP 77", SdpSeverity::kWarning, "static-payload-type"},
      {"RTP/AVP 97", "RTP/AVP 77", SdpSeverity::kError, "missing-rtpmap"},
      {"L24/48000/2", "L24/48000/0", SdpSeverity::kError, "bad-rtpmap"},
      {"L24/48000/2", "L24/48000", SdpSeverity::kWarning, "rtpmap-no-channels"},
      {"L24/48000/2", "L32/48000/2", SdpSeverity::kError, "bad-encoding"},
      {"L24/48000/2", "opus/48000/2", SdpSeverity::kError, "bad-encoding"},
      {"L24/48000/2", "L24/32000/2", SdpSeverity::kError, "bad-rate"},
      {"a=ptime:1\r\n", "", SdpSeverity::kError, "missing-ptime"},
      {"a=ptime:1", "a=ptime:x", SdpSeverity::kError, "bad-ptime"},
      {"a=ptime:1", "a=ptime:2", SdpSeverity::kWarning, "packet-time"},
      {"a=ptime:1", "a=ptime:1\r\na=maxptime:0.25", SdpSeverity::kError, "maxptime-below-ptime"},
      {"a=ptime:1", "a=ptime:1\r\na=maxptime:y", SdpSeverity::kError, "bad-maxptime"},
      {"a=ptime:1", "a=ptime:1\r\na=framecount:48", SdpSeverity::kInfo, "legacy-framecount"},
      {"a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0\r\n", "", SdpSeverity::kError, "missing-ts-refclk"},
      {"ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0", "localmac=00-11-22-33-44-55", SdpSeverity::kError, "refclk-not-ptp"},
      {"ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0", "ptp=bad", SdpSeverity::kError, "bad-ts-refclk"},
      {"a=mediaclk:direct=0\r\n", "", SdpSeverity::kError, "missing-mediaclk"},
      {"a=mediaclk:direct=0", "a=mediaclk:sender", SdpSeverity::kError, "mediaclk-not-direct"},
      {"a=mediaclk:direct=0", "a=mediaclk:direct=q", SdpSeverity::kError, "bad-mediaclk"},
      {"t=0 0\r\n", "t=0 0\r\na=source-filter: incl IN IP4 239.69.1.1 10.0.0.1\r\n", SdpSeverity::kWarning,
       "session-source-filter"},
      {"a=sendonly", "a=source-filter:oops", SdpSeverity::kError, "bad-source-filter"},
      {"a=sendonly", "a=clock-domain:PTP 0\r\na=sendonly", SdpSeverity::kWarning, "bad-clock-domain"},
      {"a=sendonly\r\n", "", SdpSeverity::kInfo, "no-direction"},
      {"v=0\r\n", "v=1\r\n", SdpSeverity::kError, "parse"},
  };
  for (const auto& c : cases) {
    const auto fs = lintSdp(edit(kGood, c.from, c.to));
    EXPECT_EQ(codes(fs, c.severity).count(c.code), 1u) << c.to << " should give " << c.code;
  }
  const std::string dante = edit(edit(kGood, "t=0 0", "t=0 0\r\na=keywds:Dante"), "L24/48000/2", "L24/48000/9");
  EXPECT_EQ(codes(lintSdp(dante), SdpSeverity::kWarning).count("dante-channels"), 1u);
  const std::string big = edit(edit(kGood, "L24/48000/2", "L24/48000/16"), "a=ptime:1", "a=ptime:1");
  EXPECT_EQ(codes(lintSdp(big), SdpSeverity::kWarning).count("payload-budget"), 1u);
  EXPECT_STREQ(toString(SdpSeverity::kInfo), "info");
}

}  // namespace
}  // namespace aes67
