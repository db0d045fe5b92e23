// The engine's RTSP client for a RAVENNA session (FIELD-NOTES "RAVENNA"): it DESCRIBEs
// rtsp://host:port/by-name/<name> (or /by-id/<n>) with "Accept: application/sdp", takes
// the SDP of the 200 answer as the session's description, keeps the connection, and
// answers the server's ANNOUNCE (200 with the same CSeq) by taking the new SDP — the way
// a RAVENNA session server tells its subscribers that the session changed. Failures
// (404/405/406 and other statuses, no SDP, a bad SDP, time-outs, a closed connection,
// broken framing) are reported with their reason, and a new connection is tried after a
// backoff that doubles up to a limit and resets once a DESCRIBE succeeds.
//
// Sans-IO: the client never touches a socket or a clock. Whoever owns the byte stream
// (RtspTcpClient on a real TCP socket, or the lab's VirtualStreamHub through the native
// binding) carries out takeLinkCommand() (connect / close), reports connected(),
// connectFailed() and closed(), hands received bytes to receive(), writes what
// takeOutgoing() returns, and calls poll(now) when poll last asked to be called.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/time.hpp"
#include "engine/rtsp/rtsp_message.hpp"
#include "engine/rtsp/rtsp_url.hpp"

namespace aes67 {

struct RtspClientConfig {
  std::string url;                  // rtsp://host[:port]/by-name/<name> or /by-id/<n>
  bool sendOptions = false;         // OPTIONS before DESCRIBE on each connection
  std::string userAgent = "aes67-lab engine";
  Nanoseconds connectTimeout = 3 * kNanosPerSecond;
  Nanoseconds responseTimeout = 5 * kNanosPerSecond;
  Nanoseconds retryInitial = 1 * kNanosPerSecond;  // first backoff after a failure
  Nanoseconds retryMax = 30 * kNanosPerSecond;     // the backoff doubles up to this
  Nanoseconds keepaliveInterval = 0;               // OPTIONS this often while described; 0: never
  std::size_t maxOutgoingBytes = 64 * 1024;        // not taken by the owner: the link is dropped
  std::size_t maxQueuedEvents = 256;               // without a callback: the oldest are dropped
};

enum class RtspClientState : std::uint8_t {
  kIdle,        // not started: the first poll() connects
  kConnecting,  // waiting for connected()
  kRequesting,  // connected, waiting for the OPTIONS / DESCRIBE answer
  kDescribed,   // holding a description; following ANNOUNCE
  kBackoff,     // after a failure, until the retry time
  kStopped,
};
const char* toString(RtspClientState s);

enum class RtspClientError : std::uint8_t {
  kConnectFailed,     // refused, unreachable: the owner's reason
  kConnectTimeout,
  kResponseTimeout,
  kClosed,            // the server closed or reset the connection
  kNotFound,          // DESCRIBE answered 404
  kMethodNotAllowed,  // 405
  kNotAcceptable,     // 406 (it cannot give application/sdp)
  kStatus,            // another status than 200
  kNotSdp,            // 200 without an application/sdp body
  kBadSdp,            // the body is not an SDP (RFC 8866)
  kProtocol,          // the server broke RTSP framing
  kBadAnnounce,       // an ANNOUNCE refused (not SDP or a bad SDP); the connection stays
  kOverflow,          // outgoing bytes were not taken
  kCount
};
const char* toString(RtspClientError e);

struct RtspClientEvent {
  enum class Kind : std::uint8_t { kDescription, kChanged, kError };
  Kind kind = Kind::kDescription;
  Nanoseconds at = 0;
  std::string sdp;     // kDescription, kChanged
  bool changed = false;  // kDescription: differs from the description held before
  RtspClientError error = RtspClientError::kCount;  // kError
  int status = 0;      // kError from a response: its status
  std::string message; // kError: what happened, naming the URL
};
const char* toString(RtspClientEvent::Kind k);

struct RtspClientStats {
  std::uint64_t connects = 0;          // connections asked for
  std::uint64_t connected = 0;         // connections that opened
  std::uint64_t requests = 0;          // OPTIONS and DESCRIBE sent
  std::uint64_t describes = 0;         // DESCRIBE answered with an SDP
  std::uint64_t announcements = 0;     // ANNOUNCE with a new SDP, answered 200
  std::uint64_t unchangedAnnouncements = 0;  // ANNOUNCE with the SDP already held, answered 200
  std::uint64_t serverRequests = 0;    // every request from the server
  std::uint64_t refusedServerRequests = 0;   // answered 4xx/5xx
  std::uint64_t unexpectedResponses = 0;     // no or an unknown CSeq: dropped
  std::uint64_t ignoredBytes = 0;      // received while no connection was expected
  std::uint64_t droppedEvents = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(RtspClientError::kCount)> errors{};
};

class RtspClient {
 public:
  enum class LinkCommand : std::uint8_t { kNone, kConnect, kClose };
  using Callback = std::function<void(const RtspClientEvent&)>;

