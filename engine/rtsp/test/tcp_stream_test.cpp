// TcpStream and RtspTcpClient on real loopback TCP (ports 49000-49999 of this test's
// range): connect, both directions, the peer's FIN, refusal, connect time-out against a
// listener whose accept queue is full, a writer that outpaces a peer that never reads;
// and the RTSP client over it: DESCRIBE, ANNOUNCE answered, a drop and a reconnect. The
// far end is plain POSIX sockets driven by the test, one thread.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/rtsp/rtsp_tcp_client.hpp"
#include "engine/rtsp/tcp_stream.hpp"

namespace aes67 {
namespace {

constexpr Nanoseconds kMs = 1'000'000;
const Ipv4Address kLoopback = 0x7f000001;

// A listening socket on 127.0.0.1:port (SO_REUSEADDR), closed by the destructor.
struct Listener {
  int fd = -1;
  std::uint16_t port;
  Listener(std::uint16_t p, int backlog = 8) : port(p) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(kLoopback);
    sa.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, backlog) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1:" << port << ": " << std::strerror(errno);
    }
  }
  ~Listener() { ::close(fd); }
  // The next connection within `ms`, or -1.
  int accept(int ms) const {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
};

// Reads what arrives on fd within `ms` (stops early once `until` is in what was read).
std::string readFor(int fd, int ms, const std::string& until = "") {
  std::string got;
  const Nanoseconds end = RealClock().now() + ms * kMs;
  char buf[4096];
  while (RealClock().now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && got.find(until) != std::string::npos) break;
  }
  return got;
}

