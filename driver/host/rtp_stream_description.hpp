// One AES67 RTP audio stream as its SDP describes it, in the terms the device needs. Each
// field maps 1:1 from a parsed SDP (engine/sdp), so the stream manager can fill it:
//   name            s= (or the media's i=)
//   destination     c= connection address + m= port
//   source          a=source-filter: incl ... <source> (0: any source)
//   format.encoding, format.sampleRate, format.channels   a=rtpmap:<pt> L24/48000/8
//   format.payloadType                                     m= format / a=rtpmap <pt>
//   format.mediaclkOffset                                  a=mediaclk:direct=<offset>
//   framesPerPacket a=ptime in frames (SdpPtime::framesAt(rate)), or a=framecount
//   channelLabels   Dante's i= labels (parseChannelLabels), empty if none
//   ttl             c= .../<ttl>
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/endpoint.hpp"
#include "engine/rtp/rtp_stream_format.hpp"

namespace aes67 {

struct RtpStreamDescription {
  std::string name;
  Ipv4Endpoint destination;
  Ipv4Address source = 0;
  RtpStreamFormat format;
  std::uint32_t framesPerPacket = 48;
  std::vector<std::string> channelLabels;
  int ttl = 32;
};

// Throws std::invalid_argument naming the stream, the field and the fix.
void validate(const RtpStreamDescription& stream);

}  // namespace aes67
