// RtspClient, sans-IO: every path driven by hand — DESCRIBE by name and by id (with and
// without OPTIONS), each error status, no SDP and bad SDP, time-outs, a closed or broken
// connection, ANNOUNCE followed and refused, other server requests, keepalive, backoff
// doubling and resetting, bounded output and events. The server side is written here
// with the engine's own writer and read with its parser; the crossing with the lab's
// independent server is native/test/rtsp-client.test.ts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/rtsp/rtsp_client.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kMs = 1'000'000;
constexpr Nanoseconds kS = kNanosPerSecond;

std::string sdp(int version, int channels = 2) {
  return "v=0\r\no=- 17 " + std::to_string(version) + " IN IP4 10.67.180.1\r\ns=Stage box 1, mix\r\nc=IN IP4 239.1.180.1/15\r\nt=0 0\r\n"
         "a=clock-domain:PTPv2 0\r\nm=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/" + std::to_string(channels) +
         "\r\na=sync-time:0\r\na=framecount:48\r\na=ptime:1\r\na=mediaclk:direct=0\r\n"
         "a=ts-refclk:ptp=IEEE1588-2008:00-1d-c1-ff-fe-00-00-01:0\r\na=recvonly\r\n";
}

const std::string kUrl = "rtsp://10.67.180.1:554/by-name/Stage%20box%201%2C%20mix";

// The far end: reads the client's requests, writes what the test says.
struct Server {
  RtspParser parser;
  std::vector<RtspMessage> got;
  void read(RtspClient& c) {
    const std::string out = c.takeOutgoing();
    const auto r = parseRtspMessages(parser, reinterpret_cast<const std::uint8_t*>(out.data()), out.size());
    EXPECT_EQ(r.error, RtspParseError::kNone) << parser.errorDetail();
    got.insert(got.end(), r.messages.begin(), r.messages.end());
  }
  const RtspMessage& last() const { return got.back(); }
  std::string cseq() const { return *got.back().header("CSeq"); }
};

void send(RtspClient& c, const std::string& bytes, Nanoseconds now) {
  c.receive(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), now);
}

std::string sdpResponse(const std::string& cseq, const std::string& body) {
  return writeRtspResponse(200, "OK", {{"CSeq", cseq}, {"Content-Type", "application/sdp"}, {"Content-Base", kUrl + "/"}}, body);
}

RtspClientConfig config(const std::string& url = kUrl) {
  RtspClientConfig c;
  c.url = url;
  return c;
}

// Connects and answers the DESCRIBE with `body`; returns the client described.
void describe(RtspClient& c, Server& s, const std::string& body, Nanoseconds now) {
  c.poll(now);
  ASSERT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kConnect);
  c.connected(now);
  s.read(c);
  ASSERT_EQ(s.last().method, "DESCRIBE");
  send(c, sdpResponse(s.cseq(), body), now + kMs);
  ASSERT_EQ(c.state(), RtspClientState::kDescribed);
}

TEST(RtspClient, DescribesByNameWithAcceptSdpAndTakesTheAnswer) {
  RtspClient c(config());
  Server s;
  EXPECT_EQ(c.state(), RtspClientState::kIdle);
  EXPECT_EQ(c.poll(0), 3 * kS);  // the connect time-out
  EXPECT_EQ(c.state(), RtspClientState::kConnecting);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kConnect);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);
  EXPECT_EQ(c.url().host, "10.67.180.1");
  EXPECT_EQ(c.url().port, 554);
  c.connected(1 * kMs);
  s.read(c);
  ASSERT_EQ(s.got.size(), 1u);
  const RtspMessage& d = s.got[0];
  EXPECT_EQ(d.method, "DESCRIBE");
  EXPECT_EQ(d.url, kUrl);
  EXPECT_EQ(*d.header("Accept"), "application/sdp");
  EXPECT_EQ(*d.header("CSeq"), "1");
  EXPECT_EQ(*d.header("User-Agent"), "aes67-lab engine");
  EXPECT_EQ(c.poll(1 * kMs), 1 * kMs + 5 * kS);  // the response time-out

  send(c, sdpResponse("1", sdp(1)), 2 * kMs);
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
  ASSERT_TRUE(c.currentSdp());
  EXPECT_EQ(*c.currentSdp(), sdp(1));
  const auto events = c.takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RtspClientEvent::Kind::kDescription);
  EXPECT_EQ(events[0].sdp, sdp(1));
  EXPECT_TRUE(events[0].changed);
  EXPECT_EQ(events[0].at, 2 * kMs);
  EXPECT_EQ(c.stats().describes, 1u);
  EXPECT_EQ(c.poll(3 * kMs), std::numeric_limits<Nanoseconds>::max());  // nothing to wait for
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);  // the connection stays
}

