// Receives one AES67 RTP stream from a Transport and places its audio in a PlayoutBuffer
// by media time. Tracks the SSRC, 16-bit sequence and 32-bit timestamp across their wraps
// and counts lost, duplicate, reordered and late packets; every malformed or unexpected
// datagram is dropped and counted by reason. Nothing allocates per packet.
//
// SSRC policy (one stream per receiver; FIELD-NOTES "What users complain about": SSRC
// change after a sender reboot, aes67-linux-daemon#95; several streams on one group port,
// philhartung/aes67-monitor#7):
// - The first source heard is played at once (nothing to protect yet). A source counts as
//   valid after RFC 3550 probation (A.1): kMinSequential packets of its SSRC in sequence.
// - While a valid locked SSRC is alive, packets of any other SSRC are dropped as
//   "other-ssrc": a second sender on the same group and port (no source filter) never
//   interleaves with the first.
// - Another SSRC takes over when the locked one has been silent for the hold-off
//   (RtpReceiverConfig::ssrcHoldoff, 50 ms by default; at once if the locked one never
//   passed probation: a stray packet) and the newcomer has passed probation: a rebooted
//   sender, or a backup taking over. The newcomer's packet before the one that completes
//   its probation is kept aside and played too, so probation costs no audio. Each takeover
//   of a valid source is counted once (ssrcChanges).
// - Timestamps are placed with the SDP's mediaclk offset. If a newly locked source's first
//   packet (or kMinSequential packets in a row of a locked one) lands more than the whole
//   playout buffer away from the reader, its timestamp base is not the SDP's (a rebooted
//   sender picks a new random mediaclk offset): the receiver re-anchors to the arrival time
//   and the transit the stream had before (counted in timestampResyncs), and plays on
//   instead of dropping every packet as late or early until the SDP is read again.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/base/transport.hpp"
#include "engine/jitter/playout_buffer.hpp"
#include "engine/rtp/rtp_packet.hpp"
#include "engine/rtp/rtp_stream_format.hpp"

namespace aes67 {

enum class RtpDropReason : std::uint8_t {
  kTruncated,        // shorter than its RTP header says
  kBadVersion,
  kBadPadding,
  kWrongPayloadType,
  kWrongSource,      // not the source the SDP's source-filter names
  kBadPayloadSize,   // not a whole number of frames, or more than the buffer holds
  kOversize,         // larger than the receive buffer (truncated by the socket)
  kDuplicate,
  kStale,            // older than the reorder window
  kLate,             // arrived after its audio was played
  kTooEarly,         // beyond the playout buffer's depth
  kOtherSsrc,        // another SSRC while the locked one is alive (a second sender, no filter)
  kProbation,        // a new SSRC's packet kept aside for probation and never played
  kCount
};
const char* toString(RtpDropReason reason);

// How long the locked SSRC must be silent before another may take over: 50 ms.
// - Longer than a healthy sender's longest pause, so a second sender on the group (no
//   source filter) cannot snatch the stream while the first is merely late: software
//   senders stall for 15-37 ms (FIELD-NOTES, the reference driver's fork), and GStreamer's
//   rtpL24pay paused 6-29 ms on a loaded 2-core host in rtp-receiver-live.test.ts (which
//   with a 5 ms hold-off handed the stream to the second sender in every run). A stall
//   that long is already a dropout; handing the stream over would make it permanent.
// - Far shorter than a reboot (seconds), so a rebooted sender's audio still plays from its
//   first packet: the hold-off has long run out when it comes back.
// - The price: a sender that changes SSRC with no pause at all loses up to 50 ms of audio
//   (counted: other-ssrc, one ssrcChanges). Configurable; never under two packet times.
constexpr Nanoseconds kDefaultSsrcHoldoff = 50'000'000;

struct RtpReceiverConfig {
  Ipv4Endpoint destination;     // group:port for multicast, or the local port for unicast
  Ipv4Address sourceFilter = 0; // 0: any source; else source-specific join and check
  RtpStreamFormat format;
  Nanoseconds ssrcHoldoff = kDefaultSsrcHoldoff;
};

struct RtpReceiverStats {
  std::uint64_t received = 0;    // datagrams seen
  std::uint64_t accepted = 0;    // placed in the playout buffer
  std::uint64_t lost = 0;        // sequence gaps not (yet) filled by reordered packets
  std::uint64_t reordered = 0;   // arrived after a later sequence number, in time to play
  std::uint64_t ssrcChanges = 0;      // takeovers of a valid source by a new SSRC (the first lock is not one)
  std::uint64_t sequenceResyncs = 0;  // jumps larger than RFC 3550's MAX_DROPOUT
  std::uint64_t timestampResyncs = 0; // re-anchors to a timestamp base other than the SDP's
  // Datagrams kept aside for probation, neither accepted nor dropped yet (0 or 1):
  // received == accepted + droppedTotal() + held.
  std::uint64_t held = 0;
  // The longest pause between two datagrams of the locked SSRC (since it was locked): how
  // close a healthy sender comes to the hold-off.
  Nanoseconds longestGapNs = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(RtpDropReason::kCount)> dropped{};
  std::uint32_t ssrc = 0;             // the locked SSRC (0 before the first lock)
  bool locked = false;
  std::uint16_t lastSequence = 0;
  std::uint32_t lastTimestamp = 0;
  // Arrival time minus the local time of the packet's first sample, when a MediaClock is
  // given: how far behind the media clock packets arrive (network + sender latency).
  std::int64_t transitMinNs = 0;
  std::int64_t transitMaxNs = 0;
  std::uint64_t payloadFrames = 0;  // frames per packet of the last packet
  std::uint64_t droppedTotal() const;
};

class RtpReceiver {
 public:
  // Opens and joins the stream's socket on `transport`. `mediaClock` (optional) anchors RTP
  // timestamps before the playout buffer has been read and feeds the transit figures.
  RtpReceiver(Transport& transport, const RtpReceiverConfig& config, PlayoutBuffer& playout,
              const MediaClock* mediaClock = nullptr);
  // Feeds packets from somewhere else (pcap replay, tests); no socket is opened.
  RtpReceiver(const RtpReceiverConfig& config, PlayoutBuffer& playout, const MediaClock* mediaClock = nullptr);

