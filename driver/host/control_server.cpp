#include "driver/host/control_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/base/endpoint.hpp"

namespace aes67 {

namespace {

Nanoseconds monotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanoseconds>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

void setNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

HttpResponse errorResponse(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  r.body = "{\"error\":\"" + escaped + "\"}\n";
  return r;
}

}  // namespace

const char* ControlServer::reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

ControlServer::ControlServer(const ControlServerConfig& config, Handler handler)
    : config_(config), handler_(std::move(handler)) {
  const std::string& listen = config_.listen;
  auto fail = [&](const std::string& why) {
    const int e = errno;
    if (listenFd_ >= 0) ::close(listenFd_);
    listenFd_ = -1;
    throw std::runtime_error("control endpoint '" + listen + "': " + why + (e ? std::string(": ") + std::strerror(e) : ""));
  };
  if (listen.rfind("unix:", 0) == 0) {
    unixPath_ = listen.substr(5);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (unixPath_.empty() || unixPath_.size() >= sizeof a.sun_path) {
      errno = 0;
      fail("a Unix socket path must be 1-" + std::to_string(sizeof a.sun_path - 1) + " characters");
    }
    std::memcpy(a.sun_path, unixPath_.c_str(), unixPath_.size());
    // A socket left by a previous run that crashed; anything else at the path is not ours.
    struct stat st{};
    if (::lstat(unixPath_.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        errno = 0;
        fail("something that is not a socket is at that path; remove it or choose another");
      }
      ::unlink(unixPath_.c_str());
    }
    listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) fail("cannot create a socket");
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("cannot bind");
    address_ = "unix:" + unixPath_;
  } else {
    Ipv4Endpoint e;
    try {
      e = parseEndpoint(listen);
    } catch (const std::invalid_argument&) {
      errno = 0;
      fail("not \"127.0.0.1:PORT\" or \"unix:/path\"");
    }
    if ((e.address >> 24) != 127) {
      errno = 0;
      fail("the control endpoint listens on loopback (127.x.x.x) or a Unix socket only");
    }
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) fail("cannot create a socket");
    const int one = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(e.address);
    a.sin_port = htons(e.port);
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("cannot bind");
    socklen_t len = sizeof a;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "http://" + formatIpv4(e.address) + ":" + std::to_string(ntohs(a.sin_port));
  }
  if (::listen(listenFd_, 16) != 0) fail("cannot listen");
  setNonBlocking(listenFd_);
}

ControlServer::~ControlServer() {
  for (Connection& c : connections_) ::close(c.fd);
  if (listenFd_ >= 0) ::close(listenFd_);
  if (!unixPath_.empty()) ::unlink(unixPath_.c_str());
}

void ControlServer::poll(Nanoseconds timeout) {
  std::vector<pollfd> fds;
  fds.push_back({listenFd_, POLLIN, 0});
  for (const Connection& c : connections_) {
    const bool reading = !c.responding || (c.lingering && c.written >= c.out.size());
    fds.push_back({c.fd, static_cast<short>(reading ? POLLIN : POLLOUT), 0});
  }
  timespec ts{};
  if (timeout > 0) {
    ts.tv_sec = static_cast<time_t>(timeout / kNanosPerSecond);
    ts.tv_nsec = static_cast<long>(timeout % kNanosPerSecond);
  }
#if defined(__linux__)
  const int n = ::ppoll(fds.data(), fds.size(), &ts, nullptr);
#else
  const int n = ::poll(fds.data(), fds.size(), static_cast<int>((timeout + 999'999) / 1'000'000));
#endif
  const Nanoseconds now = monotonicNow();
  if (n > 0) {
    for (std::size_t i = 1; i < fds.size(); ++i) {
      Connection& c = connections_[i - 1];
      if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        // The peer is gone: nothing more to read or write; closed below.
        c.responding = true;
        c.written = c.out.size();
        c.lingering = false;
        c.linger = false;
      } else if (fds[i].revents & POLLIN) {
        read(c, now);
        if (c.lingering) c.lastActivity = now;
      } else if (fds[i].revents & POLLOUT) {
        write(c, now);
      }
    }
    if (fds[0].revents & POLLIN) accept(now);
  }
  // Close finished and idle connections; a refused one lingers first.
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->responding && it->linger && !it->lingering && it->written >= it->out.size()) {
      ::shutdown(it->fd, SHUT_WR);
      it->lingering = true;
      it->lastActivity = now;
    }
    const bool done = it->responding && it->written >= it->out.size() && !it->lingering;
    const bool idle = now - it->lastActivity > config_.idleTimeout;
    if (done || idle) {
      if (idle && !done) ++stats_.idleClosed;
      ::close(it->fd);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void ControlServer::accept(Nanoseconds now) {
  for (;;) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Connection c;
    c.fd = fd;
    c.lastActivity = now;
    if (connections_.size() >= config_.maxConnections) {
      ++stats_.rejectedBusy;
      respond(c, errorResponse(503, "too many control connections (at most " + std::to_string(config_.maxConnections) + "); retry"));
      c.linger = true;
      write(c, now);
    }
    connections_.push_back(std::move(c));
  }
}

void ControlServer::read(Connection& c, Nanoseconds now) {
  char buf[4096];
  if (c.lingering) {
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) c.discarded += static_cast<std::size_t>(n);
      // End of the client's data, an error, or more than is worth waiting for: close.
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c.discarded > 16 * config_.maxRequestBytes) {
        c.lingering = false;
        return;
      }
      if (n < 0 && errno == EAGAIN) return;
    }
  }
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.lastActivity = now;
      // Never hold more than the limit (and a little, to tell "too large").
      const std::size_t room = config_.maxRequestBytes + 1 - std::min(c.in.size(), config_.maxRequestBytes + 1);
      c.in.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), room));
      if (tryHandle(c)) return;
      continue;
    }
    if (n == 0) {
      // The peer closed before a whole request: nothing to answer.
      c.responding = true;
      c.out.clear();
      c.written = 0;
      return;
    }
    if (errno == EINTR) continue;
    return;  // EAGAIN: wait for more
  }
}