TEST(RtspClient, DescribesByIdAndSendsOptionsFirstWhenAsked) {
  auto cfg = config(ravennaSessionUrlById("10.67.180.1", 8554, 3));
  cfg.sendOptions = true;
  RtspClient c(cfg);
  Server s;
  c.poll(0);
  c.connected(0);
  s.read(c);
  ASSERT_EQ(s.got.size(), 1u);
  EXPECT_EQ(s.last().method, "OPTIONS");
  EXPECT_EQ(s.last().url, "rtsp://10.67.180.1:8554/by-id/3");
  // OPTIONS answered 501 still leads to DESCRIBE: OPTIONS is only an opening.
  send(c, writeRtspResponse(501, "Not Implemented", {{"CSeq", "1"}}), kMs);
  s.read(c);
  ASSERT_EQ(s.got.size(), 2u);
  EXPECT_EQ(s.last().method, "DESCRIBE");
  EXPECT_EQ(s.cseq(), "2");
  send(c, sdpResponse("2", sdp(1)), 2 * kMs);
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
  EXPECT_EQ(c.stats().requests, 2u);
}

TEST(RtspClient, AnAnswerSplitAtEveryByteIsTheSame) {
  RtspClient c(config());
  Server s;
  c.poll(0);
  c.connected(0);
  s.read(c);
  const std::string answer = sdpResponse("1", sdp(1));
  for (char ch : answer) {
    const auto b = static_cast<std::uint8_t>(ch);
    c.receive(&b, 1, kMs);
  }
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
  EXPECT_EQ(*c.currentSdp(), sdp(1));
}

struct StatusCase {
  int status;
  const char* reason;
  RtspClientError error;
};

TEST(RtspClient, ErrorStatusesAreReportedWithTheReasonAndRetriedWithBackoff) {
  for (const StatusCase& k : {StatusCase{404, "Not Found", RtspClientError::kNotFound},
                              StatusCase{405, "Method Not Allowed", RtspClientError::kMethodNotAllowed},
                              StatusCase{406, "Not Acceptable", RtspClientError::kNotAcceptable},
                              StatusCase{500, "Internal Server Error", RtspClientError::kStatus},
                              StatusCase{302, "Moved Temporarily", RtspClientError::kStatus}}) {
    RtspClient c(config());
    Server s;
    c.poll(0);
    c.takeLinkCommand();
    c.connected(0);
    s.read(c);
    send(c, writeRtspResponse(k.status, k.reason, {{"CSeq", "1"}}), 10 * kMs);
    EXPECT_EQ(c.state(), RtspClientState::kBackoff) << k.status;
    EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
    const auto events = c.takeEvents();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, RtspClientEvent::Kind::kError);
    EXPECT_EQ(events[0].error, k.error);
    EXPECT_EQ(events[0].status, k.status);
    EXPECT_EQ(events[0].message, "DESCRIBE " + kUrl + ": " + std::to_string(k.status) + " " + k.reason);
    EXPECT_EQ(c.stats().errors[static_cast<std::size_t>(k.error)], 1u);
    EXPECT_FALSE(c.currentSdp());
    // The retry waits 1 s, then 2 s, 4 s ... up to 30 s.
    EXPECT_EQ(c.poll(10 * kMs), 10 * kMs + 1 * kS);
    EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);
  }
}

