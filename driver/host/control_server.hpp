// The software DUT's control endpoint: a small HTTP/1.1 server on POSIX sockets, on a
// loopback TCP port or a Unix socket (no authentication, so never on a routed address).
// Written here rather than taken from a library: Debian has no small, well-kept C++ HTTP
// server package (cpp-httplib is header-only and not packaged for bookworm), and the
// endpoint needs only request line, headers, Content-Length bodies and one response per
// connection.
//
// Bounded by construction: a request larger than maxRequestBytes (head and body) gets 413
// and the connection closes; beyond maxConnections a new connection gets 503 at once; a
// connection idle for idleTimeout (a client that never finishes its request) is closed.
// Chunked request bodies get 411 (send Content-Length). Every response says
// "Connection: close". Non-blocking: poll() serves what is ready and returns; the DUT's
// network thread calls it, using its timeout as the loop's sleep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/base/time.hpp"

namespace aes67 {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // without the query
  std::map<std::string, std::string> headers;  // names lower case
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
};

struct ControlServerConfig {
  std::string listen;  // "127.0.0.1:PORT" (0: any free port) or "unix:/path"
  std::size_t maxConnections = 16;
  std::size_t maxRequestBytes = 65536;
  Nanoseconds idleTimeout = 5'000'000'000;
};

struct ControlServerStats {
  std::uint64_t requests = 0;
  std::uint64_t rejectedBusy = 0;      // 503: too many connections
  std::uint64_t rejectedTooLarge = 0;  // 413
  std::uint64_t rejectedMalformed = 0; // 400, 411, 505
  std::uint64_t idleClosed = 0;
};

class ControlServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds and listens; throws std::runtime_error naming the address and the reason.
  ControlServer(const ControlServerConfig& config, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Where it listens: "http://127.0.0.1:PORT" or "unix:/path".
  std::string address() const { return address_; }
  // Waits up to `timeout` for activity (0: not at all), then serves what is ready.
  void poll(Nanoseconds timeout);
  const ControlServerStats& stats() const { return stats_; }
  std::size_t connections() const { return connections_.size(); }

  static const char* reason(int status);

 private:
  struct Connection {
    int fd = -1;
    std::string in;
    std::string out;
    std::size_t written = 0;
    bool responding = false;
    // Refused before its request was read to the end: after the response, read and drop
    // what the client still sends (a bounded lingering close), so closing with unread
    // data does not reset the connection and lose the response on the way.
    bool linger = false;
    bool lingering = false;
    std::size_t discarded = 0;
    Nanoseconds lastActivity = 0;
  };
  void accept(Nanoseconds now);
  void read(Connection& c, Nanoseconds now);
  void write(Connection& c, Nanoseconds now);
  void respond(Connection& c, const HttpResponse& r);
  // Parses c.in; true once a whole request was handled (or refused).
  bool tryHandle(Connection& c);

  ControlServerConfig config_;
  Handler handler_;
  int listenFd_ = -1;
  std::string address_;
  std::string unixPath_;
  std::vector<Connection> connections_;
  ControlServerStats stats_;
};

}  // namespace aes67
