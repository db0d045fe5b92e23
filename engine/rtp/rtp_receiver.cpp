#include "engine/rtp/rtp_receiver.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace aes67 {

namespace {
constexpr std::size_t kMaxDatagram = 9216;  // jumbo frames at most
constexpr std::int64_t kMaxDropout = 3000;  // RFC 3550 appendix A.1
constexpr std::int64_t kMaxMisorder = 100;
}  // namespace

const char* toString(RtpDropReason reason) {
  switch (reason) {
    case RtpDropReason::kTruncated: return "truncated";
    case RtpDropReason::kBadVersion: return "bad-version";
    case RtpDropReason::kBadPadding: return "bad-padding";
    case RtpDropReason::kWrongPayloadType: return "wrong-payload-type";
    case RtpDropReason::kWrongSource: return "wrong-source";
    case RtpDropReason::kBadPayloadSize: return "bad-payload-size";
    case RtpDropReason::kOversize: return "oversize";
    case RtpDropReason::kDuplicate: return "duplicate";
    case RtpDropReason::kStale: return "stale";
    case RtpDropReason::kLate: return "late";
    case RtpDropReason::kTooEarly: return "too-early";
    case RtpDropReason::kCount: break;
  }
  return "unknown";
}

std::uint64_t RtpReceiverStats::droppedTotal() const {
  std::uint64_t total = 0;
  for (auto n : dropped) total += n;
  return total;
}

RtpReceiver::RtpReceiver(const RtpReceiverConfig& config, PlayoutBuffer& playout, const MediaClock* mediaClock)
    : config_(config),
      playout_(playout),
      mediaClock_(mediaClock),
      packet_(kMaxDatagram),
      decoded_((kMaxDatagram / config.format.frameBytes() + 1) * config.format.channels) {
  if (config.format.channels != playout.channels()) {
    throw std::invalid_argument("RtpReceiver: stream has " + std::to_string(config.format.channels) +
                                " channels but the playout buffer " + std::to_string(playout.channels()));
  }
}

RtpReceiver::RtpReceiver(Transport& transport, const RtpReceiverConfig& config, PlayoutBuffer& playout,
                         const MediaClock* mediaClock)
    : RtpReceiver(config, playout, mediaClock) {
  SocketOptions options;
  options.localPort = config.destination.port;
  if (isMulticast(config.destination.address)) options.bindAddress = config.destination.address;
  socket_ = transport.open(options);
  if (isMulticast(config.destination.address)) socket_->joinMulticast(config.destination.address, config.sourceFilter);
}

std::size_t RtpReceiver::poll() {
  if (!socket_) return 0;
  std::size_t n = 0;
  while (auto info = socket_->receive(packet_.data(), packet_.size())) {
    ++n;
    if (info->truncated) {
      ++stats_.received;
      drop(RtpDropReason::kOversize);
      continue;
    }
    handle(packet_.data(), info->size, *info);
  }
  return n;
}

void RtpReceiver::resetSequence() {
  haveSequence_ = false;
  sequence_.reset();
  for (auto& word : seen_) word = 0;
}

void RtpReceiver::mark(std::int64_t ext, bool value) {
  const std::uint64_t bit = std::uint64_t{1} << (ext & 63);
  auto& word = seen_[(ext & kWindowMask) >> 6];
  word = value ? (word | bit) : (word & ~bit);
}