TEST(RtspClient, BackoffDoublesUpToItsLimitAndResetsOnceDescribed) {
  auto cfg = config();
  cfg.retryInitial = 1 * kS;
  cfg.retryMax = 8 * kS;
  RtspClient c(cfg);
  Server s;
  Nanoseconds now = 0;
  std::vector<Nanoseconds> waits;
  for (int attempt = 0; attempt < 6; ++attempt) {
    c.poll(now);
    ASSERT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kConnect) << attempt;
    c.connectFailed(now, "ECONNREFUSED");
    const Nanoseconds next = c.poll(now);
    waits.push_back(next - now);
    now = next;
  }
  EXPECT_EQ(waits, (std::vector<Nanoseconds>{1 * kS, 2 * kS, 4 * kS, 8 * kS, 8 * kS, 8 * kS}));
  const auto events = c.takeEvents();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].error, RtspClientError::kConnectFailed);
  EXPECT_EQ(events[0].message, "connecting to 10.67.180.1:554 failed: ECONNREFUSED");
  EXPECT_EQ(c.stats().connects, 6u);
  EXPECT_EQ(c.stats().connected, 0u);
  describe(c, s, sdp(1), now);
  EXPECT_EQ(c.currentBackoff(), 1 * kS);
}

TEST(RtspClient, ConnectAndResponseTimeOutsCloseAndRetry) {
  RtspClient c(config());
  c.poll(0);
  c.takeLinkCommand();
  EXPECT_EQ(c.poll(3 * kS - 1), 3 * kS);
  c.poll(3 * kS);
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
  auto e = c.takeEvents();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error, RtspClientError::kConnectTimeout);
  EXPECT_EQ(e[0].message, "no connection to 10.67.180.1:554 within 3000 ms");
  // A late connected() for the abandoned attempt changes nothing.
  c.connected(3 * kS + 1);
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_TRUE(c.takeOutgoing().empty());

  c.poll(4 * kS);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kConnect);
  c.connected(4 * kS);
  c.takeOutgoing();
  c.poll(9 * kS);
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
  e = c.takeEvents();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error, RtspClientError::kResponseTimeout);
  EXPECT_EQ(e[0].message, "no answer to DESCRIBE " + kUrl + " within 5000 ms");
}

TEST(RtspClient, AnswersWithAnotherOrNoCSeqAreDroppedAndCounted) {
  RtspClient c(config());
  Server s;
  c.poll(0);
  c.connected(0);
  s.read(c);
  send(c, sdpResponse("7", sdp(1)), kMs);
  send(c, writeRtspResponse(200, "OK", {{"Content-Type", "application/sdp"}}, sdp(1)), kMs);
  send(c, sdpResponse("x1", sdp(1)), kMs);
  EXPECT_EQ(c.state(), RtspClientState::kRequesting);
  EXPECT_EQ(c.stats().unexpectedResponses, 3u);
  send(c, writeRtspResponse(100, "Continue", {{"CSeq", "1"}}), kMs);  // provisional
  EXPECT_EQ(c.state(), RtspClientState::kRequesting);
  send(c, sdpResponse("1", sdp(1)), kMs);
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
}

TEST(RtspClient, A200WithoutSdpOrWithABadSdpIsAnError) {
  struct Case {
    std::string answer;
    RtspClientError error;
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {writeRtspResponse(200, "OK", {{"CSeq", "1"}, {"Content-Type", "text/html"}}, "<html/>"), RtspClientError::kNotSdp, "Content-Type \"text/html\""},
      {writeRtspResponse(200, "OK", {{"CSeq", "1"}}, sdp(1)), RtspClientError::kNotSdp, "Content-Type \"\""},
      {writeRtspResponse(200, "OK", {{"CSeq", "1"}, {"Content-Type", "application/sdp"}}), RtspClientError::kNotSdp, "no body"},
      {writeRtspResponse(200, "OK", {{"CSeq", "1"}, {"Content-Type", "application/sdp"}}, "v=1\r\n"), RtspClientError::kBadSdp, "cannot read"},
  };
  for (const auto& k : cases) {
    RtspClient c(config());
    c.poll(0);
    c.takeLinkCommand();
    c.connected(0);
    c.takeOutgoing();
    send(c, k.answer, kMs);
    EXPECT_EQ(c.state(), RtspClientState::kBackoff);
    EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
    ASSERT_TRUE(c.lastError());
    EXPECT_EQ(c.lastError()->error, k.error);
    EXPECT_NE(c.lastError()->message.find(k.fragment), std::string::npos) << c.lastError()->message;
  }
  // Parameters and case in the media type are fine.
  RtspClient c(config());
  c.poll(0);
  c.connected(0);
  c.takeOutgoing();
  send(c, writeRtspResponse(200, "OK", {{"CSeq", "1"}, {"content-type", "Application/SDP; charset=utf-8"}}, sdp(1)), kMs);
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
}