  // Receives and handles every datagram waiting on the socket; returns how many.
  std::size_t poll();
  void handle(const std::uint8_t* data, std::size_t size, const DatagramInfo& info);

  const RtpReceiverStats& stats() const { return stats_; }
  const RtpReceiverConfig& config() const { return config_; }
  // The hold-off in force: the configured one, or two packet times of the locked stream.
  Nanoseconds ssrcHoldoff() const;

  static constexpr std::uint32_t kMinSequential = 2;  // RFC 3550 A.1 MIN_SEQUENTIAL
  static constexpr std::size_t kCandidates = 8;       // new SSRCs tracked through probation at once

 private:
  // An SSRC other than the locked one, on its way through probation.
  struct Candidate {
    std::uint32_t ssrc = 0;
    std::uint16_t lastSequence = 0;
    std::uint32_t run = 0;      // packets in sequence so far
    std::uint64_t lastUse = 0;  // for least-recently-heard replacement
    Nanoseconds lastHeard = 0;
    bool used = false;
  };
  void drop(RtpDropReason reason) { ++stats_.dropped[static_cast<std::size_t>(reason)]; }
  // Probation bookkeeping for `p`; returns its SSRC's run of packets in sequence.
  std::uint32_t advanceCandidate(const RtpPacketView& p, Nanoseconds now);
  void hold(const std::uint8_t* data, std::size_t size, const DatagramInfo& info, const RtpPacketView& p);
  void releaseHold(RtpDropReason reason);
  void lock(std::uint32_t ssrc, Nanoseconds now, bool validated);
  // Sequence tracking, timestamp placement and playout of a packet of the locked SSRC.
  void play(const RtpPacketView& p, const DatagramInfo& info);
  // Reference media time for the packet's timestamp, and whether it is a trustworthy window
  // (the reader's cursor or the media clock) to judge the timestamp base by.
  SampleTime referenceFor(const DatagramInfo& info, bool& window) const;
  bool foreign(SampleTime mediaTime, std::size_t frames, SampleTime reference) const;
  SampleTime anchorTarget(const DatagramInfo& info, std::size_t frames) const;
  std::uint32_t mediaclkOffset() const { return config_.format.mediaclkOffset + rebase_; }
  void resetSequence();
  bool seen(std::int64_t ext) const { return (seen_[(ext & kWindowMask) >> 6] >> (ext & 63)) & 1u; }
  void mark(std::int64_t ext, bool value);

  RtpReceiverConfig config_;
  PlayoutBuffer& playout_;
  const MediaClock* mediaClock_;
  std::unique_ptr<DatagramSocket> socket_;
  std::vector<std::uint8_t> packet_;
  std::vector<float> decoded_;
  RtpReceiverStats stats_;
  bool haveSequence_ = false;
  SequenceUnwrapper sequence_;
  std::int64_t highest_ = 0;
  static constexpr std::int64_t kWindow = 1024;
  static constexpr std::int64_t kWindowMask = kWindow - 1;
  std::uint64_t seen_[kWindow / 64] = {};
  SampleTime lastMediaTime_ = 0;
  bool haveMediaTime_ = false;
  bool haveTransit_ = false;
  // SSRC policy state.
  Nanoseconds lastLockedArrival_ = 0;
  Candidate candidates_[kCandidates];
  std::uint64_t useCounter_ = 0;
  std::vector<std::uint8_t> held_;  // the packet kept aside for probation
  std::size_t heldSize_ = 0;
  DatagramInfo heldInfo_;
  std::uint32_t heldSsrc_ = 0;
  std::uint16_t heldSequence_ = 0;
  // Timestamp placement: added to the SDP's mediaclk offset after a re-anchor.
  std::uint32_t rebase_ = 0;
  bool freshLock_ = false;       // the next packet is the first of a newly locked source
  std::uint32_t foreignRun_ = 0; // packets of the locked source in a row outside the window
  bool validated_ = false;       // the locked source has passed probation
  std::uint32_t lockedRun_ = 0;  // its packets in sequence so far, until validated
};

}  // namespace aes67
