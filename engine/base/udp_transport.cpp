#include "engine/base/udp_transport.hpp"

#include "engine/base/sockaddr.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#endif

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace aes67 {

namespace {

std::runtime_error socketError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

void setOption(int fd, int level, int name, int value, const char* label) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) throw socketError(std::string("setsockopt ") + label);
}

#if defined(__linux__)
Nanoseconds realtimeNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Nanoseconds>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

// A kernel time stamp (CLOCK_REALTIME) in `clock`'s domain. The clock is read between two
// CLOCK_REALTIME reads and the narrowest of a few tries is kept: a preemption between the
// two readings would otherwise land in the stamp as tens of microseconds of error on a
// busy machine (seen in the ptp4l crossing).
Nanoseconds fromKernelStamp(const Clock& clock, Nanoseconds kernel) {
  Nanoseconds best = std::numeric_limits<Nanoseconds>::max();
  Nanoseconds result = clock.now();
  for (int i = 0; i < 4 && best > 2'000; ++i) {
    const Nanoseconds before = realtimeNow();
    const Nanoseconds local = clock.now();
    const Nanoseconds after = realtimeNow();
    if (after < before || after - before >= best) continue;
    best = after - before;
    const Nanoseconds age = before + (after - before) / 2 - kernel;
    result = age >= 0 ? local - age : local;
  }
  return result;
}
#endif

class UdpSocket final : public DatagramSocket {
 public:
  UdpSocket(const Clock& clock, const SocketOptions& options, Ipv4Address interfaceAddr)
      : clock_(clock), options_(options), interfaceAddress_(interfaceAddr) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) throw socketError("socket");
    try {
      configure();
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
  ~UdpSocket() override { ::close(fd_); }

  bool send(const Ipv4Endpoint& destination, const std::uint8_t* data, std::size_t size) override {
    const sockaddr_in sa = toSockaddr(destination);
    const ssize_t n = ::sendto(fd_, data, size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    if (n >= 0) ++sent_;  // the kernel numbers stamped datagrams the same way (OPT_ID)
    else lastSendError_ = errno;
    return n == static_cast<ssize_t>(size);
  }

  int lastSendError() const override { return lastSendError_; }

  std::optional<DatagramInfo> receive(std::uint8_t* buffer, std::size_t capacity) override {
    sockaddr_in from{};
    iovec iov{buffer, capacity};
    alignas(cmsghdr) char control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) return std::nullopt;
    DatagramInfo info;
    info.source = {ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)};
    info.destination = {0, localEndpoint().port};
    info.size = static_cast<std::size_t>(n);
    info.truncated = (msg.msg_flags & MSG_TRUNC) != 0 || info.size > capacity;
    info.receivedAt = clock_.now();
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IP && c->cmsg_level != SOL_SOCKET) continue;
#if defined(__linux__)
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi{};
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        info.destination.address = ntohl(pi.ipi_addr.s_addr);
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
        info.dscp = static_cast<int>(*reinterpret_cast<const unsigned char*>(CMSG_DATA(c)) >> 2);
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        // The kernel stamps with CLOCK_REALTIME; carry the packet's age into our clock.
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        const Nanoseconds kernel = static_cast<Nanoseconds>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
        info.receivedAt = fromKernelStamp(clock_, kernel);
      }
