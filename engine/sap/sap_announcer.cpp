#include "engine/sap/sap_announcer.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

Nanoseconds sapBandwidthInterval(std::size_t adBytes, std::size_t adsAnnounced, std::uint32_t limitBps) {
  if (limitBps == 0) throw std::invalid_argument("SAP bandwidth limit must be positive");
  const Nanoseconds floor = 300 * kNanosPerSecond;
  const double seconds = 8.0 * static_cast<double>(adsAnnounced) * static_cast<double>(adBytes) / limitBps;
  return std::max(floor, static_cast<Nanoseconds>(seconds * 1e9));
}

SapAnnouncer::SapAnnouncer(Transport& transport, SapAnnouncerConfig config)
    : config_(std::move(config)), transport_(transport), prng_(config_.seed) {
  if (!config_.useBandwidthRule && config_.interval <= 0) throw std::invalid_argument("SapAnnouncer: interval must be positive");
  if (config_.origin == 0) config_.origin = transport.localAddress();
  SocketOptions options;
  options.interfaceName = config_.interfaceName;
  options.multicastTtl = config_.ttl;
  options.dscp = config_.dscp;
  socket_ = transport.open(options);
}

SapAnnouncer::~SapAnnouncer() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; a failed send is counted in stats.
  }
}

std::vector<std::uint8_t> SapAnnouncer::build(const std::string& sdp, std::uint16_t hash, bool deletion) const {
  SapBuildOptions o;
  o.deletion = deletion;
  o.msgIdHash = hash;
  o.origin = config_.origin;
  o.sdp = sdp;
  o.compressed = config_.compress;
  return buildSap(o);
}

SapAnnouncer::Entry* SapAnnouncer::find(Handle h) {
  for (auto& e : sessions_)
    if (e.handle == h) return &e;
  return nullptr;
}
const SapAnnouncer::Entry* SapAnnouncer::find(Handle h) const {
  for (const auto& e : sessions_)
    if (e.handle == h) return &e;
  return nullptr;
}

SapAnnouncer::Handle SapAnnouncer::add(const std::string& sdp) {
  try {
    parseSdp(sdp);
  } catch (const SdpError& e) {
    throw std::invalid_argument(std::string("SapAnnouncer: will not announce an SDP that does not parse: ") + e.what());
  }
  Entry e{next_++, sdp, sapMessageHash(sdp), {}, transport_.clock().now()};
  e.packet = build(sdp, e.hash, false);
  sessions_.push_back(std::move(e));
  return sessions_.back().handle;
}

void SapAnnouncer::update(Handle h, const std::string& sdp) {
  Entry* e = find(h);
  if (!e) throw std::invalid_argument("SapAnnouncer::update: no session " + std::to_string(h));
  try {
    parseSdp(sdp);
  } catch (const SdpError& err) {
    throw std::invalid_argument(std::string("SapAnnouncer: will not announce an SDP that does not parse: ") + err.what());
  }
  if (sdp == e->sdp) return;
  sendDeletion(*e);
  e->sdp = sdp;
  std::uint16_t hash = sapMessageHash(sdp);
  if (hash == e->hash) hash = static_cast<std::uint16_t>(hash == 0xFFFF ? 1 : hash + 1);  // must change (RFC 2974 §5)
  e->hash = hash;
  e->packet = build(sdp, e->hash, false);
  e->due = transport_.clock().now();
}

void SapAnnouncer::remove(Handle h) {
  auto it = std::find_if(sessions_.begin(), sessions_.end(), [h](const Entry& e) { return e.handle == h; });
  if (it == sessions_.end()) throw std::invalid_argument("SapAnnouncer::remove: no session " + std::to_string(h));
  sendDeletion(*it);
  sessions_.erase(it);
}

void SapAnnouncer::stop() {
  for (const auto& e : sessions_) sendDeletion(e);
  sessions_.clear();
}

void SapAnnouncer::sendDeletion(const Entry& e) {
  const auto packet = build(e.sdp, e.hash, true);
  if (socket_->send(config_.group, packet.data(), packet.size())) {
    ++stats_.deletionsSent;
  } else {
    ++stats_.sendErrors;
  }
}

Nanoseconds SapAnnouncer::nextInterval(const Entry& e) {
  if (!config_.useBandwidthRule) return config_.interval;
  const Nanoseconds base = sapBandwidthInterval(e.packet.size(), sessions_.size(), config_.bandwidthLimitBps);
  // RFC 2974 §3.1: offset uniformly in [-interval/3, +interval/3].
  const double offset = (prng_.uniform() * 2.0 - 1.0) / 3.0;
  return base + static_cast<Nanoseconds>(static_cast<double>(base) * offset);
}

Nanoseconds SapAnnouncer::intervalFor(Handle h) const {
  const Entry* e = find(h);
  if (!e) throw std::invalid_argument("SapAnnouncer::intervalFor: no session " + std::to_string(h));
  if (!config_.useBandwidthRule) return config_.interval;
  return sapBandwidthInterval(e->packet.size(), sessions_.size(), config_.bandwidthLimitBps);
}

std::uint16_t SapAnnouncer::hashOf(Handle h) const {
  const Entry* e = find(h);
  if (!e) throw std::invalid_argument("SapAnnouncer::hashOf: no session " + std::to_string(h));
  return e->hash;
}

Nanoseconds SapAnnouncer::poll() {
  const Nanoseconds now = transport_.clock().now();
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  for (auto& e : sessions_) {
    if (e.due <= now) {
      if (socket_->send(config_.group, e.packet.data(), e.packet.size())) {
        ++stats_.announcementsSent;
      } else {
        ++stats_.sendErrors;
      }
      // From the due time, not from now, so a late poll does not drift the schedule; after
      // a long pause, from now (one packet, not a burst of missed ones).
      const Nanoseconds interval = nextInterval(e);
      e.due += interval;
      if (e.due <= now) e.due = now + interval;
    }
    next = std::min(next, e.due);
  }
  return next;
}

}  // namespace aes67
