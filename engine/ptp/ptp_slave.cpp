#include "engine/ptp/ptp_slave.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#if defined(__linux__)
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <ifaddrs.h>
#include <net/if_dl.h>
#include <sys/socket.h>
#endif

namespace aes67 {

namespace {

PtpPortConfig resolvePortConfig(const PtpSlaveConfig& config, const Transport& transport) {
  PtpPortConfig p = config.port;
  if (p.clockIdentity.isZero()) {
    std::optional<ClockIdentity> id;
    if (!config.interfaceName.empty()) id = clockIdentityOfInterface(config.interfaceName);
    p.clockIdentity = id ? *id : clockIdentityOfAddress(transport.localAddress());
  }
  // Different clocks should not draw the same Delay_Req schedule.
  if (p.seed == 1) p.seed = p.clockIdentity.value();
  return p;
}

}  // namespace

const char* toString(PtpTransmitStamp s) {
  switch (s) {
    case PtpTransmitStamp::kClockAfterSend: return "after";
    case PtpTransmitStamp::kClockBeforeSend: return "before";
    case PtpTransmitStamp::kMulticastLoopback: return "loopback";
    case PtpTransmitStamp::kKernel: return "kernel";
  }
  return "unknown";
}

std::optional<ClockIdentity> clockIdentityOfInterface(const std::string& interfaceName) {
#if defined(__linux__)
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  ifreq req{};
  std::strncpy(req.ifr_name, interfaceName.c_str(), IFNAMSIZ - 1);
  const int rc = ::ioctl(fd, SIOCGIFHWADDR, &req);
  ::close(fd);
  if (rc != 0) return std::nullopt;
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, 6);
#elif defined(__APPLE__)
  std::array<std::uint8_t, 6> mac{};
  bool found = false;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_LINK || interfaceName != i->ifa_name) continue;
    const auto* dl = reinterpret_cast<const sockaddr_dl*>(i->ifa_addr);
    if (dl->sdl_alen != 6) continue;
    std::memcpy(mac.data(), LLADDR(dl), 6);
    found = true;
  }
  freeifaddrs(list);
  if (!found) return std::nullopt;
#else
  (void)interfaceName;
  return std::nullopt;
#endif
  bool zero = true;
  for (auto b : mac) zero = zero && b == 0;
  if (zero) return std::nullopt;
  return ClockIdentity::fromMac(mac);
}

ClockIdentity clockIdentityOfAddress(Ipv4Address a) {
  return ClockIdentity::fromMac({0x02, 0x00, static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                                 static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)});
}

PtpSlave::PtpSlave(Transport& transport, const PtpSlaveConfig& config)
    : transport_(transport), config_(config), port_(resolvePortConfig(config, transport)), sync_(config.servo) {
  config_.port = port_.config();
  SocketOptions o;
  o.bindAddress = config.bindAddress;
  o.interfaceName = config.interfaceName;
  o.localPort = config.eventPort;
  o.dscp = config.eventDscp;
  o.receiveQueueLimit = 256;
  // Our own Delay_Req looped back only where its stamp is the transmit time. Elsewhere the
  // loop is off, as ptp4l has it: the kernel delivers the looped copy inside our send call,
  // and on veth that ran the Delay_Req's t3 -> t4 ~3 us faster than a loop-less master's
  // Sync t1 -> t2, biasing the true offset by -1.5 us (bench/ptp-offset.ts's header).
  o.multicastLoop = config.transmitStamp == PtpTransmitStamp::kMulticastLoopback;
  o.transmitTimestamps = config.transmitStamp == PtpTransmitStamp::kKernel;
  event_ = transport.open(o);
  o.transmitTimestamps = false;
  o.localPort = config.generalPort;
  o.dscp = config.generalDscp;
  general_ = transport.open(o);
  if (isMulticast(config.destination)) {
    event_->joinMulticast(config.destination);
    general_->joinMulticast(config.destination);
  }
}