TEST(RtspClient, FollowsAnnounceAnsweringWithTheSameCSeq) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  c.takeEvents();
  const std::string announce = writeRtspRequest("ANNOUNCE", kUrl, {{"CSeq", "41"}, {"Content-Type", "application/sdp"}}, sdp(2, 4));
  send(c, announce, 1 * kS);
  s.read(c);
  ASSERT_FALSE(s.last().isRequest);
  EXPECT_EQ(s.last().status, 200);
  EXPECT_EQ(s.cseq(), "41");
  EXPECT_EQ(*c.currentSdp(), sdp(2, 4));
  auto events = c.takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RtspClientEvent::Kind::kChanged);
  EXPECT_EQ(events[0].sdp, sdp(2, 4));
  EXPECT_EQ(c.stats().announcements, 1u);
  // The same SDP again: answered 200, nothing to follow.
  send(c, writeRtspRequest("ANNOUNCE", kUrl, {{"CSeq", "42"}, {"Content-Type", "application/sdp"}}, sdp(2, 4)), 2 * kS);
  s.read(c);
  EXPECT_EQ(s.last().status, 200);
  EXPECT_EQ(s.cseq(), "42");
  EXPECT_TRUE(c.takeEvents().empty());
  EXPECT_EQ(c.stats().unchangedAnnouncements, 1u);
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
}

TEST(RtspClient, RefusesBadAnnouncementsButKeepsTheDescriptionAndTheConnection) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  c.takeEvents();
  struct Case {
    std::string request;
    int status;
    const char* cseq;
  };
  const std::vector<Case> cases = {
      {writeRtspRequest("ANNOUNCE", kUrl, {{"CSeq", "5"}, {"Content-Type", "text/plain"}}, "hello"), 415, "5"},
      {writeRtspRequest("ANNOUNCE", kUrl, {{"CSeq", "6"}, {"Content-Type", "application/sdp"}}, "v=0\r\nbroken\r\n"), 400, "6"},
      {writeRtspRequest("ANNOUNCE", kUrl, {{"CSeq", "7"}, {"Content-Type", "application/sdp"}}), 400, "7"},
  };
  for (const auto& k : cases) {
    send(c, k.request, kS);
    s.read(c);
    EXPECT_EQ(s.last().status, k.status);
    EXPECT_EQ(s.cseq(), k.cseq);
    const auto e = c.takeEvents();
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].error, RtspClientError::kBadAnnounce);
  }
  EXPECT_EQ(c.state(), RtspClientState::kDescribed);
  EXPECT_EQ(*c.currentSdp(), sdp(1));
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);
  EXPECT_EQ(c.stats().refusedServerRequests, 3u);
}

TEST(RtspClient, AnswersOtherServerRequests) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  send(c, writeRtspRequest("OPTIONS", "*", {{"CSeq", "9"}}), kS);
  s.read(c);
  EXPECT_EQ(s.last().status, 200);
  EXPECT_EQ(*s.last().header("Public"), "OPTIONS, ANNOUNCE");
  EXPECT_EQ(s.cseq(), "9");
  send(c, writeRtspRequest("SET_PARAMETER", kUrl, {{"CSeq", "10"}}), kS);
  s.read(c);
  EXPECT_EQ(s.last().status, 405);
  EXPECT_EQ(*s.last().header("Allow"), "OPTIONS, ANNOUNCE");
  send(c, writeRtspRequest("ANNOUNCE", kUrl, {{"Content-Type", "application/sdp"}}, sdp(3)), kS);
  s.read(c);
  EXPECT_EQ(s.last().status, 400);
  EXPECT_EQ(s.last().header("CSeq"), nullptr);
  EXPECT_EQ(*c.currentSdp(), sdp(1));
  EXPECT_EQ(c.stats().serverRequests, 3u);
}

