#include "engine/rtsp/rtsp_client.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

const char* toString(RtspClientState s) {
  switch (s) {
    case RtspClientState::kIdle: return "idle";
    case RtspClientState::kConnecting: return "connecting";
    case RtspClientState::kRequesting: return "requesting";
    case RtspClientState::kDescribed: return "described";
    case RtspClientState::kBackoff: return "backoff";
    case RtspClientState::kStopped: return "stopped";
  }
  return "unknown";
}

const char* toString(RtspClientError e) {
  switch (e) {
    case RtspClientError::kConnectFailed: return "connect-failed";
    case RtspClientError::kConnectTimeout: return "connect-timeout";
    case RtspClientError::kResponseTimeout: return "response-timeout";
    case RtspClientError::kClosed: return "closed";
    case RtspClientError::kNotFound: return "not-found";
    case RtspClientError::kMethodNotAllowed: return "method-not-allowed";
    case RtspClientError::kNotAcceptable: return "not-acceptable";
    case RtspClientError::kStatus: return "status";
    case RtspClientError::kNotSdp: return "not-sdp";
    case RtspClientError::kBadSdp: return "bad-sdp";
    case RtspClientError::kProtocol: return "protocol";
    case RtspClientError::kBadAnnounce: return "bad-announce";
    case RtspClientError::kOverflow: return "overflow";
    case RtspClientError::kCount: break;
  }
  return "unknown";
}

const char* toString(RtspClientEvent::Kind k) {
  switch (k) {
    case RtspClientEvent::Kind::kDescription: return "description";
    case RtspClientEvent::Kind::kChanged: return "changed";
    case RtspClientEvent::Kind::kError: return "error";
  }
  return "unknown";
}

