#include "engine/rtp/rtp_transmitter.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {

RtpTransmitter::RtpTransmitter(Transport& transport, const RtpTransmitterConfig& config, FrameRingBuffer& source,
                               const MediaClock& mediaClock)
    : config_(config),
      source_(source),
      mediaClock_(mediaClock),
      clock_(transport.clock()),
      packet_(kRtpHeaderSize + static_cast<std::size_t>(config.framesPerPacket) * config.format.frameBytes()),
      sequence_(config.initialSequence) {
  if (config.framesPerPacket == 0) throw std::invalid_argument("RtpTransmitter: framesPerPacket must be > 0");
  if (source.channels() != config.format.channels) {
    throw std::invalid_argument("RtpTransmitter: ring has " + std::to_string(source.channels()) + " channels, stream " +
                                std::to_string(config.format.channels));
  }
  SocketOptions options;
  options.dscp = config.dscp;
  options.multicastTtl = config.ttl;
  socket_ = transport.open(options);
}

void RtpTransmitter::start(SampleTime firstFrameMediaTime) {
  nextMediaTime_ = firstFrameMediaTime;
  started_ = true;
}

Nanoseconds RtpTransmitter::nextDue() const {
  return mediaClock_.localTimeOf(nextMediaTime_ + config_.framesPerPacket) + config_.sendOffset;
}

Nanoseconds RtpTransmitter::poll(Nanoseconds due) {
  if (!started_) return std::numeric_limits<Nanoseconds>::max();
  const Nanoseconds now = clock_.now();
  const std::size_t samples = static_cast<std::size_t>(config_.framesPerPacket) * config_.format.channels;
  // The due time once per packet (each is a mapping inversion), not at every use.
  while (due <= now) {
    if (source_.fill() < config_.framesPerPacket) {
      ++stats_.waitingForAudio;
      break;
    }
    // Encoded where the frames lie in the ring (no copy out first), then passed.
    FrameRingBuffer::Run first, second;
    source_.peek(config_.framesPerPacket, first, second);
    RtpHeaderFields h;
    h.payloadType = config_.format.payloadType;
    h.sequenceNumber = sequence_;
    h.timestamp = rtpTimestampOf(nextMediaTime_, config_.format.mediaclkOffset);
    h.ssrc = config_.ssrc;
    writeRtpHeader(h, packet_.data());
    std::uint8_t* payload = packet_.data() + kRtpHeaderSize;
    const std::size_t firstSamples = first.frames * config_.format.channels;
    encodePcm(config_.format.encoding, first.samples, firstSamples, payload);
    encodePcm(config_.format.encoding, second.samples, samples - firstSamples, payload + firstSamples * bytesPerSample(config_.format.encoding));
    source_.skip(config_.framesPerPacket);
    if (socket_->send(config_.destination, packet_.data(), packet_.size())) {
      ++stats_.packetsSent;
      stats_.framesSent += config_.framesPerPacket;
    } else {
      ++stats_.sendErrors;
      stats_.lastSendError = socket_->lastSendError();
    }
    stats_.latenessMaxNs = std::max(stats_.latenessMaxNs, now - due);
    nextMediaTime_ += config_.framesPerPacket;
    ++sequence_;
    due = nextDue();
  }
  return due;
}

}  // namespace aes67
