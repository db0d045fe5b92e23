#include "engine/rtsp/rtsp_tcp_client.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <time.h>

namespace aes67 {

RtspTcpClient::RtspTcpClient(const Clock& clock, RtspClientConfig config, TcpStreamOptions options)
    : clock_(clock), options_(options), client_(std::move(config)) {
  // The client's own time-out governs; the stream's is only a backstop.
  options_.connectTimeout = client_.config().connectTimeout + kNanosPerSecond;
}

void RtspTcpClient::drop() {
  if (stream_) stream_->close();
  stream_.reset();
  reportedOpen_ = false;
}

void RtspTcpClient::carryOutLinkCommand(Nanoseconds now) {
  switch (client_.takeLinkCommand()) {
    case RtspClient::LinkCommand::kNone:
      return;
    case RtspClient::LinkCommand::kClose:
      drop();
      return;
    case RtspClient::LinkCommand::kConnect:
      break;
  }
  drop();
  Ipv4Endpoint remote;
  try {
    remote = {parseIpv4(client_.url().host), client_.url().port};
  } catch (const std::invalid_argument&) {
    client_.connectFailed(now, "host \"" + client_.url().host + "\" is not an IPv4 address (resolve it through DNS-SD first)");
    return;
  }
  try {
    stream_ = std::make_unique<TcpStream>(clock_, remote, options_);
  } catch (const std::runtime_error& e) {
    client_.connectFailed(now, e.what());
  }
}

Nanoseconds RtspTcpClient::poll() {
  Nanoseconds now = clock_.now();
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  // A few rounds: a command may open a stream whose connect is already done, whose bytes
  // the client answers at once. Each round does only what is due, so a bound is enough.
  for (int round = 0; round < 4; ++round) {
    now = clock_.now();
    carryOutLinkCommand(now);
    bool progress = false;
    if (stream_) {
      const TcpStream::State st = stream_->update();
      if (!reportedOpen_ && st == TcpStream::State::kOpen) {
        reportedOpen_ = true;
        client_.connected(now);
        progress = true;
      }
      if (st == TcpStream::State::kOpen) {
        for (int reads = 0; reads < 64; ++reads) {
          const std::size_t n = stream_->read(buffer_.data(), buffer_.size());
          if (n == 0) break;
          client_.receive(buffer_.data(), n, now);
          progress = true;
        }
      }
      const TcpStream::State after = stream_ ? stream_->state() : TcpStream::State::kClosed;
      if (after == TcpStream::State::kFailed || after == TcpStream::State::kClosed) {
        const std::string why = stream_->error();
        const bool wasOpen = reportedOpen_;
        stream_.reset();
        reportedOpen_ = false;
        if (wasOpen) {
          client_.closed(now, why);
        } else {
          client_.connectFailed(now, why);
        }
        progress = true;
      }
    }
    next = client_.poll(now);
    const std::string out = client_.takeOutgoing();
    if (!out.empty() && stream_) {
      stream_->write(reinterpret_cast<const std::uint8_t*>(out.data()), out.size());
      progress = true;
    }
    if (!progress) break;
  }
  carryOutLinkCommand(now);
  return next;
}

void RtspTcpClient::wait(Nanoseconds until) const {
  const Nanoseconds timeout = std::max<Nanoseconds>(0, until - clock_.now());
  if (stream_) {
    stream_->wait(timeout);
  } else if (timeout > 0) {
    // Nothing to watch: sleep until the retry is due (at most a minute at a time).
    struct timespec ts{static_cast<time_t>(std::min<Nanoseconds>(timeout, 60 * kNanosPerSecond) / kNanosPerSecond),
                       static_cast<long>(std::min<Nanoseconds>(timeout, 60 * kNanosPerSecond) % kNanosPerSecond)};
    nanosleep(&ts, nullptr);
  }
}

void RtspTcpClient::stop() {
  client_.stop();
  carryOutLinkCommand(clock_.now());
  drop();
}

}  // namespace aes67
