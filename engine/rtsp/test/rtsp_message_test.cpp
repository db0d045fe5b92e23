// RtspParser and the writer: requests and responses split at every byte, pipelined, CRLF
// and bare LF (and the two mixed), case-insensitive headers, bodies; each limit and each
// refusal reason counted; what the writer writes parses back to the same message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/rtsp/rtsp_message.hpp"

namespace aes67 {
namespace {

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 10.67.180.1\r\ns=Studio A mix, 2ch\r\nc=IN IP4 239.69.180.1/15\r\nt=0 0\r\n"
    "m=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/2\r\na=ptime:1\r\n";

std::vector<RtspMessage> parseWhole(const std::string& text, RtspParser& p) {
  return parseRtspMessages(p, reinterpret_cast<const std::uint8_t*>(text.data()), text.size()).messages;
}

std::vector<RtspMessage> parseBytewise(const std::string& text, RtspParser& p) {
  std::vector<RtspMessage> out;
  for (char c : text) {
    const auto b = static_cast<std::uint8_t>(c);
    EXPECT_EQ(p.feed(&b, 1), p.failed() ? 0u : 1u);
    if (p.hasMessage()) out.push_back(p.take());
  }
  return out;
}

std::string pipeline() {
  return "DESCRIBE rtsp://10.67.180.1:554/by-name/A%20B RTSP/1.0\r\nCSeq: 7\r\nAccept: application/sdp\r\n\r\n"
         "RTSP/1.0 200 OK\r\ncseq: 7\r\nContent-Type: application/sdp\r\nContent-Length: " +
         std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp +
         "\r\n\r\n"  // blank lines between messages
         "OPTIONS * RTSP/1.0\nCSeq: 8\n\n"
         "RTSP/1.0 404 Not Found\r\nCSeq: 9\n\r\n";  // a CRLF line, then a bare-LF blank line... mixed
}

void expectSame(const RtspMessage& a, const RtspMessage& b) {
  EXPECT_EQ(a.isRequest, b.isRequest);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.body, b.body);
  ASSERT_EQ(a.headers.size(), b.headers.size());
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    EXPECT_EQ(a.headers[i].name, b.headers[i].name);
    EXPECT_EQ(a.headers[i].value, b.headers[i].value);
  }
}

TEST(RtspMessage, ParsesPipelinedRequestsAndResponsesWithBodiesAndEitherLineEnd) {
  RtspParser p;
  const auto m = parseWhole(pipeline(), p);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_FALSE(p.failed());
  EXPECT_TRUE(m[0].isRequest);
  EXPECT_EQ(m[0].method, "DESCRIBE");
  EXPECT_EQ(m[0].url, "rtsp://10.67.180.1:554/by-name/A%20B");
  EXPECT_EQ(m[0].version, "RTSP/1.0");
  EXPECT_FALSE(m[1].isRequest);
  EXPECT_EQ(m[1].status, 200);
  EXPECT_EQ(m[1].reason, "OK");
  EXPECT_EQ(m[1].body, kSdp);
  ASSERT_NE(m[1].header("CSeq"), nullptr);  // written "cseq"
  EXPECT_EQ(*m[1].header("CSEQ"), "7");
  EXPECT_EQ(*m[1].header("content-type"), "application/sdp");
  EXPECT_EQ(m[2].method, "OPTIONS");
  EXPECT_EQ(m[2].url, "*");
  EXPECT_EQ(*m[2].header("cseq"), "8");
  EXPECT_EQ(m[3].status, 404);
  EXPECT_EQ(m[3].reason, "Not Found");
  EXPECT_EQ(p.stats().messages, 4u);
  EXPECT_EQ(p.stats().requests, 2u);
  EXPECT_EQ(p.stats().responses, 2u);
  EXPECT_EQ(p.stats().blankLines, 2u);
  EXPECT_TRUE(p.idle());
}

