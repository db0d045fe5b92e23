// An in-process IPv4/UDP network in virtual time. Hosts have one address each; their
// sockets unicast and multicast (ASM and SSM) like a switched LAN. Every datagram is
// delivered at send time + base delay + whatever the impairment hook adds; ties are broken
// by send order, so a run is deterministic. The hook is where the lab's impairments
// (loss, jitter, reorder, duplication) plug in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "engine/base/clock.hpp"
#include "engine/base/transport.hpp"

namespace aes67 {

class VirtualSocket;
class VirtualHost;

struct VirtualPacket {
  Ipv4Endpoint source;
  Ipv4Endpoint destination;
  int dscp = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  Nanoseconds sentAt = 0;
};

struct VirtualNetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;       // copies placed in a socket's queue
  std::uint64_t droppedByImpairment = 0;
  std::uint64_t duplicatedByImpairment = 0;
  std::uint64_t noReceiver = 0;      // no socket matched the destination
  std::uint64_t queueOverflow = 0;   // a receiving socket's queue was full
};

class VirtualNetwork {
 public:
  // The hook sees every datagram once and fills `extraDelays` with one entry per copy to
  // deliver (empty = lost, two = duplicated). It starts with one entry of 0.
  using Impairment = std::function<void(const VirtualPacket&, std::vector<Nanoseconds>& extraDelays)>;

  explicit VirtualNetwork(VirtualClock& clock, Nanoseconds baseDelay = 0);
  ~VirtualNetwork();
  VirtualNetwork(const VirtualNetwork&) = delete;
  VirtualNetwork& operator=(const VirtualNetwork&) = delete;

  // Adds a host; throws std::invalid_argument if the address is taken or multicast.
  Transport& addHost(const std::string& name, Ipv4Address address);
  Transport& host(Ipv4Address address);
  void setImpairment(Impairment hook) { impairment_ = std::move(hook); }
  void setBaseDelay(Nanoseconds d) { baseDelay_ = d; }

  // Moves every datagram due at or before now into its receivers' queues.
  void deliverDue();
  // The time the next datagram falls due, or INT64_MAX when none is in flight.
  Nanoseconds nextDeliveryTime() const;
  const VirtualNetworkStats& stats() const { return stats_; }
  // Marks a socket of this network as watched: datagrams placed in its queue are counted in
  // watchedDeliveries(). The lab's native scheduler watches the sockets its TypeScript
  // actors read, so it hands control back to them only when one of theirs got something.
  // Throws std::invalid_argument for a socket of another network.
  void watch(const DatagramSocket& socket);
  std::uint64_t watchedDeliveries() const { return watchedDelivered_; }
  VirtualClock& clock() { return clock_; }

 private:
  friend class VirtualSocket;
  friend class VirtualHost;
  struct InFlight {
    Nanoseconds deliverAt;
    std::uint64_t order;
    Ipv4Endpoint source;
    Ipv4Endpoint destination;
    int dscp;
    bool senderLoop;
    std::shared_ptr<const std::vector<std::uint8_t>> data;
    bool operator>(const InFlight& o) const {
      return deliverAt != o.deliverAt ? deliverAt > o.deliverAt : order > o.order;
    }
  };
  void send(const VirtualSocket& from, const Ipv4Endpoint& to, const std::uint8_t* data, std::size_t size);
  void deliver(const InFlight& packet);
  void attach(VirtualSocket* socket);
  void detach(VirtualSocket* socket);
  std::uint16_t ephemeralPort();

  VirtualClock& clock_;
  Nanoseconds baseDelay_;
  Impairment impairment_;
  std::map<Ipv4Address, std::unique_ptr<VirtualHost>> hosts_;
  std::vector<VirtualSocket*> sockets_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<InFlight>> inFlight_;
  std::uint64_t order_ = 0;
  std::uint16_t nextEphemeral_ = 49152;
  VirtualNetworkStats stats_;
  std::uint64_t watchedDelivered_ = 0;
  std::vector<Nanoseconds> delays_;
};

}  // namespace aes67
