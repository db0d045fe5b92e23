// Real UDP/IPv4 sockets. Multicast joins and sends are pinned to a named interface
// (IP_MULTICAST_IF / ip_mreqn), so a multi-NIC machine neither sends on the wrong link
// nor receives the same stream twice. On Linux IP_MULTICAST_ALL is turned off so a socket
// hears only the groups it joined (several streams on one port stay apart).
#pragma once

#include "engine/base/transport.hpp"

namespace aes67 {

class UdpTransport final : public Transport {
 public:
  // interfaceName "" lets the routing table choose; the address is read from the interface.
  explicit UdpTransport(const Clock& clock, std::string interfaceName = "");
  std::unique_ptr<DatagramSocket> open(const SocketOptions& options) override;
  const Clock& clock() const override { return clock_; }
  Ipv4Address localAddress() const override { return address_; }

 private:
  const Clock& clock_;
  std::string interfaceName_;
  Ipv4Address address_ = 0;
};

// The IPv4 address of a network interface; throws std::runtime_error if it has none.
Ipv4Address interfaceAddress(const std::string& interfaceName);

}  // namespace aes67