void RtpReceiver::handle(const std::uint8_t* data, std::size_t size, const DatagramInfo& info) {
  ++stats_.received;
  if (config_.sourceFilter != 0 && info.source.address != config_.sourceFilter) {
    drop(RtpDropReason::kWrongSource);
    return;
  }
  RtpPacketView p;
  switch (parseRtp(data, size, p)) {
    case RtpParseError::kNone: break;
    case RtpParseError::kTruncated: drop(RtpDropReason::kTruncated); return;
    case RtpParseError::kBadVersion: drop(RtpDropReason::kBadVersion); return;
    case RtpParseError::kBadPadding: drop(RtpDropReason::kBadPadding); return;
  }
  if (p.payloadType != config_.format.payloadType) {
    drop(RtpDropReason::kWrongPayloadType);
    return;
  }
  const std::uint32_t frameBytes = config_.format.frameBytes();
  if (p.payloadSize == 0 || p.payloadSize % frameBytes != 0 ||
      p.payloadSize / frameBytes * config_.format.channels > decoded_.size()) {
    drop(RtpDropReason::kBadPayloadSize);
    return;
  }
  // A new SSRC is a new sender (or a rebooted one): start its sequence afresh.
  if (!haveSsrc_ || p.ssrc != stats_.ssrc) {
    if (haveSsrc_) ++stats_.ssrcChanges;
    haveSsrc_ = true;
    stats_.ssrc = p.ssrc;
    resetSequence();
    haveMediaTime_ = false;
  }
  const std::int64_t ext = sequence_.unwrap(p.sequenceNumber);
  bool reordered = false;
  if (!haveSequence_) {
    haveSequence_ = true;
    highest_ = ext;
    mark(ext, true);
  } else if (ext > highest_) {
    if (ext - highest_ > kMaxDropout) {
      ++stats_.sequenceResyncs;
      resetSequence();
      sequence_.unwrap(p.sequenceNumber);
      haveSequence_ = true;
      highest_ = ext;
      mark(ext, true);
    } else {
      for (std::int64_t s = highest_ + 1; s < ext; ++s) mark(s, false);
      stats_.lost += static_cast<std::uint64_t>(ext - highest_ - 1);
      highest_ = ext;
      mark(ext, true);
    }
  } else if (highest_ - ext >= std::min<std::int64_t>(kWindow, kMaxMisorder * 10)) {
    drop(RtpDropReason::kStale);
    return;
  } else if (seen(ext)) {
    drop(RtpDropReason::kDuplicate);
    return;
  } else {
    reordered = true;
    mark(ext, true);
  }

  // Media time of the first frame: the RTP timestamp unwrapped around the reader's cursor,
  // or the media clock's now, or the previous packet.
  SampleTime reference;
  const SampleTime cursor = playout_.readCursor();
  if (cursor != std::numeric_limits<SampleTime>::min()) reference = cursor;
  else if (mediaClock_) reference = mediaClock_->sampleAt(info.receivedAt);
  else if (haveMediaTime_) reference = lastMediaTime_;
  else reference = static_cast<SampleTime>(p.timestamp - config_.format.mediaclkOffset);
  const SampleTime mediaTime = mediaTimeOf(p.timestamp, config_.format.mediaclkOffset, reference);
  lastMediaTime_ = mediaTime;
  haveMediaTime_ = true;

  const std::size_t frames = p.payloadSize / frameBytes;
  decodePcm(config_.format.encoding, p.payload, frames * config_.format.channels, decoded_.data());
  switch (playout_.write(mediaTime, decoded_.data(), frames)) {
    case PlayoutWrite::kStored:
      ++stats_.accepted;
      if (reordered) {
        ++stats_.reordered;
        if (stats_.lost > 0) --stats_.lost;
      }
      break;
    case PlayoutWrite::kLate: drop(RtpDropReason::kLate); break;
    case PlayoutWrite::kTooEarly: drop(RtpDropReason::kTooEarly); break;
    case PlayoutWrite::kDuplicate: drop(RtpDropReason::kDuplicate); break;
  }
  stats_.lastSequence = p.sequenceNumber;
  stats_.lastTimestamp = p.timestamp;
  stats_.payloadFrames = frames;
  if (mediaClock_) {
    const std::int64_t transit = info.receivedAt - mediaClock_->localTimeOf(mediaTime);
    if (!haveTransit_ || transit < stats_.transitMinNs) stats_.transitMinNs = transit;
    if (!haveTransit_ || transit > stats_.transitMaxNs) stats_.transitMaxNs = transit;
    haveTransit_ = true;
  }
}

}  // namespace aes67
