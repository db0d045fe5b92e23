#include "engine/rtp/rtp_receiver.hpp"

#include <algorithm>
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
    case RtpDropReason::kOtherSsrc: return "other-ssrc";
    case RtpDropReason::kProbation: return "probation";
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
      decoded_((kMaxDatagram / config.format.frameBytes() + 1) * config.format.channels),
      held_(kMaxDatagram) {
  if (config.format.channels != playout.channels()) {
    throw std::invalid_argument("RtpReceiver: stream has " + std::to_string(config.format.channels) +
                                " channels but the playout buffer " + std::to_string(playout.channels()));
  }
  if (config.ssrcHoldoff < 0) {
    throw std::invalid_argument("RtpReceiver: ssrcHoldoff must not be negative (" + std::to_string(config.ssrcHoldoff) +
                                " ns)");
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

Nanoseconds RtpReceiver::ssrcHoldoff() const {
  const Nanoseconds twoPackets =
      2 * samplesToNanos(static_cast<SampleTime>(stats_.payloadFrames), config_.format.sampleRate);
  return std::max(config_.ssrcHoldoff, twoPackets);
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
  if (!stats_.locked) {
    lock(p.ssrc, info.receivedAt, false);
    play(p, info);
    return;
  }
  if (p.ssrc == stats_.ssrc) {
    if (!validated_) {
      if (p.sequenceNumber == static_cast<std::uint16_t>(stats_.lastSequence + 1)) {
        validated_ = ++lockedRun_ >= kMinSequential;
      } else if (p.sequenceNumber != stats_.lastSequence) {
        lockedRun_ = 1;
      }
    }
    stats_.longestGapNs = std::max(stats_.longestGapNs, info.receivedAt - lastLockedArrival_);
    lastLockedArrival_ = info.receivedAt;
    play(p, info);
    return;
  }
  // Another SSRC: probation, then a takeover once the locked one is silent (or was never valid).
  const std::uint32_t run = advanceCandidate(p, info.receivedAt);
  const bool lockedGone = !validated_ || info.receivedAt - lastLockedArrival_ >= ssrcHoldoff();
  if (!lockedGone) {
    drop(RtpDropReason::kOtherSsrc);
    return;
  }
  if (run < kMinSequential) {
    hold(data, size, info, p);
    return;
  }
  if (validated_) ++stats_.ssrcChanges;
  lock(p.ssrc, info.receivedAt, true);
  // The packet kept aside is this sender's previous one: it plays first.
  if (stats_.held != 0 && heldSsrc_ == p.ssrc && static_cast<std::uint16_t>(heldSequence_ + 1) == p.sequenceNumber) {
    stats_.held = 0;
    RtpPacketView previous;
    parseRtp(held_.data(), heldSize_, previous);  // parsed before it was kept
    play(previous, heldInfo_);
  } else {
    releaseHold(RtpDropReason::kProbation);
  }
  play(p, info);
}

std::uint32_t RtpReceiver::advanceCandidate(const RtpPacketView& p, Nanoseconds now) {
  ++useCounter_;
  Candidate* slot = nullptr;
  for (auto& c : candidates_) {
    if (c.used && c.ssrc == p.ssrc) {
      slot = &c;
      break;
    }
  }
  if (slot) {
    // In sequence and without a pause as long as the hold-off; else probation starts again
    // (a duplicate changes nothing).
    if (p.sequenceNumber == static_cast<std::uint16_t>(slot->lastSequence + 1) && now - slot->lastHeard < ssrcHoldoff()) {
      ++slot->run;
    } else if (p.sequenceNumber != slot->lastSequence) {
      slot->run = 1;
    }
  } else {
    // A free slot, else the least recently heard newcomer gives way.
    slot = &candidates_[0];
    for (auto& c : candidates_) {
      if (!c.used) {
        slot = &c;
        break;
      }
      if (c.lastUse < slot->lastUse) slot = &c;
    }
    slot->used = true;
    slot->ssrc = p.ssrc;
    slot->run = 1;
  }
  slot->lastSequence = p.sequenceNumber;
  slot->lastUse = useCounter_;
  slot->lastHeard = now;
  return slot->run;
}

void RtpReceiver::hold(const std::uint8_t* data, std::size_t size, const DatagramInfo& info, const RtpPacketView& p) {
  releaseHold(RtpDropReason::kProbation);
  if (size > held_.size()) {  // only through handle(): poll() never receives more
    drop(RtpDropReason::kProbation);
    return;
  }
  std::copy(data, data + size, held_.begin());
  heldSize_ = size;
  heldInfo_ = info;
  heldSsrc_ = p.ssrc;
  heldSequence_ = p.sequenceNumber;
  stats_.held = 1;
}

void RtpReceiver::releaseHold(RtpDropReason reason) {
  if (stats_.held == 0) return;
  stats_.held = 0;
  drop(reason);
}

void RtpReceiver::lock(std::uint32_t ssrc, Nanoseconds now, bool validated) {
  stats_.locked = true;
  validated_ = validated;
  lockedRun_ = 1;
  stats_.ssrc = ssrc;
  stats_.longestGapNs = 0;
  lastLockedArrival_ = now;
  for (auto& c : candidates_) {
    if (c.used && c.ssrc == ssrc) c = Candidate{};
  }
  resetSequence();
  haveMediaTime_ = false;
  rebase_ = 0;  // the SDP's timestamp base first
  freshLock_ = true;
  foreignRun_ = 0;
}

SampleTime RtpReceiver::referenceFor(const DatagramInfo& info, bool& window) const {
  const SampleTime cursor = playout_.readCursor();
  window = true;
  if (cursor != std::numeric_limits<SampleTime>::min()) return cursor;
  if (mediaClock_) return mediaClock_->sampleAt(info.receivedAt);
  window = false;
  return haveMediaTime_ ? lastMediaTime_ : 0;
}

bool RtpReceiver::foreign(SampleTime mediaTime, std::size_t frames, SampleTime reference) const {
  // No network delays or advances a packet by a whole buffer: such a packet's timestamps
  // count from another base.
  const auto capacity = static_cast<SampleTime>(playout_.capacityFrames());
  return mediaTime + static_cast<SampleTime>(frames) <= reference - capacity || mediaTime >= reference + capacity;
}

SampleTime RtpReceiver::anchorTarget(const DatagramInfo& info, std::size_t frames) const {
  if (mediaClock_) {
    // As late behind the media clock as the stream arrived before; or, for a first stream,
    // as if the network took no time (a sender sends a packet when its last frame is due):
    // both place the audio no earlier than it truly was.
    // Never less than the packet's own duration: a packet that arrived before its last frame
    // was due (early packets of a burst on a base about to be abandoned drive transitMinNs
    // negative) would anchor the stream past the playout depth, every packet dropped as too
    // early and never foreign enough to re-anchor (scenarios/impairments/ptp-step-plus-1s).
    const Nanoseconds packetTime = samplesToNanos(static_cast<SampleTime>(frames), config_.format.sampleRate);
    const Nanoseconds transit = haveTransit_ ? std::max(stats_.transitMinNs, packetTime) : packetTime;
    return mediaClock_->sampleAt(info.receivedAt - transit);
  }
  // No clock: a link offset ahead of the reader, less the packet.
  const SampleTime ahead = std::max<SampleTime>(0, playout_.linkOffset() - static_cast<SampleTime>(frames));
  return playout_.readCursor() + ahead;
}

void RtpReceiver::play(const RtpPacketView& p, const DatagramInfo& info) {
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
  const std::size_t frames = p.payloadSize / config_.format.frameBytes();
  bool window = false;
  SampleTime reference = referenceFor(info, window);
  if (!window && !haveMediaTime_) reference = static_cast<SampleTime>(p.timestamp - mediaclkOffset());
  SampleTime mediaTime = mediaTimeOf(p.timestamp, mediaclkOffset(), reference);
  if (window && foreign(mediaTime, frames, reference)) {
    if (freshLock_ || ++foreignRun_ >= kMinSequential) {
      // Re-anchor: the SDP's base if it fits after all, else the arrival time.
      rebase_ = 0;
      mediaTime = mediaTimeOf(p.timestamp, mediaclkOffset(), reference);
      if (foreign(mediaTime, frames, reference)) {
        mediaTime = anchorTarget(info, frames);
        rebase_ = p.timestamp - config_.format.mediaclkOffset - static_cast<std::uint32_t>(mediaTime);
      }
      ++stats_.timestampResyncs;
      foreignRun_ = 0;
    } else {
      drop(mediaTime < reference ? RtpDropReason::kLate : RtpDropReason::kTooEarly);
      return;
    }
  } else {
    foreignRun_ = 0;
  }
  freshLock_ = false;
  lastMediaTime_ = mediaTime;
  haveMediaTime_ = true;

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