#endif
    }
    return info;
  }

  bool waitReadable(Nanoseconds timeout) override {
    pollfd p{fd_, POLLIN, 0};
    const int ms = timeout <= 0 ? 0 : static_cast<int>((timeout + 999'999) / 1'000'000);
    return ::poll(&p, 1, ms) > 0 && (p.revents & POLLIN) != 0;
  }

  void joinMulticast(Ipv4Address group, Ipv4Address source) override { membership(group, source, true); }
  void leaveMulticast(Ipv4Address group, Ipv4Address source) override { membership(group, source, false); }

  Ipv4Endpoint localEndpoint() const override {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    return {ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
  }

  std::optional<Nanoseconds> lastTransmitTime(Nanoseconds timeout) override {
#if defined(__linux__)
    if (!options_.transmitTimestamps) return std::nullopt;
    const Nanoseconds deadline = clock_.now() + timeout;
    for (;;) {
      std::uint8_t data[64];
      iovec iov{data, sizeof data};
      alignas(cmsghdr) char control[512];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      if (::recvmsg(fd_, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
        // Each entry carries the stamp and, with OPT_ID, which datagram it belongs to: a
        // stamp that came too late for its own datagram must not pass for the next one's.
        Nanoseconds kernel = 0;
        bool ours = false;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            scm_timestamping ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);  // the software stamp is ts[0]
            kernel = static_cast<Nanoseconds>(ts.ts[0].tv_sec) * kNanosPerSecond + ts.ts[0].tv_nsec;
          } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) {
            sock_extended_err err{};
            std::memcpy(&err, CMSG_DATA(c), sizeof err);
            ours = err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && err.ee_data == static_cast<std::uint32_t>(sent_ - 1);
          }
        }
        if (ours && kernel != 0) return fromKernelStamp(clock_, kernel);
        continue;  // an older datagram's stamp, or none: look at the next entry
      }
      const Nanoseconds left = deadline - clock_.now();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLPRI, 0};  // the error queue shows as POLLERR
      ::poll(&p, 1, static_cast<int>((left + 999'999) / 1'000'000));
    }
#else
    (void)timeout;
    return std::nullopt;
#endif
  }

  // Datagrams the kernel dropped for this socket (its receive buffer full, or memory): the
  // socket's sk_drops, the "drops" column of /proc/net/udp, read when asked (SO_MEMINFO), so
  // a drop is counted even when nothing arrives after it. A status call, never the IO path.
  std::uint64_t receiveOverflows() const override {
#if defined(__linux__) && defined(SO_MEMINFO)
    std::uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t size = sizeof info;
    if (getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info, &size) != 0 || size <= SK_MEMINFO_DROPS * sizeof info[0]) return dropsSeen_;
    // sk_drops is 32 bits: extended here across its wrap.
    dropsSeen_ += static_cast<std::uint32_t>(info[SK_MEMINFO_DROPS] - static_cast<std::uint32_t>(dropsSeen_));
#endif
    return dropsSeen_;
  }

 private:
  void configure() {
    if (options_.reuseAddress) {
      setOption(fd_, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
#ifdef SO_REUSEPORT
      setOption(fd_, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
#endif
    }
#if defined(__linux__)
    setOption(fd_, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
    setOption(fd_, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    setOption(fd_, IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS");
    setOption(fd_, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
    if (options_.transmitTimestamps) {
      setOption(fd_, SOL_SOCKET, SO_TIMESTAMPING,
                SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY |
                    SOF_TIMESTAMPING_OPT_ID,
                "SO_TIMESTAMPING");
    }
#endif
    if (options_.receiveBufferBytes > 0) setReceiveBuffer(static_cast<int>(std::min<std::size_t>(options_.receiveBufferBytes, 1 << 30)));
    setOption(fd_, IPPROTO_IP, IP_MULTICAST_TTL, options_.multicastTtl, "IP_MULTICAST_TTL");
    setOption(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, options_.multicastLoop ? 1 : 0, "IP_MULTICAST_LOOP");
    if (options_.dscp < 0 || options_.dscp > 63) {
      throw std::invalid_argument("DSCP must be 0-63, got " + std::to_string(options_.dscp));
    }
    setOption(fd_, IPPROTO_IP, IP_TOS, options_.dscp << 2, "IP_TOS");
    if (!options_.interfaceName.empty()) {
      ip_mreqn m{};
      m.imr_ifindex = static_cast<int>(if_nametoindex(options_.interfaceName.c_str()));
      if (m.imr_ifindex == 0) throw socketError("no interface named '" + options_.interfaceName + "'");
      m.imr_address.s_addr = htonl(interfaceAddress_);
      if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0) throw socketError("IP_MULTICAST_IF");
    }
    const sockaddr_in sa = toSockaddr({options_.bindAddress, options_.localPort});
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      throw socketError("bind " + formatEndpoint({options_.bindAddress, options_.localPort}));
    }
    const int flags = fcntl(fd_, F_GETFL, 0);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }

  // Root may exceed net.core.rmem_max (SO_RCVBUFFORCE); others get what rmem_max allows.
  // Best effort: a smaller buffer is not an error, only a risk the receiver counts as loss.
  void setReceiveBuffer(int bytes) {
#if defined(SO_RCVBUFFORCE)
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return;
#endif
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }

  void membership(Ipv4Address group, Ipv4Address source, bool join) {
    if (source == 0) {
      ip_mreqn m{};
      m.imr_multiaddr.s_addr = htonl(group);
      m.imr_address.s_addr = htonl(interfaceAddress_);
      if (!options_.interfaceName.empty()) m.imr_ifindex = static_cast<int>(if_nametoindex(options_.interfaceName.c_str()));
      if (setsockopt(fd_, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m) != 0) {
        throw socketError(std::string(join ? "join " : "leave ") + formatIpv4(group));
      }
      return;
    }
    ip_mreq_source m{};
    m.imr_multiaddr.s_addr = htonl(group);
    m.imr_interface.s_addr = htonl(interfaceAddress_);
    m.imr_sourceaddr.s_addr = htonl(source);
    if (setsockopt(fd_, IPPROTO_IP, join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP, &m, sizeof m) != 0) {
      throw socketError(std::string(join ? "join " : "leave ") + formatIpv4(group) + " from " + formatIpv4(source));
    }
  }

  const Clock& clock_;
  SocketOptions options_;
  Ipv4Address interfaceAddress_;
  int fd_ = -1;
  mutable std::uint64_t dropsSeen_ = 0;
  int lastSendError_ = 0;
  std::uint64_t sent_ = 0;  // datagrams handed to the kernel (matches SOF_TIMESTAMPING_OPT_ID)
};

}  // namespace

Ipv4Address interfaceAddress(const std::string& interfaceName) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw socketError("socket");
  ifreq req{};
  std::strncpy(req.ifr_name, interfaceName.c_str(), IFNAMSIZ - 1);
  const int rc = ::ioctl(fd, SIOCGIFADDR, &req);
  ::close(fd);
  if (rc != 0) throw socketError("interface '" + interfaceName + "' has no IPv4 address");
  sockaddr_in sa{};
  std::memcpy(&sa, &req.ifr_addr, sizeof sa);
  return ntohl(sa.sin_addr.s_addr);
}

UdpTransport::UdpTransport(const Clock& clock, std::string interfaceName)
    : clock_(clock), interfaceName_(std::move(interfaceName)) {
  if (!interfaceName_.empty()) address_ = interfaceAddress(interfaceName_);
}

std::unique_ptr<DatagramSocket> UdpTransport::open(const SocketOptions& options) {
  SocketOptions o = options;
  if (o.interfaceName.empty()) o.interfaceName = interfaceName_;
  const Ipv4Address ifAddr = o.interfaceName.empty() ? 0 : interfaceAddress(o.interfaceName);
  return std::make_unique<UdpSocket>(clock_, o, ifAddr);
}

}  // namespace aes67
