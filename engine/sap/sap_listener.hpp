// Listens for SAP announcements (RFC 2974) and keeps the sessions heard, keyed by the
// originating source and message identifier hash. A session goes away on its deletion
// packet or when it has not been heard for max(10 announcement intervals, one hour)
// (RFC 2974 §4; the floor is configurable so a lab can run short). Bounded: at most
// `maxSessions` of at most `maxSdpBytes` each; a flood evicts the least recently heard and
// counts it. Every datagram it cannot use is counted by reason and dropped. handle()/expire() are sans-IO; poll()
// drives them from a socket on a Transport.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/transport.hpp"
#include "engine/sap/sap_packet.hpp"

namespace aes67 {

enum class SapDropReason : std::uint8_t {
  kTruncated,
  kBadVersion,
  kDecompressFailed,
  kNoZlib,
  kBadPayloadType,
  kEncrypted,        // cannot be read without a key
  kIpv6Origin,       // the engine is IPv4-only
  kNotSdp,           // a payload type other than application/sdp
  kBadSdp,           // the SDP does not parse (RFC 8866)
  kOversize,         // larger than the receive buffer
  kSdpTooLarge,      // an SDP (inflated) longer than maxSdpBytes: never parsed nor kept
  kCount
};
const char* toString(SapDropReason reason);

struct SapListenerConfig {
  std::vector<Ipv4Endpoint> groups = {{kSapGroupAdminScope, kSapPort}, {kSapGroupGlobal, kSapPort}};
  std::string interfaceName;            // multicast joins on this interface ("" = default)
  std::size_t maxSessions = 1024;
  // The longest SDP kept. RFC 2974 §6 recommends SAP packets under 1 kB; AES67 SDPs are a
  // few hundred bytes (a few kB with many channel labels). 8 KiB is eight times that and
  // what a jumbo frame carries uncompressed; beyond it is a zlib payload inflating to tens
  // of kB (up to kSapMaxPayload): without this cap, maxSessions of them would hold 64 MiB.
  // With it the table holds at most about maxSessions x 2 x maxSdpBytes.
  std::size_t maxSdpBytes = 8192;
  std::uint32_t timeoutIntervals = 10;  // RFC 2974 §4
  Nanoseconds minimumTimeout = 3600 * kNanosPerSecond;  // RFC 2974 §4: one hour
  Nanoseconds assumedInterval = 30 * kNanosPerSecond;   // until two announcements give the real one
};

struct SapSession {
  Ipv4Address origin = 0;       // SAP originating source
  std::uint16_t msgIdHash = 0;
  std::string sdp;
  std::string sdpOriginKey;     // "<user> <sess-id> <nettype> <addrtype> <address>" of o=
  Ipv4Endpoint source;          // where the last announcement came from
  Nanoseconds firstHeard = 0;
  Nanoseconds lastHeard = 0;
  Nanoseconds interval = 0;     // between the last two announcements (0 until known)
  std::uint64_t announcements = 0;
};

enum class SapEvent : std::uint8_t { kAdded, kChanged, kDeleted, kTimedOut, kEvicted };
const char* toString(SapEvent e);

struct SapListenerStats {
  std::uint64_t received = 0;
  std::uint64_t announcements = 0;
  std::uint64_t deletions = 0;
  std::uint64_t added = 0;
  std::uint64_t changed = 0;          // same session, new SDP (a new hash or version)
  std::uint64_t deleted = 0;
  std::uint64_t timedOut = 0;
  std::uint64_t evicted = 0;
  std::uint64_t unknownDeletions = 0; // deletion of a session not held
  std::array<std::uint64_t, static_cast<std::size_t>(SapDropReason::kCount)> dropped{};
  std::uint64_t droppedTotal() const;
};

class SapListener {
 public:
  using Callback = std::function<void(SapEvent, const SapSession&)>;

  // Opens one socket on the groups' port and joins every group.
  SapListener(Transport& transport, SapListenerConfig config = {});
  // Sans-IO: datagrams come in through handle(); time through the calls' `now`.
  explicit SapListener(SapListenerConfig config);

  // Receives every waiting datagram, then expires; returns the number received.
  std::size_t poll();
  void handle(const std::uint8_t* data, std::size_t size, const DatagramInfo& info, Nanoseconds now);
  // Removes sessions not heard for their time-out.
  void expire(Nanoseconds now);
  // When the next session would time out (INT64_MAX when none is held).
  Nanoseconds nextExpiry() const;

  void setCallback(Callback callback) { callback_ = std::move(callback); }
  std::vector<SapSession> sessions() const;
  std::size_t sessionCount() const { return sessions_.size(); }
  const SapListenerStats& stats() const { return stats_; }
  const SapListenerConfig& config() const { return config_; }
  Nanoseconds timeoutOf(const SapSession& s) const;

 private:
  using Key = std::pair<Ipv4Address, std::uint16_t>;
  void drop(SapDropReason r) { ++stats_.dropped[static_cast<std::size_t>(r)]; }
  void emit(SapEvent e, const SapSession& s) {
    if (callback_) callback_(e, s);
  }
  // A session was heard (added, changed or repeated): its time-out may be the nearest.
  void heard(const SapSession& s);

  SapListenerConfig config_;
  Transport* transport_ = nullptr;
  std::unique_ptr<DatagramSocket> socket_;
  std::vector<std::uint8_t> buffer_;
  std::map<Key, SapSession> sessions_;
  // No session times out before this (the nearest time-out, or earlier).
  Nanoseconds expiryBound_ = std::numeric_limits<Nanoseconds>::max();
  SapListenerStats stats_;
  Callback callback_;
};

}  // namespace aes67
