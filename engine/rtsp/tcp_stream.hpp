// One TCP/IPv4 connection as a non-blocking byte stream, for RTSP in real mode: connect
// never blocks (it completes, fails or times out on a later call, time from the Clock),
// reads take what has arrived, writes queue what the kernel does not take yet (bounded).
// Nothing here waits except wait(), which a polling thread may call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/base/clock.hpp"
#include "engine/base/endpoint.hpp"

namespace aes67 {

struct TcpStreamOptions {
  Ipv4Address bindAddress = 0;  // 0: the routing table picks the source address
  int dscp = 0;                 // 6-bit DSCP on the connection's packets
  Nanoseconds connectTimeout = 3 * kNanosPerSecond;
  std::size_t maxQueuedBytes = 256 * 1024;  // written but not yet taken by the kernel
  bool keepalive = true;        // TCP keepalive, so a peer that vanished is noticed
};

class TcpStream {
 public:
  enum class State : std::uint8_t {
    kConnecting,
    kOpen,
    kClosed,  // the peer closed (after its bytes were read), or close() was called
    kFailed,  // refused, reset, timed out: error() says which
  };

  // Starts connecting. Throws std::runtime_error naming the reason when no socket can be
  // made (descriptors exhausted, bad bind address).
  TcpStream(const Clock& clock, Ipv4Endpoint remote, TcpStreamOptions options = {});
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // Moves a pending connect on (open, refused, timed out) and sends queued bytes.
  State update();
  State state() const { return state_; }
  // Copies what has arrived into buffer (0: nothing now). The peer's FIN makes the state
  // kClosed once every byte before it was read.
  std::size_t read(std::uint8_t* buffer, std::size_t capacity);
  // Queues the bytes and sends what the kernel takes; false (and kFailed) when over the
  // queue limit; false when not connecting or open.
  bool write(const std::uint8_t* data, std::size_t size);
  std::size_t queuedBytes() const { return queue_.size() - queueHead_; }
  // Blocks until the socket is readable (or writable while connecting or with bytes
  // queued) or `timeout` passes.
  void wait(Nanoseconds timeout) const;
  void close();

  const std::string& error() const { return error_; }
  Ipv4Endpoint remote() const { return remote_; }
  Ipv4Endpoint local() const;
  int fd() const { return fd_; }

 private:
  void failWith(const std::string& why);
  void flush();

  const Clock& clock_;
  Ipv4Endpoint remote_;
  TcpStreamOptions options_;
  int fd_ = -1;
  State state_ = State::kConnecting;
  Nanoseconds deadline_;
  std::string queue_;
  std::size_t queueHead_ = 0;
  std::string error_;
};

}  // namespace aes67