void PtpSlave::drain(DatagramSocket& socket) {
  while (batchCount_ < kBatch) {
    Received& r = batch_[batchCount_];
    auto info = socket.receive(r.data.data(), r.data.size());
    if (!info) return;
    // A truncated datagram keeps its first 1500 bytes; the port counts what it cannot parse.
    r.at = info->receivedAt;
    r.size = std::min(info->size, r.data.size());
    ++batchCount_;
  }
}

Nanoseconds PtpSlave::poll() {
  // Drain both sockets, then handle in arrival order; repeat while a batch fills up.
  do {
    batchCount_ = 0;
    drain(*event_);
    drain(*general_);
    for (std::size_t i = 0; i < batchCount_; ++i) order_[i] = i;
    std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(batchCount_),
              [&](std::size_t a, std::size_t b) { return batch_[a].at < batch_[b].at; });
    for (std::size_t i = 0; i < batchCount_; ++i) {
      const Received& r = batch_[order_[i]];
      if (config_.transmitStamp == PtpTransmitStamp::kMulticastLoopback && isOwnDelayReq(r)) {
        ++loopbackStamps_;
        continue;
      }
      port_.handle(r.data.data(), r.size, r.at);
      PtpPortEvent e;
      while (port_.nextEvent(e)) sync_.handle(e, transport_.clock().now());
    }
  } while (batchCount_ == kBatch);

  const Nanoseconds now = transport_.clock().now();
  Nanoseconds next = port_.poll(now);
  PtpPortEvent e;
  while (port_.nextEvent(e)) sync_.handle(e, now);
  transmit();
  next = std::min(next, sync_.poll(transport_.clock().now()));
  port_.setCalibrated(isLocked(sync_.servo().state()));
  return next;
}

Nanoseconds PtpSlave::pollWaiting(Nanoseconds maxWait) {
  // Both sockets cannot be waited on at once through the Transport interface; the event
  // socket carries Sync (the one that matters for timing), the general one is drained too.
  event_->waitReadable(maxWait);
  return poll();
}

bool PtpSlave::isOwnDelayReq(const Received& r) {
  PtpMessage m;
  if (parsePtp(r.data.data(), r.size, m) != PtpParseError::kNone) return false;
  if (m.header.messageType != PtpMessageType::kDelayReq) return false;
  if (m.header.sourcePortIdentity != port_.portIdentity()) return false;
  port_.transmitted(PtpMessageType::kDelayReq, m.header.sequenceId, r.at);
  return true;
}

void PtpSlave::transmit() {
  PtpOutgoing out;
  while (port_.nextOutgoing(out)) {
    DatagramSocket& socket = out.event ? *event_ : *general_;
    const Ipv4Endpoint to{config_.destination, out.event ? config_.eventPort : config_.generalPort};
    const Nanoseconds before = transport_.clock().now();
    const bool ok = socket.send(to, out.data.data(), out.size);
    const Nanoseconds after = transport_.clock().now();
    if (!ok) {
      ++sendFailures_;
      continue;
    }
    Nanoseconds stamp = config_.transmitStamp == PtpTransmitStamp::kClockBeforeSend ? before : after;
    if (config_.transmitStamp == PtpTransmitStamp::kKernel && out.event) {
      // The stamp is queued by the time a send on a software path returns; 2 ms covers a
      // driver that stamps from its completion handler.
      if (auto kernel = socket.lastTransmitTime(2'000'000)) {
        stamp = *kernel;
      } else {
        ++stampFallbacks_;
      }
    }
    // With loopback stamps this reading stands until the looped copy refines it.
    port_.transmitted(out.type, out.sequenceId, stamp);
  }
}

PtpSlaveStatus PtpSlave::status() const {
  PtpSlaveStatus s;
  s.portState = port_.state();
  s.servoState = sync_.servo().state();
  s.hasParent = port_.hasParent();
  if (s.hasParent) {
    s.parent = port_.parent().dataset;
    s.grandmasterIdentity = s.parent.grandmasterIdentity;
    s.parentPortIdentity = s.parent.sender;
  }
  s.hasOffset = sync_.hasOffset();
  s.offset = sync_.last().offset;
  s.pathDelay = sync_.last().pathDelay;
  s.frequencyPpb = sync_.servo().frequencyEstimatePpb();
  return s;
}

}  // namespace aes67
