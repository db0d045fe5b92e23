// The configuration of a device's streams, as saved to disk: what to receive (the SDP as
// received, plus where its channels go on the device) and what to send (format, group,
// channels). A plain value; StreamManager applies it, StreamConfigStore persists it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/endpoint.hpp"
#include "engine/base/time.hpp"
#include "engine/rtp/rtp_stream_format.hpp"

namespace aes67 {

// Device channels a stream map may name (1-based): the device model's own limit.
constexpr std::uint32_t kMaxMappedDeviceChannels = 128;
constexpr int kStreamConfigSchemaVersion = 1;

struct RxStreamConfig {
  std::string id;                      // unique among RX and TX streams
  std::string sdp;                     // the SDP text as received (file, SAP, RTSP)
  std::vector<std::uint32_t> channelMap;  // stream channel i -> device input channel (1-128, 0 = not routed)
  SampleTime linkOffset = 48;          // playout latency in samples (1 ms at 48 kHz)
  std::uint32_t playoutCapacityFrames = 8192;
  // Set when the stream follows a SAP session by name (its s=): `sdp` is then the last SDP
  // heard, possibly empty; whoever owns a SapListener resolves it (the emulated DUT does).
  std::string sapSessionName{};
  // Set when the stream follows a RAVENNA session over RTSP (DESCRIBE, then ANNOUNCE):
  // `sdp` is then the last description, possibly empty; the owner of the RTSP client
  // resolves it (the software DUT does).
  std::string rtspUrl{};
  // How RTP timestamps relate to the device's media clock: "" from the SDP (RFC 7273:
  // mediaclk:sender, or no ts-refclk and no mediaclk, is sender-clocked), "media-clock"
  // (AES67: PTP media time) or "sender" (the receiver anchors the sender's timestamps).
  std::string timing{};
};

struct TxStreamConfig {
  std::string id;
  std::string name;                    // SDP s=
  Ipv4Endpoint destination;            // multicast group:port (Dante: 239.69.x.y:5004)
  std::uint32_t ttl = 32;
  RtpStreamFormat format;
  std::uint32_t framesPerPacket = 48;  // 1 ms at 48 kHz
  std::vector<std::uint32_t> channelMap;  // stream channel i <- device output channel (1-128, 0 = silence)
  std::uint32_t ssrc = 0;              // 0: derived from the id
  int dscp = 34;                       // AF41 (FIELD-NOTES "DSCP")
  std::string sessionId;               // o= session id (digits); "" = derived from the id
  std::uint64_t sessionVersion = 1;
  // "" omits it. AES67 senders announce recvonly, the receiver's view of the session: a
  // Dante AVIO's own SDP says a=recvonly (aes67-linux-daemon#5; FIELD-NOTES "Dante"), and
  // Dante Controller expects it of the flows it routes.
  std::string direction = "recvonly";
  std::vector<std::string> channelLabels;  // i= "<n> channels: a, b"
  bool announce = false;                   // announced by SAP (by whoever owns the announcer)
  // TX ring size in frames (0: the manager's txRingFrames). Chosen by whoever fills the
  // ring (a device sizes it by its IO buffer); not saved.
  std::uint32_t ringFrames = 0;
};

struct StreamConfig {
  std::vector<RxStreamConfig> rx;
  std::vector<TxStreamConfig> tx;
};

}  // namespace aes67