namespace {

constexpr Nanoseconds kNever = std::numeric_limits<Nanoseconds>::max();

// "application/sdp" with optional parameters ("; charset=utf-8"), in any case.
bool isSdpType(const std::string* contentType) {
  if (!contentType) return false;
  std::string_view t(*contentType);
  t = t.substr(0, t.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return equalsIgnoreCase(t, "application/sdp");
}

// The SDP parses (RFC 8866), or why not.
std::optional<std::string> sdpProblem(const std::string& body) {
  try {
    parseSdp(body);
    return std::nullopt;
  } catch (const SdpError& e) {
    return std::string(e.what());
  }
}

bool isCseq(const std::string* v) {
  return v && !v->empty() && v->size() <= 9 && std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

RtspClient::RtspClient(RtspClientConfig config) : config_(std::move(config)), url_(parseRtspUrl(config_.url)) {
  if (config_.connectTimeout <= 0 || config_.responseTimeout <= 0) throw std::invalid_argument("RTSP client time-outs must be positive");
  if (config_.retryInitial <= 0 || config_.retryMax < config_.retryInitial) {
    throw std::invalid_argument("RTSP client retry: need 0 < retryInitial <= retryMax");
  }
  if (config_.keepaliveInterval < 0) throw std::invalid_argument("RTSP client keepaliveInterval must be 0 (off) or positive");
  for (char c : config_.userAgent) {
    if (c == '\r' || c == '\n') throw std::invalid_argument("RTSP client userAgent contains a line break");
  }
  backoff_ = config_.retryInitial;
}

RtspClient::LinkCommand RtspClient::takeLinkCommand() {
  const LinkCommand c = link_;
  link_ = LinkCommand::kNone;
  return c;
}

std::string RtspClient::takeOutgoing() {
  std::string out;
  out.swap(outgoing_);
  return out;
}

std::vector<RtspClientEvent> RtspClient::takeEvents() {
  std::vector<RtspClientEvent> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

void RtspClient::emit(RtspClientEvent e) {
  if (callback_) {
    callback_(e);
    return;
  }
  if (events_.size() >= config_.maxQueuedEvents) {
    events_.pop_front();
    ++stats_.droppedEvents;
  }
  events_.push_back(std::move(e));
}

void RtspClient::stop() {
  if (state_ == RtspClientState::kConnecting || linkOpen()) link_ = LinkCommand::kClose;
  state_ = RtspClientState::kStopped;
  outgoing_.clear();
  pending_ = Pending::kNone;
  deadline_ = kNever;
}

void RtspClient::beginConnect(Nanoseconds now) {
  state_ = RtspClientState::kConnecting;
  link_ = LinkCommand::kConnect;
  parser_.reset();
  outgoing_.clear();
  pending_ = Pending::kNone;
  nextKeepalive_ = kNever;
  deadline_ = now + config_.connectTimeout;
  ++stats_.connects;
}

void RtspClient::connected(Nanoseconds now) {
  if (state_ != RtspClientState::kConnecting) return;
  ++stats_.connected;
  state_ = RtspClientState::kRequesting;
  sendRequest(config_.sendOptions ? Pending::kOptions : Pending::kDescribe, now);
}

void RtspClient::connectFailed(Nanoseconds now, const std::string& why) {
  if (state_ != RtspClientState::kConnecting) return;
  fail(RtspClientError::kConnectFailed, "connecting to " + url_.host + ":" + std::to_string(url_.port) + " failed: " + why, now, false);
}

void RtspClient::closed(Nanoseconds now, const std::string& why) {
  if (state_ == RtspClientState::kConnecting) {
    return fail(RtspClientError::kConnectFailed, "connecting to " + url_.host + ":" + std::to_string(url_.port) + " failed: " + why, now, false);
  }
  if (!linkOpen()) return;
  fail(RtspClientError::kClosed, "the server closed the connection for " + config_.url + (why.empty() ? "" : ": " + why), now, false);
}

void RtspClient::fail(RtspClientError e, const std::string& message, Nanoseconds now, bool closeLink, int status) {
  if (failing_) return;
  failing_ = true;
  ++stats_.errors[static_cast<std::size_t>(e)];
  RtspClientEvent ev;
  ev.kind = RtspClientEvent::Kind::kError;
  ev.at = now;
  ev.error = e;
  ev.status = status;
  ev.message = message;
  lastError_ = ev;
  if (e == RtspClientError::kBadAnnounce) {
    // The description held stays valid and so does the connection.
    emit(std::move(ev));
    failing_ = false;
    return;
  }
  if (closeLink) link_ = LinkCommand::kClose;
  state_ = RtspClientState::kBackoff;
  outgoing_.clear();
  pending_ = Pending::kNone;
  deadline_ = kNever;
  nextKeepalive_ = kNever;
  retryAt_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, config_.retryMax);
  emit(std::move(ev));
  failing_ = false;
}

void RtspClient::write(const std::string& bytes, Nanoseconds now) {
  if (outgoing_.size() + bytes.size() > config_.maxOutgoingBytes) {
    return fail(RtspClientError::kOverflow,
                "over " + std::to_string(config_.maxOutgoingBytes) + " bytes for " + config_.url + " were not sent", now, true);
  }
  outgoing_ += bytes;
}

void RtspClient::sendRequest(Pending what, Nanoseconds now) {
  pending_ = what;
  pendingCseq_ = ++cseq_;
  deadline_ = now + config_.responseTimeout;
  ++stats_.requests;
  std::vector<std::pair<std::string, std::string>> headers = {{"CSeq", std::to_string(pendingCseq_)}};
  if (!config_.userAgent.empty()) headers.emplace_back("User-Agent", config_.userAgent);
  if (what == Pending::kDescribe) {
    headers.emplace_back("Accept", "application/sdp");
    write(writeRtspRequest("DESCRIBE", config_.url, headers), now);
  } else {
    write(writeRtspRequest("OPTIONS", config_.url, headers), now);
  }
}

void RtspClient::receive(const std::uint8_t* data, std::size_t size, Nanoseconds now) {
  if (!linkOpen()) {
    stats_.ignoredBytes += size;
    return;
  }
  std::size_t at = 0;
  while (linkOpen()) {
    at += parser_.feed(data + at, size - at);
    if (parser_.hasMessage()) {
      handle(parser_.take(), now);
      continue;
    }
    if (parser_.failed()) {
      fail(RtspClientError::kProtocol, "the server at " + config_.url + " broke RTSP framing: " + parser_.errorDetail(), now, true);
    }
    break;
  }
  if (at < size) stats_.ignoredBytes += size - at;
}

void RtspClient::handle(const RtspMessage& m, Nanoseconds now) {
  if (m.isRequest) {
    handleServerRequest(m, now);
  } else {
    handleResponse(m, now);
  }
}

void RtspClient::handleResponse(const RtspMessage& m, Nanoseconds now) {
  const std::string* cseq = m.header("CSeq");
  if (pending_ == Pending::kNone || !isCseq(cseq) || std::stoul(*cseq) != pendingCseq_) {
    ++stats_.unexpectedResponses;  // an answer to nothing we wait for (RFC 2326 §12.17)
    return;
  }
  if (m.status >= 100 && m.status < 200) return;  // provisional: the final answer follows
  const Pending what = pending_;
  pending_ = Pending::kNone;
  deadline_ = kNever;
  if (what == Pending::kOptions) {
    // OPTIONS only opens the exchange; whatever it says, DESCRIBE is the question.
    return sendRequest(Pending::kDescribe, now);
  }
  if (what == Pending::kKeepalive) {
    nextKeepalive_ = now + config_.keepaliveInterval;
    return;
  }
  handleDescribe(m, now);
}

void RtspClient::handleDescribe(const RtspMessage& m, Nanoseconds now) {
  const std::string what = "DESCRIBE " + config_.url + ": " + std::to_string(m.status) + (m.reason.empty() ? "" : " " + m.reason);
  if (m.status != 200) {
    const RtspClientError e = m.status == 404   ? RtspClientError::kNotFound
                              : m.status == 405 ? RtspClientError::kMethodNotAllowed
                              : m.status == 406 ? RtspClientError::kNotAcceptable
                                                : RtspClientError::kStatus;
    return fail(e, what, now, true, m.status);
  }
  if (!isSdpType(m.header("Content-Type")) || m.body.empty()) {
    const std::string* type = m.header("Content-Type");
    return fail(RtspClientError::kNotSdp,
                what + " with " + (m.body.empty() ? "no body" : "Content-Type \"" + (type ? *type : std::string()) + "\"") +
                    ", expected an application/sdp body",
                now, true, m.status);
  }
  if (const auto problem = sdpProblem(m.body)) return fail(RtspClientError::kBadSdp, what + " with an SDP the engine cannot read: " + *problem, now, true, m.status);
  RtspClientEvent ev;
  ev.kind = RtspClientEvent::Kind::kDescription;
  ev.at = now;
  ev.sdp = m.body;
  ev.changed = !sdp_ || *sdp_ != m.body;
  sdp_ = m.body;
  ++stats_.describes;
  state_ = RtspClientState::kDescribed;
  backoff_ = config_.retryInitial;
  if (config_.keepaliveInterval > 0) nextKeepalive_ = now + config_.keepaliveInterval;
  emit(std::move(ev));
}

void RtspClient::reply(const std::string* cseq, int status, const std::string& reason,
                       std::vector<std::pair<std::string, std::string>> headers) {
  if (cseq) headers.insert(headers.begin(), {"CSeq", *cseq});
  if (status != 200) ++stats_.refusedServerRequests;
  // Written directly: a reply is small and the overflow check follows in write().
  outgoing_ += writeRtspResponse(status, reason, headers);
}

void RtspClient::handleServerRequest(const RtspMessage& m, Nanoseconds now) {
  ++stats_.serverRequests;
  const std::string* cseq = m.header("CSeq");
  const std::size_t before = outgoing_.size();
  if (!isCseq(cseq)) {
    reply(nullptr, 400, "Bad Request");
  } else if (m.method == "ANNOUNCE") {
    // RFC 2326 §10.3: the server posts the session's new description.
    if (!isSdpType(m.header("Content-Type"))) {
      reply(cseq, 415, "Unsupported Media Type", {{"Accept", "application/sdp"}});
      fail(RtspClientError::kBadAnnounce, "ANNOUNCE " + m.url + " without an application/sdp body: refused 415", now, false);
    } else if (const auto problem = m.body.empty() ? std::optional<std::string>("no body") : sdpProblem(m.body)) {
      reply(cseq, 400, "Bad Request");
      fail(RtspClientError::kBadAnnounce, "ANNOUNCE " + m.url + " with an SDP the engine cannot read (" + *problem + "): refused 400", now, false);
    } else {
      reply(cseq, 200, "OK");
      if (sdp_ && *sdp_ == m.body) {
        ++stats_.unchangedAnnouncements;
      } else {
        sdp_ = m.body;
        ++stats_.announcements;
        RtspClientEvent ev;
        ev.kind = RtspClientEvent::Kind::kChanged;
        ev.at = now;
        ev.sdp = m.body;
        ev.changed = true;
        emit(std::move(ev));
      }
    }
  } else if (m.method == "OPTIONS") {
    reply(cseq, 200, "OK", {{"Public", "OPTIONS, ANNOUNCE"}});
  } else {
    reply(cseq, 405, "Method Not Allowed", {{"Allow", "OPTIONS, ANNOUNCE"}});
  }
  if (linkOpen() && outgoing_.size() > config_.maxOutgoingBytes) {
    outgoing_.resize(before);
    fail(RtspClientError::kOverflow, "over " + std::to_string(config_.maxOutgoingBytes) + " bytes for " + config_.url + " were not sent", now, true);
  }
}

Nanoseconds RtspClient::poll(Nanoseconds now) {
  switch (state_) {
    case RtspClientState::kIdle:
      beginConnect(now);
      break;
    case RtspClientState::kBackoff:
      if (now >= retryAt_) beginConnect(now);
      break;
    case RtspClientState::kConnecting:
      if (now >= deadline_) {
        fail(RtspClientError::kConnectTimeout,
             "no connection to " + url_.host + ":" + std::to_string(url_.port) + " within " +
                 std::to_string(config_.connectTimeout / 1'000'000) + " ms",
             now, true);
      }
      break;
    case RtspClientState::kRequesting:
    case RtspClientState::kDescribed:
      if (pending_ != Pending::kNone && now >= deadline_) {
        const char* what = pending_ == Pending::kDescribe ? "DESCRIBE" : "OPTIONS";
        fail(RtspClientError::kResponseTimeout,
             std::string("no answer to ") + what + " " + config_.url + " within " + std::to_string(config_.responseTimeout / 1'000'000) + " ms",
             now, true);
      } else if (state_ == RtspClientState::kDescribed && pending_ == Pending::kNone && now >= nextKeepalive_) {
        nextKeepalive_ = kNever;
        sendRequest(Pending::kKeepalive, now);
      }
      break;
    case RtspClientState::kStopped:
      break;
  }
  switch (state_) {
    case RtspClientState::kBackoff: return retryAt_;
    case RtspClientState::kConnecting: return deadline_;
    case RtspClientState::kRequesting:
    case RtspClientState::kDescribed: return std::min(deadline_, pending_ == Pending::kNone ? nextKeepalive_ : kNever);
    default: return kNever;
  }
}

}  // namespace aes67
