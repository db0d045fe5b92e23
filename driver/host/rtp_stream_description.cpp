#include "driver/host/rtp_stream_description.hpp"

#include <stdexcept>

#include "driver/core/device_config.hpp"

namespace aes67 {

void validate(const RtpStreamDescription& s) {
  const std::string who = "stream '" + s.name + "': ";
  auto fail = [&](const std::string& what) { throw std::invalid_argument(who + what); };
  if (s.name.empty()) throw std::invalid_argument("a stream needs a name (its SDP s=)");
  if (s.destination.address == 0 || s.destination.port == 0) fail("destination must be an address and a port (c= and m=)");
  if (s.format.channels < 1 || s.format.channels > kMaxStreamChannels) {
    fail(std::to_string(s.format.channels) + " channels: a stream carries 1-64");
  }
  if (!isSupportedSampleRate(s.format.sampleRate)) fail("sample rate " + std::to_string(s.format.sampleRate) + " is not supported");
  if (s.format.payloadType > 127) fail("payload type " + std::to_string(s.format.payloadType) + " is not 0-127");
  if (s.framesPerPacket == 0) fail("0 frames per packet: check a=ptime");
  const std::uint64_t payload = static_cast<std::uint64_t>(s.framesPerPacket) * s.format.frameBytes();
  if (payload > 8960) {
    fail(std::to_string(s.framesPerPacket) + " frames per packet make " + std::to_string(payload) +
         "-byte payloads: shorten the packet time or carry fewer channels");
  }
  if (!s.channelLabels.empty() && s.channelLabels.size() != s.format.channels) {
    fail(std::to_string(s.channelLabels.size()) + " channel labels for " + std::to_string(s.format.channels) + " channels");
  }
  if (s.ttl < 0 || s.ttl > 255) fail("TTL " + std::to_string(s.ttl) + " is not 0-255");
}

}  // namespace aes67
