// The only way the engine sends or receives packets. UdpTransport is real sockets;
// VirtualNetwork is an in-process network in virtual time where the lab's impairments
// apply. Receiving is non-blocking and copies into the caller's buffer, so a receive
// loop allocates nothing per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/clock.hpp"
#include "engine/base/endpoint.hpp"

namespace aes67 {

struct SocketOptions {
  std::uint16_t localPort = 0;       // 0: the transport picks one
  Ipv4Address bindAddress = 0;       // 0: any address
  std::string interfaceName;         // multicast joins and sends use this interface ("" = default route)
  int multicastTtl = 32;             // AES67 senders commonly announce TTL 32 in c=
  int dscp = 0;                      // 6-bit DSCP; AES67 media is 34 (AF41), PTP event 46 (EF)
  bool multicastLoop = true;         // deliver our own multicast to sockets on this host
  bool reuseAddress = true;          // several receivers may share a port (SAP, PTP, RTP groups)
  std::size_t receiveQueueLimit = 4096;  // datagrams held before new ones are dropped and counted
  bool transmitTimestamps = false;       // ask for the kernel's transmit time stamps (see lastTransmitTime)
  // Kernel receive buffer (real sockets). Linux's default (~208 KiB) overflows when a
  // 125 us stream's reader is delayed a few ms on a loaded host; 0 keeps the default.
  std::size_t receiveBufferBytes = 4 << 20;
};

struct DatagramInfo {
  Ipv4Endpoint source;
  Ipv4Endpoint destination;  // the group for multicast
  std::size_t size = 0;      // bytes on the wire (may exceed the copied bytes: truncated)
  bool truncated = false;
  Nanoseconds receivedAt = 0;  // in the transport's Clock domain
  int dscp = -1;               // -1 when unknown
};

class DatagramSocket {
 public:
  virtual ~DatagramSocket() = default;
  // Returns false if the datagram could not be handed to the network (counted).
  virtual bool send(const Ipv4Endpoint& destination, const std::uint8_t* data, std::size_t size) = 0;
  // Non-blocking: the next datagram due now, copied into buffer, or nothing.
  virtual std::optional<DatagramInfo> receive(std::uint8_t* buffer, std::size_t capacity) = 0;
  // receive() without the copy where the transport can lend its own buffer (the virtual
  // network): the datagram's bytes at `data`, valid until this socket's next receive or
  // receiveView, never truncated (size is the datagram's). Elsewhere a receive() into a
  // buffer this socket keeps (allocated at the first call: not for a real-time thread).
  virtual std::optional<DatagramInfo> receiveView(const std::uint8_t*& data) {
    if (lent_.empty()) lent_.resize(65536);
    std::optional<DatagramInfo> info = receive(lent_.data(), lent_.size());
    if (info) data = lent_.data();
    return info;
  }
  // Waits until a datagram can be received or `timeout` passes (virtual sockets never wait).
  virtual bool waitReadable(Nanoseconds timeout) = 0;
  // False only where the transport knows, without a system call, that no datagram waits
  // (the virtual network): a poller may then skip the socket. Real sockets say true.
  virtual bool mayHaveDatagram() const { return true; }
  // Any-source join when source == 0, else source-specific (SSM, RFC 4607).
  virtual void joinMulticast(Ipv4Address group, Ipv4Address source = 0) = 0;
  virtual void leaveMulticast(Ipv4Address group, Ipv4Address source = 0) = 0;
  virtual Ipv4Endpoint localEndpoint() const = 0;
  // Datagrams dropped because the receive queue was full.
  virtual std::uint64_t receiveOverflows() const = 0;
  // errno of the last send that failed (0: none, or a transport without errno). Read with no
  // system call, so a real-time sender can keep it with its count of failures.
  virtual int lastSendError() const { return 0; }
  // When the last datagram sent left, in the transport's Clock domain: the kernel's software
  // transmit time stamp (Linux SO_TIMESTAMPING, taken where the driver transmits, as ptp4l
  // uses) for a socket opened with transmitTimestamps; waits up to `timeout` for it.
  // Nothing where the platform or transport has none (then read the Clock at the send).
  virtual std::optional<Nanoseconds> lastTransmitTime(Nanoseconds timeout) {
    (void)timeout;
    return std::nullopt;
  }

 private:
  std::vector<std::uint8_t> lent_;  // receiveView's buffer where the transport lends none
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws std::runtime_error naming the reason when the socket cannot be opened.
  virtual std::unique_ptr<DatagramSocket> open(const SocketOptions& options) = 0;
  virtual const Clock& clock() const = 0;
  // The address this transport's packets leave from (0 if unknown).
  virtual Ipv4Address localAddress() const = 0;
};

}  // namespace aes67