TEST(RtspMessage, SplitAtEveryByteGivesTheSameMessages) {
  RtspParser whole;
  RtspParser split;
  const auto a = parseWhole(pipeline(), whole);
  const auto b = parseBytewise(pipeline(), split);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) expectSame(a[i], b[i]);
  // And split at every position in two.
  const std::string text = pipeline();
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    RtspParser p;
    auto first = parseRtspMessages(p, reinterpret_cast<const std::uint8_t*>(text.data()), cut).messages;
    const auto rest = parseRtspMessages(p, reinterpret_cast<const std::uint8_t*>(text.data()) + cut, text.size() - cut).messages;
    first.insert(first.end(), rest.begin(), rest.end());
    ASSERT_EQ(first.size(), a.size()) << "cut at " << cut;
  }
}

TEST(RtspMessage, HeaderValuesAreTrimmedAndTheLastOfANameWins) {
  RtspParser p;
  const auto m = parseWhole("RTSP/1.0 200 OK\r\nCSeq:3\r\nX-Thing :  a b \t\r\nx-thing: second\r\n\r\n", p);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(*m[0].header("cseq"), "3");
  EXPECT_EQ(*m[0].header("X-THING"), "second");
  ASSERT_EQ(m[0].headers.size(), 3u);
  EXPECT_EQ(m[0].headers[1].name, "X-Thing");
  EXPECT_EQ(m[0].headers[1].value, "a b");
  EXPECT_EQ(m[0].header("missing"), nullptr);
}

TEST(RtspMessage, AStatusLineWithoutReasonIsTolerated) {
  RtspParser p;
  const auto m = parseWhole("RTSP/1.0 200\r\nCSeq: 1\r\n\r\nRTSP/1.0 451 \r\n\r\n", p);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].status, 200);
  EXPECT_EQ(m[0].reason, "");
  EXPECT_EQ(m[1].status, 451);
}

TEST(RtspMessage, ABodyMayHoldAnyBytesIncludingLineBreaksAndNul) {
  std::string body("a\r\n\r\nRTSP/1.0 200 OK\r\n\0\xff", 24);
  RtspParser p;
  const auto m = parseWhole("ANNOUNCE rtsp://h/x RTSP/1.0\r\nContent-Length: 24\r\n\r\n" + body, p);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].body, body);
}

struct Refusal {
  const char* name;
  std::string text;
  RtspParseError reason;
};

TEST(RtspMessage, RefusesBrokenFramingNamingTheReasonAndCountsIt) {
  const std::vector<Refusal> cases = {
      {"garbage start line", "GARBAGE\r\n\r\n", RtspParseError::kBadStartLine},
      {"lower-case method", "describe rtsp://h/x RTSP/1.0\r\n\r\n", RtspParseError::kBadStartLine},
      {"HTTP version", "DESCRIBE rtsp://h/x HTTP/1.1\r\n\r\n", RtspParseError::kBadStartLine},
      {"two spaces", "DESCRIBE  rtsp://h/x RTSP/1.0\r\n\r\n", RtspParseError::kBadStartLine},
      {"no version", "DESCRIBE rtsp://h/x\r\n\r\n", RtspParseError::kBadStartLine},
      {"space in URL", "DESCRIBE rtsp://h/a b RTSP/1.0\r\n\r\n", RtspParseError::kBadStartLine},
      {"non-ASCII URL", "DESCRIBE rtsp://h/\xc3\xa9 RTSP/1.0\r\n\r\n", RtspParseError::kBadStartLine},
      {"two-digit status", "RTSP/1.0 20 OK\r\n\r\n", RtspParseError::kBadStartLine},
      {"four-digit status", "RTSP/1.0 2000 OK\r\n\r\n", RtspParseError::kBadStartLine},
      {"CR inside the reason", "RTSP/1.0 200 O\rK\r\n\r\n", RtspParseError::kBadStartLine},
      {"header without colon", "RTSP/1.0 200 OK\r\nCSeq 1\r\n\r\n", RtspParseError::kBadHeader},
      {"header with empty name", "RTSP/1.0 200 OK\r\n: 1\r\n\r\n", RtspParseError::kBadHeader},
      {"folded header", "RTSP/1.0 200 OK\r\nCSeq: 1\r\n  more\r\n\r\n", RtspParseError::kBadHeader},
      {"letters in Content-Length", "RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n", RtspParseError::kBadContentLength},
      {"negative Content-Length", "RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", RtspParseError::kBadContentLength},
      {"empty Content-Length", "RTSP/1.0 200 OK\r\nContent-Length:\r\n\r\n", RtspParseError::kBadContentLength},
      {"two Content-Lengths", "RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-length: 2\r\n\r\nab", RtspParseError::kBadContentLength},
      {"huge Content-Length", "RTSP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", RtspParseError::kBodyTooLong},
      {"body over 64 KiB", "RTSP/1.0 200 OK\r\nContent-Length: 65537\r\n\r\n", RtspParseError::kBodyTooLong},
      {"endless line", std::string(kRtspMaxLineBytes + 1, 'A'), RtspParseError::kLineTooLong},
  };
  for (const auto& c : cases) {
    for (bool bytewise : {false, true}) {
      RtspParser p;
      const auto m = bytewise ? parseBytewise(c.text, p) : parseWhole(c.text, p);
      EXPECT_TRUE(m.empty()) << c.name;
      EXPECT_EQ(p.error(), c.reason) << c.name << ": " << p.errorDetail();
      EXPECT_EQ(p.stats().refused[static_cast<std::size_t>(c.reason)], 1u) << c.name;
      EXPECT_EQ(p.stats().refusedTotal(), 1u) << c.name;
      EXPECT_NE(p.errorDetail().find(toString(c.reason)), std::string::npos) << p.errorDetail();
      // Failed stays failed: nothing more is taken until reset().
      EXPECT_EQ(p.feed("OPTIONS * RTSP/1.0\r\n\r\n"), 0u);
      p.reset();
      EXPECT_EQ(parseWhole("OPTIONS * RTSP/1.0\r\n\r\n", p).size(), 1u) << c.name;
    }
  }
}