void sendAll(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Polls until `done` or `ms` pass.
template <typename Done>
bool pollUntil(TcpStream& s, int ms, Done done) {
  const Nanoseconds end = RealClock().now() + ms * kMs;
  while (RealClock().now() < end) {
    s.update();
    if (done()) return true;
    s.wait(5 * kMs);
  }
  return done();
}

TEST(TcpStream, ConnectsCarriesBytesBothWaysAndSeesTheFin) {
  RealClock clock;
  Listener l(49001);
  TcpStream s(clock, {kLoopback, 49001});
  const int peer = l.accept(2000);
  ASSERT_GE(peer, 0);
  ASSERT_TRUE(pollUntil(s, 2000, [&] { return s.state() == TcpStream::State::kOpen; }));
  EXPECT_EQ(s.local().address, kLoopback);
  EXPECT_NE(s.local().port, 0);
  const std::string hello = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n";
  EXPECT_TRUE(s.write(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()));
  EXPECT_EQ(readFor(peer, 2000, "\r\n\r\n"), hello);
  sendAll(peer, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  ::shutdown(peer, SHUT_WR);
  std::string got;
  std::uint8_t buf[64];
  ASSERT_TRUE(pollUntil(s, 2000, [&] {
    for (std::size_t n; (n = s.read(buf, sizeof buf)) > 0;) got.append(reinterpret_cast<char*>(buf), n);
    return s.state() == TcpStream::State::kClosed;
  }));
  EXPECT_EQ(got, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
  EXPECT_EQ(s.error(), "the peer closed the connection");
  ::close(peer);
}

TEST(TcpStream, ARefusedConnectFailsNamingTheReason) {
  RealClock clock;
  TcpStream s(clock, {kLoopback, 49002});  // nothing listens
  ASSERT_TRUE(pollUntil(s, 2000, [&] { return s.state() == TcpStream::State::kFailed; }));
  EXPECT_NE(s.error().find("ECONNREFUSED"), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("127.0.0.1:49002"), std::string::npos) << s.error();
  const std::uint8_t b = 0;
  EXPECT_FALSE(s.write(&b, 1));
}

TEST(TcpStream, AConnectWithoutAnswerTimesOut) {
  // A listener that never accepts, with its queue filled: the kernel drops further SYNs,
  // so a connect neither completes nor fails until the time-out.
  RealClock clock;
  Listener l(49003, 0);
  TcpStreamOptions o;
  o.connectTimeout = 300 * kMs;
  std::vector<std::unique_ptr<TcpStream>> fillers;
  std::unique_ptr<TcpStream> s;
  for (int i = 0; i < 8 && !s; ++i) {
    auto t = std::make_unique<TcpStream>(clock, Ipv4Endpoint{kLoopback, 49003}, o);
    pollUntil(*t, 100, [&] { return t->state() != TcpStream::State::kConnecting; });
    if (t->state() == TcpStream::State::kConnecting) {
      s = std::move(t);
    } else {
      fillers.push_back(std::move(t));
    }
  }
  ASSERT_TRUE(s) << "the accept queue never filled";
  ASSERT_TRUE(pollUntil(*s, 3000, [&] { return s->state() == TcpStream::State::kFailed; }));
  EXPECT_NE(s->error().find("no answer within 300 ms"), std::string::npos) << s->error();
}

TEST(TcpStream, QueuedBytesAreBoundedWhenThePeerNeverReads) {
  RealClock clock;
  Listener l(49004);
  TcpStreamOptions o;
  o.maxQueuedBytes = 64 * 1024;
  TcpStream s(clock, {kLoopback, 49004}, o);
  const int peer = l.accept(2000);
  ASSERT_GE(peer, 0);
  ASSERT_TRUE(pollUntil(s, 2000, [&] { return s.state() == TcpStream::State::kOpen; }));
  const std::vector<std::uint8_t> chunk(16 * 1024, 0x55);
  bool refused = false;
  for (int i = 0; i < 10000 && !refused; ++i) refused = !s.write(chunk.data(), chunk.size());
  EXPECT_TRUE(refused);
  EXPECT_EQ(s.state(), TcpStream::State::kFailed);
  EXPECT_NE(s.error().find("does not read"), std::string::npos) << s.error();
  EXPECT_EQ(s.queuedBytes(), 0u);
  ::close(peer);
}

std::string sdp(int version) {
  return "v=0\r\no=- 9 " + std::to_string(version) + " IN IP4 127.0.0.1\r\ns=Loop\r\nc=IN IP4 239.1.180.9/15\r\nt=0 0\r\n"
         "m=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/2\r\na=ptime:1\r\n";
}

TEST(RtspTcpClient, DescribesFollowsAnnounceAndReconnectsAfterADrop) {
  RealClock clock;
  Listener l(49005);
  RtspClientConfig cfg;
  cfg.url = ravennaSessionUrlByName("127.0.0.1", 49005, "Loop");
  cfg.retryInitial = 50 * kMs;
  RtspTcpClient c(clock, cfg);
  std::vector<RtspClientEvent> events;
  c.client().setCallback([&](const RtspClientEvent& e) { events.push_back(e); });
  auto pump = [&](int ms, auto done) {
    const Nanoseconds end = clock.now() + ms * kMs;
    while (clock.now() < end && !done()) {
      const Nanoseconds next = c.poll();
      c.wait(std::min(next, clock.now() + 5 * kMs));
    }
    return done();
  };
  c.poll();
  int peer = l.accept(2000);
  ASSERT_GE(peer, 0);
  c.poll();
  std::string req = readFor(peer, 2000, "\r\n\r\n");
  RtspParser p;
  auto m = parseRtspMessages(p, reinterpret_cast<const std::uint8_t*>(req.data()), req.size()).messages;
  ASSERT_EQ(m.size(), 1u) << req;
  EXPECT_EQ(m[0].method, "DESCRIBE");
  EXPECT_EQ(m[0].url, "rtsp://127.0.0.1:49005/by-name/Loop");
  sendAll(peer, writeRtspResponse(200, "OK", {{"CSeq", *m[0].header("CSeq")}, {"Content-Type", "application/sdp"}}, sdp(1)));
  ASSERT_TRUE(pump(2000, [&] { return c.client().state() == RtspClientState::kDescribed; }));
  sendAll(peer, writeRtspRequest("ANNOUNCE", cfg.url, {{"CSeq", "3"}, {"Content-Type", "application/sdp"}}, sdp(2)));
  ASSERT_TRUE(pump(2000, [&] { return c.client().stats().announcements == 1; }));
  const std::string answer = readFor(peer, 2000, "\r\n\r\n");
  EXPECT_EQ(answer, "RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n");
  EXPECT_EQ(*c.client().currentSdp(), sdp(2));

  ::close(peer);  // the server goes away; the client reconnects after its backoff
  ASSERT_TRUE(pump(2000, [&] { return c.client().state() == RtspClientState::kBackoff; }));
  EXPECT_EQ(c.client().lastError()->error, RtspClientError::kClosed);
  peer = -1;
  ASSERT_TRUE(pump(2000, [&] {
    if (peer < 0) peer = l.accept(0);
    return peer >= 0 && c.client().stats().requests == 2;
  }));
  req = readFor(peer, 2000, "\r\n\r\n");
  p.reset();
  m = parseRtspMessages(p, reinterpret_cast<const std::uint8_t*>(req.data()), req.size()).messages;
  ASSERT_EQ(m.size(), 1u);
  sendAll(peer, writeRtspResponse(200, "OK", {{"CSeq", *m[0].header("CSeq")}, {"Content-Type", "application/sdp"}}, sdp(2)));
  ASSERT_TRUE(pump(2000, [&] { return c.client().state() == RtspClientState::kDescribed; }));
  ASSERT_EQ(events.size(), 4u);  // description, changed, error (closed), description (unchanged)
  EXPECT_EQ(events[0].kind, RtspClientEvent::Kind::kDescription);
  EXPECT_EQ(events[1].kind, RtspClientEvent::Kind::kChanged);
  EXPECT_EQ(events[2].kind, RtspClientEvent::Kind::kError);
  EXPECT_EQ(events[3].kind, RtspClientEvent::Kind::kDescription);
  EXPECT_FALSE(events[3].changed);
  c.stop();
  EXPECT_EQ(c.stream(), nullptr);
  EXPECT_EQ(readFor(peer, 1000), "");  // the stop closed it: EOF
  ::close(peer);
}

TEST(RtspTcpClient, AHostNameIsAConnectFailureNamingTheFix) {
  RealClock clock;
  RtspClientConfig cfg;
  cfg.url = "rtsp://horus.local:554/by-name/x";
  RtspTcpClient c(clock, cfg);
  c.poll();
  ASSERT_TRUE(c.client().lastError());
  EXPECT_EQ(c.client().lastError()->error, RtspClientError::kConnectFailed);
  EXPECT_NE(c.client().lastError()->message.find("not an IPv4 address (resolve it through DNS-SD first)"), std::string::npos);
}

}  // namespace
}  // namespace aes67