TEST(RtspClient, ReconnectsAfterTheServerClosesAndReportsWhetherTheSdpChanged) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  c.takeEvents();
  c.closed(10 * kS, "EOF");
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);  // already closed
  auto e = c.takeEvents();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].error, RtspClientError::kClosed);
  EXPECT_EQ(e[0].message, "the server closed the connection for " + kUrl + ": EOF");
  EXPECT_EQ(*c.currentSdp(), sdp(1));  // kept while reconnecting
  EXPECT_EQ(c.poll(10 * kS), 11 * kS);
  s = Server{};
  describe(c, s, sdp(1), 11 * kS);
  e = c.takeEvents();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, RtspClientEvent::Kind::kDescription);
  EXPECT_FALSE(e[0].changed);
  EXPECT_EQ(s.cseq(), "2");  // CSeq keeps counting across connections

  c.closed(20 * kS, "ECONNRESET");
  c.poll(21 * kS);
  s = Server{};
  describe(c, s, sdp(5), 21 * kS);
  e = c.takeEvents();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].kind, RtspClientEvent::Kind::kDescription);
  EXPECT_TRUE(e[1].changed);
  EXPECT_EQ(c.stats().connected, 3u);
}

TEST(RtspClient, BrokenFramingFromTheServerClosesTheConnection) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  send(c, "HTTP/1.1 200 OK\r\n\r\n", kS);
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
  ASSERT_TRUE(c.lastError());
  EXPECT_EQ(c.lastError()->error, RtspClientError::kProtocol);
  EXPECT_NE(c.lastError()->message.find("bad-start-line"), std::string::npos);
  EXPECT_EQ(c.parserStats().refused[static_cast<std::size_t>(RtspParseError::kBadStartLine)], 1u);
  // Bytes after that are not read.
  send(c, writeRtspRequest("OPTIONS", "*", {{"CSeq", "1"}}), kS);
  EXPECT_TRUE(c.takeOutgoing().empty());
  EXPECT_GT(c.stats().ignoredBytes, 0u);
}

TEST(RtspClient, KeepaliveOptionsWhileDescribedAndItsTimeOut) {
  auto cfg = config();
  cfg.keepaliveInterval = 10 * kS;
  RtspClient c(cfg);
  Server s;
  describe(c, s, sdp(1), 0);
  EXPECT_EQ(c.poll(kMs), kMs + 10 * kS);
  c.poll(kMs + 10 * kS);
  s.read(c);
  EXPECT_EQ(s.last().method, "OPTIONS");
  send(c, writeRtspResponse(200, "OK", {{"CSeq", s.cseq()}}), 10 * kS + 2 * kMs);
  EXPECT_EQ(c.poll(10 * kS + 2 * kMs), 20 * kS + 2 * kMs);
  c.poll(20 * kS + 2 * kMs);
  s.read(c);
  EXPECT_EQ(s.last().method, "OPTIONS");
  // This one is never answered: the server is gone without a FIN.
  c.poll(25 * kS + 2 * kMs);
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.lastError()->error, RtspClientError::kResponseTimeout);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
}

TEST(RtspClient, OutputNotTakenIsBoundedAndDropsTheLink) {
  auto cfg = config();
  cfg.maxOutgoingBytes = 2000;
  RtspClient c(cfg);
  Server s;
  describe(c, s, sdp(1), 0);
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += writeRtspRequest("OPTIONS", "*", {{"CSeq", std::to_string(i)}});
  send(c, flood, kS);  // the owner never takes the answers
  EXPECT_EQ(c.state(), RtspClientState::kBackoff);
  EXPECT_EQ(c.lastError()->error, RtspClientError::kOverflow);
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
  EXPECT_TRUE(c.takeOutgoing().empty());
}

