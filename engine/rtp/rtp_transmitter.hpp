// Sends one AES67 RTP stream: takes frames from a FrameRingBuffer (filled by the device's
// WriteMix), cuts them into packets of `framesPerPacket`, stamps each with the RTP
// timestamp of its first frame's media time, and sends each packet when its last frame is
// due on the media clock — paced by the clock, never in bursts. DSCP 34 (AF41) by default.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/base/media_clock.hpp"
#include "engine/base/ring_buffer.hpp"
#include "engine/base/transport.hpp"
#include "engine/rtp/rtp_stream_format.hpp"

namespace aes67 {

struct RtpTransmitterConfig {
  Ipv4Endpoint destination;
  RtpStreamFormat format;
  std::uint32_t framesPerPacket = 48;  // ptime x rate: 6 = 125 us, 48 = 1 ms at 48 kHz
  std::uint32_t ssrc = 0x41455336;
  std::uint16_t initialSequence = 0;
  int dscp = 34;
  int ttl = 32;
  Nanoseconds sendOffset = 0;  // added to each packet's due time
};

struct RtpTransmitterStats {
  std::uint64_t packetsSent = 0;
  std::uint64_t sendErrors = 0;
  int lastSendError = 0;  // errno of the last failed send (0: none, or not known)
  std::uint64_t framesSent = 0;
  // Send time minus due time, over all packets: how well the pacing holds.
  std::int64_t latenessMaxNs = 0;
  std::uint64_t waitingForAudio = 0;  // polls where a packet was due but its frames were not in the ring
};

class RtpTransmitter {
 public:
  RtpTransmitter(Transport& transport, const RtpTransmitterConfig& config, FrameRingBuffer& source,
                 const MediaClock& mediaClock);

  // The media time of the next frame the ring will deliver.
  void start(SampleTime firstFrameMediaTime);
  // Sends every packet that is due now and whose frames are in the ring. Returns the local
  // time the next packet falls due (for the caller's sleep or virtual scheduler).
  Nanoseconds poll() { return poll(nextDue()); }
  // The same, for a caller that kept what the last poll returned and knows it still holds
  // (the next media time and the media clock unchanged since): one mapping inversion spared.
  Nanoseconds poll(Nanoseconds due);
  Nanoseconds nextDue() const;

  const RtpTransmitterStats& stats() const { return stats_; }
  const RtpTransmitterConfig& config() const { return config_; }
  SampleTime nextMediaTime() const { return nextMediaTime_; }
  std::uint16_t nextSequence() const { return sequence_; }

 private:
  RtpTransmitterConfig config_;
  FrameRingBuffer& source_;
  const MediaClock& mediaClock_;
  const Clock& clock_;
  std::unique_ptr<DatagramSocket> socket_;
  std::vector<std::uint8_t> packet_;
  SampleTime nextMediaTime_ = 0;
  std::uint16_t sequence_;
  bool started_ = false;
  RtpTransmitterStats stats_;
};

}  // namespace aes67