TEST(RtspMessage, TwoEqualContentLengthsAreOneLength) {
  RtspParser p;
  const auto m = parseWhole("RTSP/1.0 200 OK\r\nContent-Length: 2\r\ncontent-length: 002\r\n\r\nab", p);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].body, "ab");
}

TEST(RtspMessage, LimitsAreExactAndNeverGrowMemory) {
  // A line of exactly the limit is taken; one byte more is refused before its LF arrives.
  const std::string url = "rtsp://h/" + std::string(kRtspMaxLineBytes - 9 - std::string("DESCRIBE  RTSP/1.0").size(), 'x');
  const std::string line = "DESCRIBE " + url + " RTSP/1.0";
  ASSERT_EQ(line.size(), kRtspMaxLineBytes);
  RtspParser ok;
  EXPECT_EQ(parseWhole(line + "\r\n\r\n", ok).size(), 1u);
  RtspParser over;
  const std::string longer = "DESCRIBE " + url + "x RTSP/1.0";
  over.feed(longer);
  EXPECT_EQ(over.error(), RtspParseError::kLineTooLong);

  // Header count: 64 headers are taken, 65 refused.
  std::string many = "OPTIONS * RTSP/1.0\r\n";
  for (std::size_t i = 0; i < kRtspMaxHeaders; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  RtspParser sixtyFour;
  EXPECT_EQ(parseWhole(many + "\r\n", sixtyFour).size(), 1u);
  RtspParser sixtyFive;
  parseWhole(many + "X-last: v\r\n\r\n", sixtyFive);
  EXPECT_EQ(sixtyFive.error(), RtspParseError::kTooManyHeaders);

  // Header block: 16 KiB without the last line end is taken (CRLF and LF); one more byte is refused.
  auto block = [](std::size_t size, const std::string& eol) {
    std::string b = "OPTIONS * RTSP/1.0" + eol;
    const std::string filler(6000, 'v');
    for (int i = 0; i < 2; ++i) b += "X-" + std::to_string(i) + ": " + filler + eol;
    const std::size_t used = b.size();
    b += "X-last: " + std::string(size - used - 8, 'w');
    return b + eol + eol;
  };
  for (const std::string eol : {"\r\n", "\n"}) {
    RtspParser atLimit;
    EXPECT_EQ(parseWhole(block(kRtspMaxHeaderBlockBytes, eol), atLimit).size(), 1u) << atLimit.errorDetail();
    RtspParser overLimit;
    parseWhole(block(kRtspMaxHeaderBlockBytes + 1, eol), overLimit);
    EXPECT_EQ(overLimit.error(), RtspParseError::kHeaderTooLong);
    RtspParser bytewise;
    parseBytewise(block(kRtspMaxHeaderBlockBytes + 1, eol), bytewise);
    EXPECT_EQ(bytewise.error(), RtspParseError::kHeaderTooLong);
  }

  // A body of exactly 64 KiB is taken.
  RtspParser body;
  const std::string big(kRtspMaxBodyBytes, 'b');
  const auto m = parseWhole("RTSP/1.0 200 OK\r\nContent-Length: 65536\r\n\r\n" + big, body);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].body.size(), kRtspMaxBodyBytes);

  // An endless line and endless blank lines: the parser holds at most one line.
  RtspParser endless;
  const std::string chunk(4096, 'z');
  std::size_t taken = 0;
  for (int i = 0; i < 100 && !endless.failed(); ++i) taken += endless.feed(chunk);
  EXPECT_EQ(endless.error(), RtspParseError::kLineTooLong);
  EXPECT_LE(taken, kRtspMaxLineBytes + 2);
  RtspParser blanks;
  for (int i = 0; i < 10000; ++i) blanks.feed("\r\n");
  EXPECT_FALSE(blanks.failed());
  EXPECT_TRUE(blanks.idle());
  EXPECT_EQ(blanks.stats().blankLines, 10000u);
}