bool ControlServer::tryHandle(Connection& c) {
  if (c.responding) return true;
  const std::size_t headEnd = c.in.find("\r\n\r\n");
  if (headEnd == std::string::npos) {
    if (c.in.size() > config_.maxRequestBytes) {
      ++stats_.rejectedTooLarge;
      respond(c, errorResponse(413, "request head larger than " + std::to_string(config_.maxRequestBytes) + " bytes"));
      c.linger = true;
      return true;
    }
    return false;
  }
  HttpRequest r;
  const std::string head = c.in.substr(0, headEnd);
  std::size_t lineEnd = head.find("\r\n");
  const std::string requestLine = head.substr(0, lineEnd);
  const auto sp1 = requestLine.find(' ');
  const auto sp2 = requestLine.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) {
    ++stats_.rejectedMalformed;
    respond(c, errorResponse(400, "malformed request line"));
    return true;
  }
  r.method = requestLine.substr(0, sp1);
  r.target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string version = requestLine.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    ++stats_.rejectedMalformed;
    respond(c, errorResponse(505, "HTTP/1.1 only"));
    return true;
  }
  r.path = r.target.substr(0, r.target.find('?'));
  while (lineEnd != std::string::npos) {
    const std::size_t next = head.find("\r\n", lineEnd + 2);
    const std::string line = head.substr(lineEnd + 2, next == std::string::npos ? std::string::npos : next - lineEnd - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) r.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    lineEnd = next;
  }
  if (r.headers.count("transfer-encoding")) {
    ++stats_.rejectedMalformed;
    respond(c, errorResponse(411, "send the body with Content-Length (no chunked encoding)"));
    c.linger = true;
    return true;
  }
  std::size_t length = 0;
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') {
      ++stats_.rejectedMalformed;
      respond(c, errorResponse(400, "Content-Length is not a number"));
      return true;
    }
    if (v > config_.maxRequestBytes) {
      ++stats_.rejectedTooLarge;
      respond(c, errorResponse(413, "request body larger than " + std::to_string(config_.maxRequestBytes) + " bytes"));
      c.linger = true;
    return true;
    }
    length = static_cast<std::size_t>(v);
  }
  if (headEnd + 4 + length > config_.maxRequestBytes) {
    ++stats_.rejectedTooLarge;
    respond(c, errorResponse(413, "request larger than " + std::to_string(config_.maxRequestBytes) + " bytes"));
    c.linger = true;
    return true;
  }
  if (c.in.size() < headEnd + 4 + length) return false;
  r.body = c.in.substr(headEnd + 4, length);
  ++stats_.requests;
  HttpResponse response;
  try {
    response = handler_(r);
  } catch (const std::exception& e) {
    response = errorResponse(500, e.what());
  }
  respond(c, response);
  return true;
}

void ControlServer::respond(Connection& c, const HttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  if (r.status != 204) {
    out += "Content-Type: " + r.contentType + "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  if (r.status != 204) out += r.body;
  c.out = std::move(out);
  c.written = 0;
  c.responding = true;
  c.in.clear();
}

void ControlServer::write(Connection& c, Nanoseconds now) {
  while (c.written < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (n > 0) {
      c.written += static_cast<std::size_t>(n);
      c.lastActivity = now;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.written = c.out.size();  // the peer is gone
    return;
  }
}

}  // namespace aes67
