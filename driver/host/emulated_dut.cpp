#include "driver/host/emulated_dut.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "engine/rtp/rtp_packet.hpp"

namespace aes67 {

namespace {

constexpr std::size_t kMaxDatagram = 9216;

std::size_t powerOfTwoAtLeast(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

EmulatedDut::EmulatedDut(Transport& transport, const MediaClock& mediaClock, const EmulatedDutConfig& config)
    : transport_(transport),
      mediaClock_(mediaClock),
      config_(config),
      datagram_(kMaxDatagram),
      packetLog_(config.packetLogCapacity) {
  validate(config_.device);
  validateIoBufferFrames(config_.ioBufferFrames);
  const std::uint32_t rate = config_.device.sampleRate;
  device_ = std::make_unique<Device>(config_.device, mediaClock_);

  for (const DutReceiveStream& r : config_.receive) {
    validate(r.stream);
    const RtpStreamDescription& s = r.stream;
    if (s.format.sampleRate != rate) {
      throw std::invalid_argument("stream '" + s.name + "' runs at " + std::to_string(s.format.sampleRate) +
                                  " Hz but the device at " + std::to_string(rate) + " Hz");
    }
    if (config_.linkOffsetFrames < s.framesPerPacket) {
      throw std::invalid_argument("link offset " + std::to_string(config_.linkOffsetFrames) +
                                  " frames is shorter than stream '" + s.name + "''s packet time (" +
                                  std::to_string(s.framesPerPacket) + " frames): every packet would be late");
    }
    auto rx = std::make_unique<Rx>();
    PlayoutConfig p;
    p.channels = s.format.channels;
    p.linkOffset = config_.linkOffsetFrames;
    // Room for the link offset, the HAL's reach behind now, a packet and as much again.
    p.capacityFrames = std::max<std::size_t>(
        8192, powerOfTwoAtLeast(4 * (config_.linkOffsetFrames + 2 * config_.ioBufferFrames + 2 * s.framesPerPacket)));
    rx->playout = std::make_unique<PlayoutBuffer>(p);
    rx->source = std::make_unique<PlayoutInputSource>(*rx->playout, s.framesPerPacket);
    RtpReceiverConfig rc;
    rc.destination = s.destination;
    rc.sourceFilter = s.source;
    rc.format = s.format;
    rx->receiver = std::make_unique<RtpReceiver>(rc, *rx->playout, &mediaClock_);
    device_->addInput(*rx->source, r.deviceChannels, s.name, s.channelLabels);
    rx_.push_back(std::move(rx));
  }
  for (const DutTransmitStream& t : config_.transmit) {
    validate(t.stream);
    const RtpStreamDescription& s = t.stream;
    if (s.format.sampleRate != rate) {
      throw std::invalid_argument("stream '" + s.name + "' runs at " + std::to_string(s.format.sampleRate) +
                                  " Hz but the device at " + std::to_string(rate) + " Hz");
    }
    auto tx = std::make_unique<Tx>();
    tx->ring = std::make_unique<FrameRingBuffer>(
        std::max<std::size_t>(4096, powerOfTwoAtLeast(4 * (2 * config_.ioBufferFrames + 2 * s.framesPerPacket))),
        s.format.channels);
    tx->sink = std::make_unique<RingOutputSink>(*tx->ring, s.framesPerPacket);
    device_->addOutput(*tx->sink, t.deviceChannels, s.name, s.channelLabels);
    tx_.push_back(std::move(tx));
  }
  if (config_.loopbackMap.empty()) {
    loopback_ = std::make_unique<LoopbackClient>(config_.device.inputChannels, config_.device.outputChannels);
  } else {
    loopback_ = std::make_unique<LoopbackClient>(config_.device.inputChannels, config_.device.outputChannels, config_.loopbackMap);
  }
  HalHostConfig hc;
  hc.ioBufferFrames = config_.ioBufferFrames;
  hc.cycleLogCapacity = config_.cycleLogCapacity;
  host_ = std::make_unique<HalHost>(*device_, transport_.clock(), hc);
  host_->addClient(*loopback_);

  // Sockets last: a configuration error above opens nothing.
  for (std::size_t i = 0; i < rx_.size(); ++i) {
    const RtpStreamDescription& s = config_.receive[i].stream;
    SocketOptions o;
    o.localPort = s.destination.port;
    if (isMulticast(s.destination.address)) o.bindAddress = s.destination.address;
    rx_[i]->socket = transport_.open(o);
    if (isMulticast(s.destination.address)) rx_[i]->socket->joinMulticast(s.destination.address, s.source);
  }
  for (std::size_t i = 0; i < tx_.size(); ++i) {
    const DutTransmitStream& t = config_.transmit[i];
    RtpTransmitterConfig tc;
    tc.destination = t.stream.destination;
    tc.format = t.stream.format;
    tc.framesPerPacket = t.stream.framesPerPacket;
    tc.ssrc = t.ssrc;
    tc.dscp = t.dscp;
    tc.ttl = t.stream.ttl;
    tx_[i]->transmitter = std::make_unique<RtpTransmitter>(transport_, tc, *tx_[i]->ring, mediaClock_);
  }
}

EmulatedDut::~EmulatedDut() { stop(); }

void EmulatedDut::start() {
  if (started_) throw std::logic_error("an EmulatedDut starts once: build a new one to reconfigure");
  started_ = true;
  host_->startIO();
}

void EmulatedDut::stop() {
  if (host_) host_->stopIO();
}

void EmulatedDut::receive(std::size_t index) {
  Rx& rx = *rx_[index];
  while (auto info = rx.socket->receive(datagram_.data(), datagram_.size())) {
    const std::uint64_t acceptedBefore = rx.receiver->stats().accepted;
    if (info->truncated) {
      ++rx.oversize;  // larger than any AES67 packet: dropped before parsing
    } else {
      rx.receiver->handle(datagram_.data(), info->size, *info);
    }
    PacketStamp stamp;
    stamp.direction = PacketStamp::Direction::kReceived;
    stamp.stream = static_cast<std::uint32_t>(index);
    stamp.hostTime = info->receivedAt;
    stamp.accepted = rx.receiver->stats().accepted > acceptedBefore;
    RtpPacketView p;
    if (!info->truncated && parseRtp(datagram_.data(), info->size, p) == RtpParseError::kNone) {
      const RtpStreamFormat& f = config_.receive[index].stream.format;
      stamp.sequence = p.sequenceNumber;
      stamp.rtpTimestamp = p.timestamp;
      stamp.frames = static_cast<std::uint32_t>(p.payloadSize / f.frameBytes());
      stamp.mediaTime = mediaTimeOf(p.timestamp, f.mediaclkOffset, mediaClock_.sampleAt(info->receivedAt));
      stamp.deviceTime = running() ? device_->timeline().deviceTimeOf(stamp.mediaTime) + device_->inputLatencyFrames() : 0;
    }
    packetLog_.push(stamp);
  }
}

void EmulatedDut::transmit(std::size_t index) {
  Tx& tx = *tx_[index];
  if (!tx.started) {
    if (!tx.sink->started()) return;
    tx.transmitter->start(tx.sink->firstMediaTime());
    tx.started = true;
  }
  const std::uint64_t sentBefore = tx.transmitter->stats().packetsSent + tx.transmitter->stats().sendErrors;
  const SampleTime mediaBefore = tx.transmitter->nextMediaTime();
  const std::uint16_t sequenceBefore = tx.transmitter->nextSequence();
  tx.transmitter->poll();
  const std::uint64_t sent = tx.transmitter->stats().packetsSent + tx.transmitter->stats().sendErrors - sentBefore;
  const RtpTransmitterConfig& c = tx.transmitter->config();
  const Nanoseconds now = transport_.clock().now();
  for (std::uint64_t k = 0; k < sent; ++k) {
    PacketStamp stamp;
    stamp.direction = PacketStamp::Direction::kSent;
    stamp.accepted = true;
    stamp.stream = static_cast<std::uint32_t>(index);
    stamp.sequence = static_cast<std::uint16_t>(sequenceBefore + k);
    stamp.frames = c.framesPerPacket;
    stamp.mediaTime = mediaBefore + static_cast<SampleTime>(k) * c.framesPerPacket;
    stamp.rtpTimestamp = rtpTimestampOf(stamp.mediaTime, c.format.mediaclkOffset);
    stamp.hostTime = now;
    stamp.deviceTime = device_->timeline().deviceTimeOf(stamp.mediaTime);
    packetLog_.push(stamp);
  }
}

Nanoseconds EmulatedDut::poll() {
  for (std::size_t i = 0; i < rx_.size(); ++i) receive(i);
  if (!running()) return std::numeric_limits<Nanoseconds>::max();
  host_->runDue();
  const Nanoseconds nextCycle = host_->nextCycleHostTime();
  Nanoseconds next = nextCycle;
  const Nanoseconds now = transport_.clock().now();
  for (std::size_t i = 0; i < tx_.size(); ++i) {
    transmit(i);
    if (!tx_[i]->started) continue;
    const Nanoseconds due = tx_[i]->transmitter->nextDue();
    // Due but its audio is not in the ring yet: the next IO cycle brings it.
    next = std::min(next, due > now ? due : nextCycle);
  }
  return next;
}

}  // namespace aes67
