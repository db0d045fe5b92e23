#include "engine/base/virtual_network.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <typeinfo>
#include <utility>

namespace aes67 {

class VirtualHost final : public Transport {
 public:
  VirtualHost(VirtualNetwork& network, std::string name, Ipv4Address address)
      : network_(network), name_(std::move(name)), address_(address) {}
  std::unique_ptr<DatagramSocket> open(const SocketOptions& options) override;
  const Clock& clock() const override { return network_.clock(); }
  Ipv4Address localAddress() const override { return address_; }
  // Datagrams that reached (or overflowed) a queue of one of its sockets.
  std::uint64_t deliveries = 0;

 private:
  VirtualNetwork& network_;
  std::string name_;
  Ipv4Address address_;
};

class VirtualSocket final : public DatagramSocket {
 public:
  struct Queued {
    DatagramInfo info;
    std::uint32_t buffer = 0;  // VirtualNetwork's pooled bytes
  };

  VirtualSocket(VirtualNetwork& network, Ipv4Address hostAddress, const SocketOptions& options, std::uint16_t port)
      : network_(network), hostAddress_(hostAddress), options_(options), port_(port) {
    network_.attach(this);
  }
  ~VirtualSocket() override {
    releaseView();
    while (count_ > 0) network_.release(pop().buffer);
    // Out of every group's index (leaveIndex would keep it: the memberships are still here).
    for (const auto& m : memberships_) network_.unindex(this, VirtualNetwork::keyOf(m.first, port_));
    network_.detach(this);
  }

  bool send(const Ipv4Endpoint& destination, const std::uint8_t* data, std::size_t size) override {
    network_.send(*this, destination, data, size, nullptr, 0);
    return true;
  }

  std::optional<DatagramInfo> receive(std::uint8_t* buffer, std::size_t capacity) override {
    releaseView();
    network_.deliverDue();
    if (count_ == 0) return std::nullopt;
    Queued q = pop();
    const VirtualNetwork::Buffer& b = network_.buffer(q.buffer);
    const std::size_t n = std::min(capacity, b.size);
    if (n > 0) std::memcpy(buffer, b.bytes.data(), n);
    q.info.truncated = n < b.size;
    network_.release(q.buffer);
    return q.info;
  }

  std::optional<DatagramInfo> receiveView(const std::uint8_t*& data) override { return peek(data); }

  // VirtualNetwork::peek: the datagram's buffer stays held until the next receive or peek.
  std::optional<DatagramInfo> peek(const std::uint8_t*& data) {
    releaseView();
    network_.deliverDue();
    if (count_ == 0) return std::nullopt;
    Queued q = pop();
    data = network_.buffer(q.buffer).bytes.data();
    view_ = q.buffer;
    hasView_ = true;
    q.info.truncated = false;
    return q.info;
  }
  const VirtualNetwork& network() const { return network_; }

  bool waitReadable(Nanoseconds) override {
    network_.deliverDue();
    return count_ > 0;
  }
  // Queued, or in flight and due (delivered at the next receive: maybe to this socket).
  bool mayHaveDatagram() const override { return count_ > 0 || network_.somethingDue(); }

  void joinMulticast(Ipv4Address group, Ipv4Address source) override {
    if (!isMulticast(group)) throw std::invalid_argument("joinMulticast: " + formatIpv4(group) + " is not multicast");
    if (!member(group)) network_.index(this, VirtualNetwork::keyOf(group, port_));
    memberships_.emplace_back(group, source);
  }
  void leaveMulticast(Ipv4Address group, Ipv4Address source) override {
    auto it = std::find(memberships_.begin(), memberships_.end(), std::make_pair(group, source));
    if (it == memberships_.end()) return;
    memberships_.erase(it);
    leaveIndex(group);
  }
  Ipv4Endpoint localEndpoint() const override { return {hostAddress_, port_}; }
  std::uint64_t receiveOverflows() const override { return overflows_; }

