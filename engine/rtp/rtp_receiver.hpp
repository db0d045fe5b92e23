// Receives one AES67 RTP stream from a Transport and places its audio in a PlayoutBuffer
// by media time. Tracks the SSRC, 16-bit sequence and 32-bit timestamp across their wraps
// and counts lost, duplicate, reordered and late packets; every malformed or unexpected
// datagram is dropped and counted by reason. Nothing allocates per packet.
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
  kCount
};
const char* toString(RtpDropReason reason);

struct RtpReceiverConfig {
  Ipv4Endpoint destination;     // group:port for multicast, or the local port for unicast
  Ipv4Address sourceFilter = 0; // 0: any source; else source-specific join and check
  RtpStreamFormat format;
};

struct RtpReceiverStats {
  std::uint64_t received = 0;    // datagrams seen
  std::uint64_t accepted = 0;    // placed in the playout buffer
  std::uint64_t lost = 0;        // sequence gaps not (yet) filled by reordered packets
  std::uint64_t reordered = 0;   // arrived after a later sequence number, in time to play
  std::uint64_t ssrcChanges = 0;
  std::uint64_t sequenceResyncs = 0;  // jumps larger than RFC 3550's MAX_DROPOUT
  std::array<std::uint64_t, static_cast<std::size_t>(RtpDropReason::kCount)> dropped{};
  std::uint32_t ssrc = 0;
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

 private:
  void drop(RtpDropReason reason) { ++stats_.dropped[static_cast<std::size_t>(reason)]; }
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
  bool haveSsrc_ = false;
  bool haveSequence_ = false;
  SequenceUnwrapper sequence_;
  std::int64_t highest_ = 0;
  static constexpr std::int64_t kWindow = 1024;
  static constexpr std::int64_t kWindowMask = kWindow - 1;
  std::uint64_t seen_[kWindow / 64] = {};
  SampleTime lastMediaTime_ = 0;
  bool haveMediaTime_ = false;
  bool haveTransit_ = false;
};

}  // namespace aes67