TEST(RtspMessage, FeedStopsAfterEachMessageAndTakesNothingWhileOneWaits) {
  RtspParser p;
  const std::string two = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n";
  const std::size_t n = p.feed(two);
  EXPECT_EQ(n, two.size() / 2);
  EXPECT_TRUE(p.hasMessage());
  EXPECT_EQ(p.feed(two.substr(n)), 0u);
  EXPECT_EQ(*p.take().header("CSeq"), "1");
  EXPECT_THROW(p.take(), std::logic_error);
  EXPECT_EQ(p.feed(two.substr(n)), two.size() - n);
  EXPECT_EQ(*p.take().header("CSeq"), "2");
}

TEST(RtspMessage, WriterOutputParsesBackToTheSameMessage) {
  const std::string req = writeRtspRequest("DESCRIBE", "rtsp://10.67.180.1:554/by-id/3",
                                           {{"CSeq", "12"}, {"Accept", "application/sdp"}, {"Content-Length", "999"}});
  EXPECT_EQ(req, "DESCRIBE rtsp://10.67.180.1:554/by-id/3 RTSP/1.0\r\nCSeq: 12\r\nAccept: application/sdp\r\n\r\n");
  const std::string res = writeRtspResponse(200, "OK", {{"CSeq", "12"}, {"Content-Type", "application/sdp"}}, kSdp);
  RtspParser p;
  const auto m = parseWhole(req + res, p);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].body, kSdp);
  EXPECT_EQ(*m[1].header("content-length"), std::to_string(kSdp.size()));
  for (const auto& msg : m) {
    RtspParser again;
    const auto back = parseWhole(writeRtspMessage(msg), again);
    ASSERT_EQ(back.size(), 1u);
    expectSame(back[0], msg);
  }
}

TEST(RtspMessage, WriterRefusesWhatWouldBreakFraming) {
  EXPECT_THROW(writeRtspRequest("describe", "rtsp://h/x", {}), std::invalid_argument);
  EXPECT_THROW(writeRtspRequest("DESCRIBE", "rtsp://h/a b", {}), std::invalid_argument);
  EXPECT_THROW(writeRtspRequest("DESCRIBE", "rtsp://h/x", {{"X", "a\r\nInjected: 1"}}), std::invalid_argument);
  EXPECT_THROW(writeRtspRequest("DESCRIBE", "rtsp://h/x", {{"X:Y", "a"}}), std::invalid_argument);
  EXPECT_THROW(writeRtspResponse(20, "OK", {}), std::invalid_argument);
  EXPECT_THROW(writeRtspResponse(200, "O\nK", {}), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
