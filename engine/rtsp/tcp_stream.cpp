#include "engine/rtsp/tcp_stream.hpp"

#include "engine/base/sockaddr.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67 {

namespace {

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;  // a reset peer is an error, not SIGPIPE
#else
constexpr int kSendFlags = 0;
#endif

std::string errnoText(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED (nothing listens there)";
    case ECONNRESET: return "ECONNRESET (the peer reset the connection)";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EPIPE: return "EPIPE (the peer is gone)";
    default: return std::strerror(e);
  }
}

}  // namespace

TcpStream::TcpStream(const Clock& clock, Ipv4Endpoint remote, TcpStreamOptions options)
    : clock_(clock), remote_(remote), options_(options), deadline_(clock.now() + options.connectTimeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("TCP socket: ") + std::strerror(errno));
  const int flags = ::fcntl(fd_, F_GETFL, 0);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small requests, answered at once
#if defined(SO_NOSIGPIPE)
  ::setsockopt(fd_, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  if (options_.keepalive) {
    ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#if defined(TCP_KEEPIDLE)
    const int idle = 10, interval = 5, count = 3;  // a silent peer is given up after ~25 s
    ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd_, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
#endif
  }
  if (options_.dscp != 0) {
    const int tos = (options_.dscp & 0x3f) << 2;
    ::setsockopt(fd_, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  }
  if (options_.bindAddress != 0) {
    const sockaddr_in local = toSockaddr({options_.bindAddress, 0});
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      const int e = errno;
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("TCP bind to " + formatIpv4(options_.bindAddress) + ": " + std::strerror(e));
    }
  }
  const sockaddr_in sa = toSockaddr(remote_);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) {
    state_ = State::kOpen;
  } else if (errno != EINPROGRESS) {
    failWith("connect to " + formatEndpoint(remote_) + ": " + errnoText(errno));
  }
}

TcpStream::~TcpStream() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpStream::failWith(const std::string& why) {
  if (state_ == State::kFailed) return;
  error_ = why;
  state_ = State::kFailed;
  queue_.clear();
  queueHead_ = 0;
}

TcpStream::State TcpStream::update() {
  if (state_ == State::kConnecting) {
    pollfd p{fd_, POLLOUT, 0};
    const int n = ::poll(&p, 1, 0);
    if (n > 0) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        failWith("connect to " + formatEndpoint(remote_) + ": " + errnoText(err));
      } else {
        state_ = State::kOpen;
      }
    } else if (clock_.now() >= deadline_) {
      failWith("connect to " + formatEndpoint(remote_) + ": no answer within " + std::to_string(options_.connectTimeout / 1'000'000) + " ms");
    }
  }
  if (state_ == State::kOpen) flush();
  return state_;
}

void TcpStream::flush() {
  while (state_ == State::kOpen && queueHead_ < queue_.size()) {
    const ssize_t n = ::send(fd_, queue_.data() + queueHead_, queue_.size() - queueHead_, kSendFlags);
    if (n > 0) {
      queueHead_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    failWith("send to " + formatEndpoint(remote_) + ": " + errnoText(errno));
  }
  if (queueHead_ == queue_.size()) {
    queue_.clear();
    queueHead_ = 0;
  }
}

std::size_t TcpStream::read(std::uint8_t* buffer, std::size_t capacity) {
  if (state_ == State::kConnecting) update();
  if (state_ != State::kOpen || capacity == 0) return 0;
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, capacity, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      state_ = State::kClosed;
      error_ = "the peer closed the connection";
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) failWith("receive from " + formatEndpoint(remote_) + ": " + errnoText(errno));
    return 0;
  }
}

bool TcpStream::write(const std::uint8_t* data, std::size_t size) {
  if (state_ != State::kOpen && state_ != State::kConnecting) return false;
  if (queuedBytes() + size > options_.maxQueuedBytes) {
    failWith("over " + std::to_string(options_.maxQueuedBytes) + " bytes queued for " + formatEndpoint(remote_) + " (the peer does not read)");
    return false;
  }
  queue_.append(reinterpret_cast<const char*>(data), size);
  if (state_ == State::kOpen) flush();
  return state_ != State::kFailed;
}

void TcpStream::wait(Nanoseconds timeout) const {
  if (fd_ < 0) return;
  pollfd p{fd_, POLLIN, 0};
  if (state_ == State::kConnecting || queueHead_ < queue_.size()) p.events |= POLLOUT;
  const Nanoseconds ms = std::max<Nanoseconds>(0, (timeout + 999'999) / 1'000'000);
  ::poll(&p, 1, static_cast<int>(std::min<Nanoseconds>(ms, 60'000)));
}

void TcpStream::close() {
  if (fd_ < 0) return;
  if (state_ == State::kOpen) flush();
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
  if (state_ == State::kOpen || state_ == State::kConnecting) {
    state_ = State::kClosed;
    error_ = "closed by this side";
  }
}

Ipv4Endpoint TcpStream::local() const {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return {};
  return {ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
}

}  // namespace aes67
