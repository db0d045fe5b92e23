// The SDP a sender announces for one of its streams, by AES67's rules and the habits Dante
// and RAVENNA receivers expect: c= with a TTL for multicast, media-level source-filter
// (a session-level one hid the source from Dante: FIELD-NOTES "Dante", aes67-linux-daemon#94),
// ptime, ts-refclk naming the current grandmaster, mediaclk:direct=, and the direction the
// configuration gives (a=recvonly by default, as a Dante AVIO announces it). StreamManager
// writes its TX SDPs with it; the driver's emulated DUT also describes a stream it was given
// field by field with it, so every stream the device knows has one SDP as its source.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/base/endpoint.hpp"
#include "engine/sdp/sdp_attributes.hpp"
#include "engine/sdp/sdp_stream.hpp"
#include "engine/stream/stream_config.hpp"

namespace aes67 {

// An RX stream's SDP described for the engine, and whether its RTP timestamps follow the
// sender's own clock rather than PTP media time. RFC 7273: "a=mediaclk:sender" says so;
// an SDP with neither ts-refclk nor mediaclk names no reference either (what GStreamer and
// ffmpeg write), so it is taken as sender-clocked too; `timing` ("media-clock" or "sender")
// overrides both. describeStream() refuses mediaclk:sender (it places audio by PTP time),
// so a sender-clocked SDP is described without its mediaclk line: the receiver anchors
// such a stream itself (driver/host/sender_clock_aligner.hpp). Throws SdpError like
// describeStream, std::invalid_argument for a bad `timing`.
struct RxStreamDescription {
  SdpStream stream;
  bool senderClocked = false;
};
RxStreamDescription describeRxStream(const std::string& sdp, const std::string& timing = "");

// `source`: o= address and the source-filter's source (0: no filter, o= 0.0.0.0).
std::string writeTxSdp(const TxStreamConfig& config, Ipv4Address source, const SdpTsRefclk& reference);

// The reference a stream on a device without a known grandmaster names (RFC 7273
// "ptp=IEEE1588-2008:traceable").
SdpTsRefclk traceablePtpReference();
// ts-refclk:ptp=IEEE1588-2008:<EUI-64 as AES67 writes it>:<domain>.
SdpTsRefclk grandmasterReference(const std::array<std::uint8_t, 8>& identity, std::uint8_t domain);

}  // namespace aes67