  // Throws std::invalid_argument naming the problem (URL, time-outs).
  explicit RtspClient(RtspClientConfig config);

  // What the owner must do with the byte stream now; taking it clears it. kConnect: close
  // any stream held and open one to url().host:port. kClose: close the stream held.
  LinkCommand takeLinkCommand();
  void connected(Nanoseconds now);
  void connectFailed(Nanoseconds now, const std::string& why);
  void closed(Nanoseconds now, const std::string& why);
  void receive(const std::uint8_t* data, std::size_t size, Nanoseconds now);
  // Bytes to write to the stream, in order.
  std::string takeOutgoing();
  // Time-outs, retries, keepalive; returns when it next wants to be polled (INT64_MAX: never).
  Nanoseconds poll(Nanoseconds now);
  // Closes the link and stops retrying.
  void stop();

  void setCallback(Callback callback) { callback_ = std::move(callback); }
  // Events not delivered to a callback (bounded), oldest first; taking them clears them.
  std::vector<RtspClientEvent> takeEvents();

  RtspClientState state() const { return state_; }
  // The session's current SDP (from DESCRIBE or the latest ANNOUNCE).
  const std::optional<std::string>& currentSdp() const { return sdp_; }
  const RtspUrl& url() const { return url_; }
  const RtspClientConfig& config() const { return config_; }
  const RtspClientStats& stats() const { return stats_; }
  const RtspParserStats& parserStats() const { return parser_.stats(); }
  // The error of the last failure, if any.
  const std::optional<RtspClientEvent>& lastError() const { return lastError_; }
  Nanoseconds currentBackoff() const { return backoff_; }

 private:
  enum class Pending : std::uint8_t { kNone, kOptions, kDescribe, kKeepalive };
  void beginConnect(Nanoseconds now);
  void sendRequest(Pending what, Nanoseconds now);
  void handle(const RtspMessage& m, Nanoseconds now);
  void handleResponse(const RtspMessage& m, Nanoseconds now);
  void handleDescribe(const RtspMessage& m, Nanoseconds now);
  void handleServerRequest(const RtspMessage& m, Nanoseconds now);
  void reply(const std::string* cseq, int status, const std::string& reason,
             std::vector<std::pair<std::string, std::string>> headers = {});
  void write(const std::string& bytes, Nanoseconds now);
  void fail(RtspClientError e, const std::string& message, Nanoseconds now, bool closeLink, int status = 0);
  void emit(RtspClientEvent e);
  bool linkOpen() const { return state_ == RtspClientState::kRequesting || state_ == RtspClientState::kDescribed; }

  RtspClientConfig config_;
  RtspUrl url_;
  RtspClientState state_ = RtspClientState::kIdle;
  LinkCommand link_ = LinkCommand::kNone;
  RtspParser parser_;
  std::string outgoing_;
  std::optional<std::string> sdp_;
  std::uint32_t cseq_ = 0;
  std::uint32_t pendingCseq_ = 0;
  Pending pending_ = Pending::kNone;
  Nanoseconds deadline_ = std::numeric_limits<Nanoseconds>::max();  // connect or response
  Nanoseconds retryAt_ = 0;
  Nanoseconds nextKeepalive_ = std::numeric_limits<Nanoseconds>::max();
  Nanoseconds backoff_;
  bool failing_ = false;  // inside fail(): a nested failure is not reported twice
  std::optional<RtspClientEvent> lastError_;
  Callback callback_;
  std::deque<RtspClientEvent> events_;
  RtspClientStats stats_;
};

}  // namespace aes67
