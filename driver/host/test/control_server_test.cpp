// The control endpoint's HTTP handling and bounds, on a Unix socket in a temporary folder.
#include "driver/host/control_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "driver/host/software_dut_config.hpp"

namespace aes67 {
namespace {

// A socket path in a fresh folder, removed with it (declared before the server, so the
// server has unlinked its socket by then).
struct SocketFolder {
  std::string dir;
  std::string path;
  SocketFolder() {
    char d[] = "/tmp/a67dx-ctl-XXXXXX";
    dir = ::mkdtemp(d);
    path = dir + "/s";
  }
  ~SocketFolder() { ::rmdir(dir.c_str()); }
};

int connectTo(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size());
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Sends `request` and serves until the server closes the connection; returns the response.
std::string exchange(ControlServer& server, const std::string& path, const std::string& request) {
  const int fd = connectTo(path);
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    server.poll(1'000'000);
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  ::close(fd);
  return out;
}

TEST(ControlServer, AnswersAndStaysBounded) {
  SocketFolder folder;
  const std::string path = folder.path;
  ControlServerConfig c;
  c.listen = "unix:" + path;
  c.maxConnections = 2;
  c.maxRequestBytes = 2048;
  HttpRequest seen;
  ControlServer server(c, [&](const HttpRequest& r) {
    seen = r;
    HttpResponse out;
    out.body = "{\"ok\":true}";
    return out;
  });
  EXPECT_EQ(server.address(), "unix:" + path);
  std::string r = exchange(server, path, "POST /streams?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"), std::string::npos) << r;
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/streams");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.headers.at("host"), "x");

  EXPECT_EQ(exchange(server, path, "POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n").rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_EQ(exchange(server, path, "GET /" + std::string(3000, 'a') + " HTTP/1.1\r\n").rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_EQ(exchange(server, path, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").rfind("HTTP/1.1 411", 0), 0u);
  EXPECT_EQ(exchange(server, path, "GET / HTTP/2.0\r\n\r\n").rfind("HTTP/1.1 505", 0), 0u);
  EXPECT_EQ(exchange(server, path, "nonsense\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  // Two idle connections fill it; a third is told to come back.
  const int a = connectTo(path), b = connectTo(path);
  server.poll(1'000'000);
  server.poll(1'000'000);
  EXPECT_EQ(exchange(server, path, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503", 0), 0u);
  ::close(a);
  ::close(b);
  server.poll(1'000'000);
  EXPECT_EQ(exchange(server, path, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  const ControlServerStats& s = server.stats();
  EXPECT_EQ(s.rejectedTooLarge, 2u);
  EXPECT_EQ(s.rejectedMalformed, 3u);
  EXPECT_EQ(s.rejectedBusy, 1u);
}

TEST(ControlServer, RefusesAddressesOffLoopback) {
  ControlServerConfig c;
  c.listen = "10.0.0.1:80";
  try {
    ControlServer s(c, [](const HttpRequest&) { return HttpResponse{}; });
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("loopback (127.x.x.x) or a Unix socket only"), std::string::npos) << e.what();
  }
}

TEST(StreamRequest, ParsesLikeTheFileAndSavedStreamsComeBack) {
  StreamContext c{"request", ".", 48000, true};
  auto tx = std::get<DutTransmitStream>(parseStreamRequest(
      R"({"kind":"tx","id":"o","destination":"239.69.1.2:5004","encoding":"L16","ptimeUs":333,"channelMap":[3,4],"labels":["L","R"]})", c));
  EXPECT_EQ(tx.stream.framesPerPacket, 16u);  // 1/3 ms at 48 kHz, as AES67 writes it
  EXPECT_EQ(tx.deviceChannels, (std::vector<std::uint32_t>{2, 3}));
  EXPECT_TRUE(tx.announce);
  EXPECT_NE(tx.ssrc, 0u);
  auto rx = std::get<DutReceiveStream>(parseStreamRequest(R"({"kind":"rx","sap":"Feed","channels":[1,2]})", c));
  EXPECT_EQ(rx.sapSessionName, "Feed");
  try {
    parseStreamRequest(R"({"kind":"tx","destination":"239.69.1.2:5004","ptimeUs":100})", c);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "ptimeUs");
    EXPECT_EQ(std::string(e.what()), "request: ptimeUs: 100 µs is not a whole number of frames at 48000 Hz; use 125, 250, 333, 1000 or 4000");
  }
  TxStreamConfig saved;
  saved.id = "o";
  saved.name = "Out";
  saved.destination = parseEndpoint("239.69.1.2:5004");
  saved.channelMap = {3, 4};
  saved.sessionVersion = 7;
  saved.announce = true;
  const DutTransmitStream back = transmitStreamOf(saved);
  EXPECT_EQ(back.deviceChannels, (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ(back.sessionVersion, 8u);
  EXPECT_TRUE(back.announce);
}

}  // namespace
}  // namespace aes67
