#include "engine/sap/sap_listener.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

const char* toString(SapDropReason r) {
  switch (r) {
    case SapDropReason::kTruncated: return "truncated";
    case SapDropReason::kBadVersion: return "bad-version";
    case SapDropReason::kDecompressFailed: return "decompress-failed";
    case SapDropReason::kNoZlib: return "no-zlib";
    case SapDropReason::kBadPayloadType: return "bad-payload-type";
    case SapDropReason::kEncrypted: return "encrypted";
    case SapDropReason::kIpv6Origin: return "ipv6-origin";
    case SapDropReason::kNotSdp: return "not-sdp";
    case SapDropReason::kBadSdp: return "bad-sdp";
    case SapDropReason::kOversize: return "oversize";
    case SapDropReason::kSdpTooLarge: return "sdp-too-large";
    case SapDropReason::kCount: break;
  }
  return "unknown";
}

const char* toString(SapEvent e) {
  switch (e) {
    case SapEvent::kAdded: return "added";
    case SapEvent::kChanged: return "changed";
    case SapEvent::kDeleted: return "deleted";
    case SapEvent::kTimedOut: return "timed-out";
    case SapEvent::kEvicted: return "evicted";
  }
  return "unknown";
}

std::uint64_t SapListenerStats::droppedTotal() const {
  std::uint64_t n = 0;
  for (auto d : dropped) n += d;
  return n;
}

SapListener::SapListener(SapListenerConfig config) : config_(std::move(config)) {
  if (config_.maxSessions == 0) throw std::invalid_argument("SapListener: maxSessions must be at least 1");
  if (config_.maxSdpBytes == 0) throw std::invalid_argument("SapListener: maxSdpBytes must be at least 1");
}

SapListener::SapListener(Transport& transport, SapListenerConfig config) : SapListener(std::move(config)) {
  if (config_.groups.empty()) throw std::invalid_argument("SapListener: no group to listen on");
  const std::uint16_t port = config_.groups.front().port;
  for (const auto& g : config_.groups) {
    if (g.port != port) throw std::invalid_argument("SapListener: every group must use one port (" + formatEndpoint(g) + ")");
  }
  transport_ = &transport;
  SocketOptions options;
  options.localPort = port;
  options.interfaceName = config_.interfaceName;
  options.reuseAddress = true;
  options.receiveQueueLimit = 1024;
  socket_ = transport.open(options);
  for (const auto& g : config_.groups) socket_->joinMulticast(g.address);
  buffer_.resize(kSapMaxPayload + 1);
}

std::size_t SapListener::poll() {
  if (!socket_) throw std::logic_error("SapListener::poll: made without a transport (use handle())");
  std::size_t n = 0;
  while (auto info = socket_->receive(buffer_.data(), buffer_.size())) {
    ++n;
    if (info->truncated || info->size > kSapMaxPayload) {
      ++stats_.received;
      drop(SapDropReason::kOversize);
      continue;
    }
    handle(buffer_.data(), info->size, *info, transport_->clock().now());
  }
  expire(transport_->clock().now());
  return n;
}

namespace {
// What identifies a session across versions (RFC 8866 §5.2: o= less the version).
std::string originKey(const SdpOrigin& o) {
  return o.username + " " + o.sessionId + " " + o.netType + " " + o.addrType + " " + o.address;
}
}  // namespace