TEST(RtspClient, EventsAreBoundedWithoutACallbackAndDeliveredWithOne) {
  auto cfg = config();
  cfg.maxQueuedEvents = 3;
  RtspClient c(cfg);
  Nanoseconds now = 0;
  for (int i = 0; i < 5; ++i) {
    c.poll(now);
    c.connectFailed(now, "refused " + std::to_string(i));
    now = c.poll(now);
  }
  const auto e = c.takeEvents();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_NE(e[0].message.find("refused 2"), std::string::npos);
  EXPECT_EQ(c.stats().droppedEvents, 2u);
  std::vector<RtspClientEvent> seen;
  c.setCallback([&](const RtspClientEvent& ev) { seen.push_back(ev); });
  c.poll(now);
  c.connectFailed(now, "again");
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_TRUE(c.takeEvents().empty());
}

TEST(RtspClient, StopClosesAndNeverRetries) {
  RtspClient c(config());
  Server s;
  describe(c, s, sdp(1), 0);
  c.stop();
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kClose);
  EXPECT_EQ(c.poll(1000 * kS), std::numeric_limits<Nanoseconds>::max());
  EXPECT_EQ(c.takeLinkCommand(), RtspClient::LinkCommand::kNone);
  EXPECT_EQ(c.state(), RtspClientState::kStopped);
}

TEST(RtspClient, BytesOutsideAConnectionAreIgnored) {
  RtspClient c(config());
  send(c, "RTSP/1.0 200 OK\r\n\r\n", 0);
  EXPECT_EQ(c.stats().ignoredBytes, 19u);
  c.poll(0);
  send(c, "RTSP/1.0 200 OK\r\n\r\n", 0);  // connecting, not connected yet
  EXPECT_EQ(c.stats().ignoredBytes, 38u);
  EXPECT_EQ(c.parserStats().messages, 0u);
}

TEST(RtspClient, RefusesABadConfigurationNamingTheProblem) {
  auto expectMessage = [](const RtspClientConfig& cfg, const std::string& fragment) {
    try {
      RtspClient c(cfg);
      ADD_FAILURE() << "accepted " << cfg.url;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expectMessage(config("http://10.0.0.1/x"), "the scheme is not rtsp://");
  expectMessage(config("rtsp://10.0.0.1:0/x"), "port 0 is not 1-65535");
  expectMessage(config("rtsp://10.0.0.1:99999/x"), "is not 1-65535");
  expectMessage(config("rtsp://10.0.0.1/by-name/a b"), "must be percent-encoded");
  expectMessage(config("rtsp:///x"), "no host");
  auto cfg = config();
  cfg.retryMax = cfg.retryInitial - 1;
  expectMessage(cfg, "retryInitial <= retryMax");
  cfg = config();
  cfg.responseTimeout = 0;
  expectMessage(cfg, "time-outs must be positive");
}

TEST(RtspUrl, RavennaUrlsRoundTripNamesWithSpacesCommasAndUtf8) {
  const std::string name = "Studio A mix, 2ch \xc3\xa9/100%";
  const std::string url = ravennaSessionUrlByName("10.0.0.1", 8554, name);
  EXPECT_EQ(url, "rtsp://10.0.0.1:8554/by-name/Studio%20A%20mix%2C%202ch%20%C3%A9%2F100%25");
  const RtspUrl u = parseRtspUrl(url);
  EXPECT_EQ(u.host, "10.0.0.1");
  EXPECT_EQ(u.port, 8554);
  EXPECT_EQ(percentDecode(u.path.substr(std::string("/by-name/").size())), name);
  EXPECT_EQ(parseRtspUrl("RTSP://horus.local/x").port, kRtspDefaultPort);
  EXPECT_EQ(parseRtspUrl("rtsp://h").path, "/");
  EXPECT_EQ(ravennaSessionUrlById("h", 554, 12), "rtsp://h:554/by-id/12");
  EXPECT_THROW(percentDecode("%4"), std::invalid_argument);
  EXPECT_THROW(percentDecode("%zz"), std::invalid_argument);
  EXPECT_THROW(ravennaSessionUrlByName("h", 554, ""), std::invalid_argument);
  EXPECT_THROW(ravennaSessionUrlByName("a b", 554, "x"), std::invalid_argument);
}

}  // namespace
}  // namespace aes67
