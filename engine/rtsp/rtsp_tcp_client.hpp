// The sans-IO RtspClient on a real TCP connection (TcpStream), polled: poll() carries out
// the client's connect / close commands, moves a pending connect on, hands received bytes
// to the client, writes what it has to say, and runs its time-outs. A thread that owns it
// loops `wait(next); next = poll();`; a single-threaded owner (the lab's real-time loop)
// just polls. The URL's host must be an IPv4 address (a .local name is resolved by
// DNS-SD before it gets here); anything else is reported as a connect failure.
#pragma once

#include <array>
#include <memory>

#include "engine/base/clock.hpp"
#include "engine/rtsp/rtsp_client.hpp"
#include "engine/rtsp/tcp_stream.hpp"

namespace aes67 {

class RtspTcpClient {
 public:
  // Throws std::invalid_argument for a bad configuration (see RtspClient).
  RtspTcpClient(const Clock& clock, RtspClientConfig config, TcpStreamOptions options = {});

  // Does everything due now; returns when it next wants to run (also run it when wait() returns).
  Nanoseconds poll();
  // Blocks until the connection has something for poll() or `until` (Clock time) passes.
  void wait(Nanoseconds until) const;
  // Closes the connection and stops retrying.
  void stop();

  RtspClient& client() { return client_; }
  const RtspClient& client() const { return client_; }
  const TcpStream* stream() const { return stream_.get(); }

 private:
  void carryOutLinkCommand(Nanoseconds now);
  void drop();

  const Clock& clock_;
  TcpStreamOptions options_;
  RtspClient client_;
  std::unique_ptr<TcpStream> stream_;
  bool reportedOpen_ = false;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
};

}  // namespace aes67
