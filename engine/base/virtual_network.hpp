// An in-process IPv4/UDP network in virtual time. Hosts have one address each; their
// sockets unicast and multicast (ASM and SSM) like a switched LAN. Every datagram is
// delivered at send time + base delay + whatever the impairment hook adds; ties are broken
// by send order, so a run is deterministic. The hook is where the lab's impairments
// (loss, jitter, reorder, duplication) plug in.
//
// In the steady state it allocates nothing per datagram: a datagram's bytes are copied once
// into a pooled buffer that every receiving socket's queue shares by index (reference
// counted), sockets are found by (destination address or group, port), and queues are rings
// that only grow (virtual_network_alloc_test.cpp proves it with the counting heap).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "engine/base/clock.hpp"
#include "engine/base/flat_socket_index.hpp"
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

  // Sends head + body as one datagram from `from` (a socket of this network) without the
  // caller assembling it: the lab's native senders send their cached payloads this way.
  // Throws std::invalid_argument for a socket of another network.
  void sendGather(const DatagramSocket& from, const Ipv4Endpoint& to, const std::uint8_t* head, std::size_t headSize,
                  const std::uint8_t* body, std::size_t bodySize);
  // receive() without the copy: the next datagram due at `socket` (of this network), its
  // bytes at `data`, valid until that socket's next receive or peek (or its end). Never
  // truncated. Throws std::invalid_argument for a socket of another network.
  std::optional<DatagramInfo> peek(DatagramSocket& socket, const std::uint8_t*& data);

  // Moves every datagram due at or before now into its receivers' queues.
  void deliverDue();
  // The time the next datagram falls due, or INT64_MAX when none is in flight.
  Nanoseconds nextDeliveryTime() const;
  // A datagram in flight is due now (deliverDue would deliver it).
  bool somethingDue() const { return nextDeliveryTime() <= clock_.now(); }
  const VirtualNetworkStats& stats() const { return stats_; }
  // Marks a socket of this network as watched: datagrams placed in its queue are counted in
  // watchedDeliveries(). The lab's native scheduler watches the sockets its TypeScript
  // actors read, so it hands control back to them only when one of theirs got something.
  // Throws std::invalid_argument for a socket of another network.
  void watch(const DatagramSocket& socket);
  std::uint64_t watchedDeliveries() const { return watchedDelivered_; }
  // How many datagrams reached a socket of `host` (one of this network's hosts) so far,
  // counting those its full queues dropped: an actor that only reads its own host's sockets
  // (the lab's emulated DUT) has nothing new to read while this stays the same. A reference
  // that stays valid as long as the network. Throws std::invalid_argument for another host.
  const std::uint64_t& deliveriesTo(const Transport& host) const;
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
    std::uint32_t buffer;  // index into buffers_
    bool operator>(const InFlight& o) const {
      return deliverAt != o.deliverAt ? deliverAt > o.deliverAt : order > o.order;
    }
  };
  void send(const VirtualSocket& from, const Ipv4Endpoint& to, const std::uint8_t* head, std::size_t headSize,
            const std::uint8_t* body, std::size_t bodySize);
  VirtualSocket& mine(const DatagramSocket& socket) const;
  void deliver(const InFlight& packet);
  void attach(VirtualSocket* socket);
  void detach(VirtualSocket* socket);
  // The sockets that may take a datagram to (address, port): by host address and port for
  // unicast, by group and port for multicast (a socket is listed while it has a membership).
  static std::uint64_t keyOf(Ipv4Address address, std::uint16_t port) { return (static_cast<std::uint64_t>(address) << 16) | port; }
  void index(VirtualSocket* socket, std::uint64_t key);
  void unindex(VirtualSocket* socket, std::uint64_t key);
  std::uint16_t ephemeralPort();

  // Pooled datagram bytes, shared by index between the in-flight copies and socket queues.
  struct Buffer {
    std::vector<std::uint8_t> bytes;
    std::size_t size = 0;
    std::uint32_t refs = 0;
  };
  std::uint32_t acquire(const std::uint8_t* head, std::size_t headSize, const std::uint8_t* body, std::size_t bodySize);
  void release(std::uint32_t buffer);
  void recycle(std::uint32_t buffer);
  static constexpr std::size_t kBufferBytes = 2048;
  static constexpr std::size_t kPooledBytes = 9216;
  const Buffer& buffer(std::uint32_t id) const { return buffers_[id]; }

  VirtualClock& clock_;
  Nanoseconds baseDelay_;
  Impairment impairment_;
  std::map<Ipv4Address, std::unique_ptr<VirtualHost>> hosts_;
  std::vector<VirtualSocket*> sockets_;
  FlatSocketIndex<VirtualSocket> byDestination_;
  std::vector<Buffer> buffers_;
  std::vector<std::uint32_t> freeBuffers_;
  // Datagrams in flight, due order first: most arrive in the order they were sent (one
  // base delay), so those wait in a ring and only the ones an impairment moved ahead of a
  // later send (jitter, reorder) go through a heap; the earlier head of the two is next.
  class InFlightQueue {
   public:
    bool empty() const { return count_ == 0 && heap_.empty(); }
    const InFlight& top() const;
    void push(const InFlight& p);
    void pop();

   private:
    bool ringFirst() const { return heap_.empty() || (count_ > 0 && !(ring_[head_] > heap_.top())); }
    std::vector<InFlight> ring_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::priority_queue<InFlight, std::vector<InFlight>, std::greater<InFlight>> heap_;
  };
  InFlightQueue inFlight_;
  std::uint64_t order_ = 0;
  std::uint16_t nextEphemeral_ = 49152;
  VirtualNetworkStats stats_;
  std::uint64_t watchedDelivered_ = 0;
  std::vector<Nanoseconds> delays_;
};

}  // namespace aes67
