// Announces sessions with SAP (RFC 2974): each SDP is sent every interval to the group,
// a changed SDP gets a new message identifier hash, and removing a session (or stopping)
// sends a deletion packet. The interval is configured (default 30 s, what AES67 daemons
// use) or follows RFC 2974 §3.1's bandwidth rule: max(300 s, 8 x ads x size / limit) with
// a random ±1/3 offset. Time comes from the Transport's Clock; poll() says when it next
// wants to run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/prng.hpp"
#include "engine/base/transport.hpp"
#include "engine/sap/sap_packet.hpp"

namespace aes67 {

struct SapAnnouncerConfig {
  Ipv4Endpoint group{kSapGroupAdminScope, kSapPort};
  Ipv4Address origin = 0;                     // 0: the transport's local address
  std::string interfaceName;
  Nanoseconds interval = 30 * kNanosPerSecond;  // used unless useBandwidthRule
  bool useBandwidthRule = false;
  std::uint32_t bandwidthLimitBps = 4000;     // RFC 2974 §3.1 default for admin/global scope
  int ttl = 255;                              // RFC 2974 §3: the scope's TTL
  int dscp = 0;
  bool compress = false;
  std::uint64_t seed = 1;                     // for the RFC's random offset
};

struct SapAnnouncerStats {
  std::uint64_t announcementsSent = 0;
  std::uint64_t deletionsSent = 0;
  std::uint64_t sendErrors = 0;
};

// RFC 2974 §3.1: seconds between announcements of one session, as nanoseconds.
Nanoseconds sapBandwidthInterval(std::size_t adBytes, std::size_t adsAnnounced, std::uint32_t limitBps);

class SapAnnouncer {
 public:
  using Handle = std::uint32_t;

  SapAnnouncer(Transport& transport, SapAnnouncerConfig config = {});
  // Sends deletion packets for every session still announced.
  ~SapAnnouncer();
  SapAnnouncer(const SapAnnouncer&) = delete;
  SapAnnouncer& operator=(const SapAnnouncer&) = delete;

  // Starts announcing (the first packet goes out on the next poll). Throws
  // std::invalid_argument if the SDP does not parse.
  Handle add(const std::string& sdp);
  // Replaces the SDP (new hash, announced at once); the old hash is deleted.
  void update(Handle h, const std::string& sdp);
  // Sends a deletion and stops announcing.
  void remove(Handle h);
  // remove() for every session.
  void stop();

  // Sends what is due; returns when it next wants to run (INT64_MAX when nothing announced).
  Nanoseconds poll();
  Nanoseconds intervalFor(Handle h) const;
  std::uint16_t hashOf(Handle h) const;
  std::size_t sessionCount() const { return sessions_.size(); }
  const SapAnnouncerStats& stats() const { return stats_; }
  Ipv4Address origin() const { return config_.origin; }

 private:
  struct Entry {
    Handle handle;
    std::string sdp;
    std::uint16_t hash;
    std::vector<std::uint8_t> packet;
    Nanoseconds due;
  };
  Entry* find(Handle h);
  const Entry* find(Handle h) const;
  void sendDeletion(const Entry& e);
  Nanoseconds nextInterval(const Entry& e);
  std::vector<std::uint8_t> build(const std::string& sdp, std::uint16_t hash, bool deletion) const;

  SapAnnouncerConfig config_;
  Transport& transport_;
  std::unique_ptr<DatagramSocket> socket_;
  std::vector<Entry> sessions_;
  Handle next_ = 1;
  Prng prng_;
  SapAnnouncerStats stats_;
};

}  // namespace aes67