  // Does this socket take a datagram sent to `to` from `from`?
  bool accepts(const Ipv4Endpoint& from, const Ipv4Endpoint& to) const {
    if (to.port != port_) return false;
    if (isMulticast(to.address)) {
      if (options_.bindAddress != 0 && options_.bindAddress != to.address) return false;
      for (const auto& m : memberships_) {
        if (m.first == to.address && (m.second == 0 || m.second == from.address)) return true;
      }
      return false;
    }
    if (to.address != hostAddress_) return false;
    return options_.bindAddress == 0 || options_.bindAddress == to.address;
  }

  // Returns false when the queue is full (the caller keeps the buffer's reference then).
  bool enqueue(const Queued& q) {
    if (count_ >= options_.receiveQueueLimit) {
      ++overflows_;
      return false;
    }
    if (count_ == ring_.size()) grow();
    ring_[(head_ + count_) & (ring_.size() - 1)] = q;
    ++count_;
    return true;
  }

  Ipv4Address hostAddress() const { return hostAddress_; }
  std::uint16_t port() const { return port_; }
  const SocketOptions& options() const { return options_; }
  bool watched = false;
  std::uint64_t* hostDeliveries = nullptr;  // its host's count (VirtualNetwork::deliveriesTo)

 private:
  void releaseView() {
    if (!hasView_) return;
    hasView_ = false;
    network_.release(view_);
  }
  bool member(Ipv4Address group) const {
    for (const auto& m : memberships_) {
      if (m.first == group) return true;
    }
    return false;
  }
  void leaveIndex(Ipv4Address group) {
    if (!member(group)) network_.unindex(this, VirtualNetwork::keyOf(group, port_));
  }
  Queued pop() {
    Queued q = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    --count_;
    return q;
  }
  // The ring only grows (doubling, up to the queue limit): a steady stream allocates nothing.
  // Its size is a power of two, so a position wraps by a mask (a modulo was a 64-bit
  // division per datagram, twice).
  void grow() {
    std::vector<Queued> bigger(std::max<std::size_t>(16, ring_.size() * 2));
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }

  VirtualNetwork& network_;
  Ipv4Address hostAddress_;
  SocketOptions options_;
  std::uint16_t port_;
  std::vector<std::pair<Ipv4Address, Ipv4Address>> memberships_;
  std::vector<Queued> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool hasView_ = false;
  std::uint32_t view_ = 0;
  std::uint64_t overflows_ = 0;
};

std::unique_ptr<DatagramSocket> VirtualHost::open(const SocketOptions& options) {
  const std::uint16_t port = options.localPort != 0 ? options.localPort : network_.ephemeralPort();
  auto socket = std::make_unique<VirtualSocket>(network_, address_, options, port);
  socket->hostDeliveries = &deliveries;
  return socket;
}

VirtualNetwork::VirtualNetwork(VirtualClock& clock, Nanoseconds baseDelay) : clock_(clock), baseDelay_(baseDelay) {}

VirtualNetwork::~VirtualNetwork() = default;

Transport& VirtualNetwork::addHost(const std::string& name, Ipv4Address address) {
  if (isMulticast(address) || address == 0) {
    throw std::invalid_argument("virtual host '" + name + "' needs a unicast address, not " + formatIpv4(address));
  }
  if (hosts_.count(address) != 0) {
    throw std::invalid_argument("virtual host '" + name + "': address " + formatIpv4(address) + " is taken");
  }
  auto& slot = hosts_[address];
  slot = std::make_unique<VirtualHost>(*this, name, address);
  return *slot;
}

Transport& VirtualNetwork::host(Ipv4Address address) {
  auto it = hosts_.find(address);
  if (it == hosts_.end()) throw std::invalid_argument("no virtual host at " + formatIpv4(address));
  return *it->second;
}

std::uint16_t VirtualNetwork::ephemeralPort() {
  const std::uint16_t port = nextEphemeral_;
  nextEphemeral_ = nextEphemeral_ == 65535 ? 49152 : static_cast<std::uint16_t>(nextEphemeral_ + 1);
  return port;
}

void VirtualNetwork::attach(VirtualSocket* socket) {
  sockets_.push_back(socket);
  index(socket, keyOf(socket->hostAddress(), socket->port()));
}

void VirtualNetwork::detach(VirtualSocket* socket) {
  sockets_.erase(std::remove(sockets_.begin(), sockets_.end(), socket), sockets_.end());
  unindex(socket, keyOf(socket->hostAddress(), socket->port()));
}

void VirtualNetwork::index(VirtualSocket* socket, std::uint64_t key) { byDestination_.add(key, socket); }

void VirtualNetwork::unindex(VirtualSocket* socket, std::uint64_t key) { byDestination_.remove(key, socket); }

std::uint32_t VirtualNetwork::acquire(const std::uint8_t* head, std::size_t headSize, const std::uint8_t* body, std::size_t bodySize) {
  std::uint32_t id;
  if (!freeBuffers_.empty()) {
    id = freeBuffers_.back();
    freeBuffers_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(buffers_.size());
    buffers_.emplace_back();
  }
  Buffer& b = buffers_[id];
  const std::size_t size = headSize + bodySize;
  // At least an Ethernet frame's worth: a buffer rarely grows twice.
  if (b.bytes.size() < size) b.bytes.resize(std::max(size, kBufferBytes));
  if (headSize > 0) std::memcpy(b.bytes.data(), head, headSize);
  if (bodySize > 0) std::memcpy(b.bytes.data() + headSize, body, bodySize);
  b.size = size;
  b.refs = 0;
  return id;
}

void VirtualNetwork::release(std::uint32_t id) {
  if (--buffers_[id].refs == 0) recycle(id);
}

void VirtualNetwork::recycle(std::uint32_t id) {
  // A buffer grown past a jumbo frame's size goes back to the usual size: an odd huge
  // datagram does not keep its size in the pool (rtp_receiver_bounds_test: oversize floods
  // leave no growth).
  std::vector<std::uint8_t>& bytes = buffers_[id].bytes;
  if (bytes.capacity() > kPooledBytes) std::vector<std::uint8_t>(kBufferBytes).swap(bytes);
  freeBuffers_.push_back(id);
}

VirtualSocket& VirtualNetwork::mine(const DatagramSocket& socket) const {
  // VirtualSocket is final: a typeid match is exact and cheaper than a dynamic_cast per datagram.
  if (typeid(socket) != typeid(VirtualSocket)) throw std::invalid_argument("VirtualNetwork: the socket is not a virtual one");
  auto& v = static_cast<const VirtualSocket&>(socket);
  if (&v.network() != this) throw std::invalid_argument("VirtualNetwork: the socket is not one of this network's");
  return const_cast<VirtualSocket&>(v);
}

void VirtualNetwork::sendGather(const DatagramSocket& from, const Ipv4Endpoint& to, const std::uint8_t* head,
                                std::size_t headSize, const std::uint8_t* body, std::size_t bodySize) {
  send(mine(from), to, head, headSize, body, bodySize);
}

std::optional<DatagramInfo> VirtualNetwork::peek(DatagramSocket& socket, const std::uint8_t*& data) {
  return mine(socket).peek(data);
}

void VirtualNetwork::send(const VirtualSocket& from, const Ipv4Endpoint& to, const std::uint8_t* head, std::size_t headSize,
                          const std::uint8_t* body, std::size_t bodySize) {
  ++stats_.sent;
  const Nanoseconds now = clock_.now();
  const Ipv4Endpoint source = from.localEndpoint();
  // Copied once, into a pooled buffer that the hook sees and every receiver shares.
  const std::uint32_t bytes = acquire(head, headSize, body, bodySize);
  delays_.assign(1, 0);
  if (impairment_) {
    impairment_(VirtualPacket{source, to, from.options().dscp, buffers_[bytes].bytes.data(), headSize + bodySize, now}, delays_);
  }
  if (delays_.empty()) {
    ++stats_.droppedByImpairment;
    recycle(bytes);
    return;
  }
  if (delays_.size() > 1) stats_.duplicatedByImpairment += delays_.size() - 1;
  buffers_[bytes].refs = static_cast<std::uint32_t>(delays_.size());
  for (const Nanoseconds extra : delays_) {
    inFlight_.push(InFlight{now + baseDelay_ + std::max<Nanoseconds>(0, extra), order_++, source, to,
                            from.options().dscp, from.options().multicastLoop, bytes});
  }
  deliverDue();  // zero-delay datagrams are receivable at once
}

const VirtualNetwork::InFlight& VirtualNetwork::InFlightQueue::top() const { return ringFirst() ? ring_[head_] : heap_.top(); }

void VirtualNetwork::InFlightQueue::push(const InFlight& p) {
  // In the ring only behind what it holds (orders only grow: due no earlier is behind).
  // The ring's size is a power of two (it doubles from 64): positions wrap by a mask.
  if (count_ > 0 && p.deliverAt < ring_[(head_ + count_ - 1) & (ring_.size() - 1)].deliverAt) {
    heap_.push(p);
    return;
  }
  if (count_ == ring_.size()) {
    std::vector<InFlight> bigger(std::max<std::size_t>(64, ring_.size() * 2));
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = p;
  ++count_;
}

void VirtualNetwork::InFlightQueue::pop() {
  if (ringFirst()) {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --count_;
  } else {
    heap_.pop();
  }
}

void VirtualNetwork::deliverDue() {
  const Nanoseconds now = clock_.now();
  while (!inFlight_.empty() && inFlight_.top().deliverAt <= now) {
    InFlight packet = inFlight_.top();
    inFlight_.pop();
    deliver(packet);
  }
}

void VirtualNetwork::deliver(const InFlight& packet) {
  bool any = false;
  if (const auto* sockets = byDestination_.find(keyOf(packet.destination.address, packet.destination.port))) {
    VirtualSocket::Queued q;
    q.info.source = packet.source;
    q.info.destination = packet.destination;
    q.info.size = buffers_[packet.buffer].size;
    q.info.receivedAt = packet.deliverAt;
    q.info.dscp = packet.dscp;
    q.buffer = packet.buffer;
    const bool multicast = isMulticast(packet.destination.address);
    for (VirtualSocket* socket : *sockets) {
      if (!socket->accepts(packet.source, packet.destination)) continue;
      // Without multicast loop, a host does not hear its own multicast (IP_MULTICAST_LOOP=0).
      if (multicast && !packet.senderLoop && socket->hostAddress() == packet.source.address) continue;
      any = true;
      if (socket->hostDeliveries) ++*socket->hostDeliveries;
      if (socket->enqueue(q)) {
        ++buffers_[packet.buffer].refs;
        ++stats_.delivered;
        if (socket->watched) ++watchedDelivered_;
      } else {
        ++stats_.queueOverflow;
      }
    }
  }
  if (!any) ++stats_.noReceiver;
  release(packet.buffer);  // this in-flight copy's reference
}

void VirtualNetwork::watch(const DatagramSocket& socket) {
  for (VirtualSocket* s : sockets_) {
    if (s == &socket) {
      s->watched = true;
      return;
    }
  }
  throw std::invalid_argument("VirtualNetwork::watch: the socket is not one of this network's");
}

const std::uint64_t& VirtualNetwork::deliveriesTo(const Transport& host) const {
  auto it = hosts_.find(host.localAddress());
  if (it == hosts_.end() || it->second.get() != &host) throw std::invalid_argument("VirtualNetwork::deliveriesTo: not a host of this network");
  return it->second->deliveries;
}

Nanoseconds VirtualNetwork::nextDeliveryTime() const {
  return inFlight_.empty() ? std::numeric_limits<Nanoseconds>::max() : inFlight_.top().deliverAt;
}

}  // namespace aes67
