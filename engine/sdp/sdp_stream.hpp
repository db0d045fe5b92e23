// The engine's view of one audio stream in an SDP: what an RtpReceiver needs (format,
// destination, source filter, frames per packet) plus what a user or a lint wants to see
// (origin, name, labels, PTP reference, direction). The rules and error reasons match the
// lab's describeAes67 (lab/net/sdp.ts), so the two can be crossed on the same inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/endpoint.hpp"
#include "engine/rtp/rtp_stream_format.hpp"
#include "engine/sdp/sdp_attributes.hpp"
#include "engine/sdp/sdp_session.hpp"

namespace aes67 {

// Something acceptable but worth telling (e.g. an rtpmap without a channel count).
struct SdpNote {
  std::string message;
  int line = 0;
};

struct SdpStream {
  std::string name;
  SdpOrigin origin;
  Ipv4Endpoint destination;
  std::optional<std::uint32_t> ttl;
  Ipv4Address sourceFilter = 0;   // first source of an "incl" filter; 0: any source
  RtpStreamFormat format;         // mediaclkOffset is 0 when the SDP has no mediaclk
  std::uint32_t framesPerPacket = 0;
  std::uint32_t ptimeUs = 0;      // framesPerPacket at the rate, in µs (rounded)
  std::optional<std::uint32_t> maxptimeUs;
  std::optional<SdpTsRefclk> ptpRefclk;  // the first ts-refclk:ptp=
  std::optional<std::uint32_t> mediaclkOffset;
  std::vector<std::string> channelLabels;
  std::string direction;          // "sendonly", "recvonly", "sendrecv", "inactive" or ""
  std::optional<std::string> keywords;
  std::optional<std::uint32_t> clockDomain;
  std::size_t mediaIndex = 0;
  std::vector<SdpNote> notes;
};

// Describes media section `mediaIndex` (default: the first m=audio). Throws SdpError
// naming the line and the reason when the engine cannot receive it.
SdpStream describeStream(const SdpSession& session, std::optional<std::size_t> mediaIndex = std::nullopt);
SdpStream describeStream(const std::string& text, std::optional<std::size_t> mediaIndex = std::nullopt);

}  // namespace aes67