void SapListener::handle(const std::uint8_t* data, std::size_t size, const DatagramInfo& info, Nanoseconds now) {
  ++stats_.received;
  SapPacket p;
  switch (parseSap(data, size, p)) {
    case SapParseError::kNone: break;
    case SapParseError::kTruncated: return drop(SapDropReason::kTruncated);
    case SapParseError::kBadVersion: return drop(SapDropReason::kBadVersion);
    case SapParseError::kDecompressFailed: return drop(SapDropReason::kDecompressFailed);
    case SapParseError::kNoZlib: return drop(SapDropReason::kNoZlib);
    case SapParseError::kBadPayloadType: return drop(SapDropReason::kBadPayloadType);
  }
  if (p.encrypted) return drop(SapDropReason::kEncrypted);
  if (p.ipv6) return drop(SapDropReason::kIpv6Origin);
  const Key key{p.origin, p.msgIdHash};
  if (p.deletion) {
    ++stats_.deletions;
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
      ++stats_.unknownDeletions;
      return;
    }
    const SapSession gone = std::move(it->second);
    sessions_.erase(it);
    ++stats_.deleted;
    emit(SapEvent::kDeleted, gone);
    return;
  }
  if (p.payloadType != "application/sdp") return drop(SapDropReason::kNotSdp);
  if (p.sdp.size() > config_.maxSdpBytes) return drop(SapDropReason::kSdpTooLarge);
  std::string sdpKey;
  try {
    sdpKey = originKey(parseSdp(p.sdp).origin);
  } catch (const SdpError&) {
    return drop(SapDropReason::kBadSdp);
  }
  ++stats_.announcements;

  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    SapSession& s = it->second;
    s.interval = now - s.lastHeard;
    s.lastHeard = now;
    s.source = info.source;
    ++s.announcements;
    heard(s);  // a shorter interval brings its time-out nearer
    return;  // same hash: the same SDP (RFC 2974 §5)
  }
  // A new hash from the same origin for the same o= session is a change of that session,
  // not a second one (a version bump must not leave the old SDP behind).
  for (auto old = sessions_.begin(); old != sessions_.end(); ++old) {
    if (old->first.first == p.origin && old->second.sdpOriginKey == sdpKey) {
      SapSession s = std::move(old->second);
      sessions_.erase(old);
      s.msgIdHash = p.msgIdHash;
      s.sdp = std::move(p.sdp);
      s.interval = now - s.lastHeard;
      s.lastHeard = now;
      s.source = info.source;
      ++s.announcements;
      ++stats_.changed;
      const SapSession& stored = sessions_.emplace(key, std::move(s)).first->second;
      heard(stored);
      emit(SapEvent::kChanged, stored);
      return;
    }
  }
  if (sessions_.size() >= config_.maxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.lastHeard < b.second.lastHeard; });
    const SapSession gone = std::move(oldest->second);
    sessions_.erase(oldest);
    ++stats_.evicted;
    emit(SapEvent::kEvicted, gone);
  }
  SapSession s;
  s.origin = p.origin;
  s.msgIdHash = p.msgIdHash;
  s.sdp = std::move(p.sdp);
  s.sdpOriginKey = std::move(sdpKey);
  s.source = info.source;
  s.firstHeard = s.lastHeard = now;
  s.announcements = 1;
  ++stats_.added;
  const SapSession& stored = sessions_.emplace(key, std::move(s)).first->second;
  heard(stored);
  emit(SapEvent::kAdded, stored);
}

Nanoseconds SapListener::timeoutOf(const SapSession& s) const {
  const Nanoseconds interval = s.interval > 0 ? s.interval : config_.assumedInterval;
  return std::max<Nanoseconds>(config_.minimumTimeout, interval * config_.timeoutIntervals);
}

void SapListener::expire(Nanoseconds now) {
  // Nothing can time out before the earliest time-out seen at the last pass or set since
  // (heard()): the sessions are not walked at every poll (the device polls at every packet).
  if (now < expiryBound_) return;
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Nanoseconds timeout = timeoutOf(it->second);
    if (now - it->second.lastHeard >= timeout) {
      const SapSession gone = std::move(it->second);
      it = sessions_.erase(it);
      ++stats_.timedOut;
      emit(SapEvent::kTimedOut, gone);
    } else {
      next = std::min(next, it->second.lastHeard + timeout);
      ++it;
    }
  }
  expiryBound_ = next;
}

void SapListener::heard(const SapSession& s) { expiryBound_ = std::min(expiryBound_, s.lastHeard + timeoutOf(s)); }

Nanoseconds SapListener::nextExpiry() const {
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  for (const auto& [key, s] : sessions_) next = std::min(next, s.lastHeard + timeoutOf(s));
  return next;
}

std::vector<SapSession> SapListener::sessions() const {
  std::vector<SapSession> out;
  out.reserve(sessions_.size());
  for (const auto& [key, s] : sessions_) out.push_back(s);
  return out;
}

}  // namespace aes67
