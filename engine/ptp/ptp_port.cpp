#include "engine/ptp/ptp_port.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace aes67 {

const char* toString(PtpPortState state) {
  switch (state) {
    case PtpPortState::kListening: return "LISTENING";
    case PtpPortState::kUncalibrated: return "UNCALIBRATED";
    case PtpPortState::kSlave: return "SLAVE";
  }
  return "unknown";
}

const char* toString(PtpPortDrop drop) {
  switch (drop) {
    case PtpPortDrop::kOwnMessage: return "own-message";
    case PtpPortDrop::kOtherDomain: return "other-domain";
    case PtpPortDrop::kReservedDomain: return "reserved-domain";
    case PtpPortDrop::kBadTimestamp: return "bad-timestamp";
    case PtpPortDrop::kStepsRemoved: return "steps-removed-255";
    case PtpPortDrop::kForeignTableFull: return "foreign-table-full";
    case PtpPortDrop::kNoParent: return "no-parent";
    case PtpPortDrop::kNotFromParent: return "not-from-parent";
    case PtpPortDrop::kPeerDelay: return "peer-delay-unsupported";
    case PtpPortDrop::kNotForUs: return "not-for-us";
    case PtpPortDrop::kSignaling: return "signaling";
    case PtpPortDrop::kManagement: return "management";
    case PtpPortDrop::kUnmatched: return "unmatched";
    case PtpPortDrop::kCount: break;
  }
  return "unknown";
}

std::uint64_t PtpPortCounters::malformedTotal() const {
  std::uint64_t total = 0;
  for (auto n : malformed) total += n;
  return total;
}

PtpPort::PtpPort(const PtpPortConfig& config)
    : config_(config), prng_(config.seed), logMinDelayReqInterval_(config.logMinDelayReqInterval) {
  if (config.domainNumber > 127) {
    throw std::invalid_argument("PTP domain must be 0-127 (IEEE 1588-2008 7.1), got " + std::to_string(config.domainNumber));
  }
  if (config.announceReceiptTimeout < 2 || config.announceReceiptTimeout > 255) {
    throw std::invalid_argument("announceReceiptTimeout must be 2-255 intervals, got " +
                                std::to_string(config.announceReceiptTimeout));
  }
}

PtpPortState PtpPort::state() const {
  if (!hasParent_) return PtpPortState::kListening;
  return calibrated_ ? PtpPortState::kSlave : PtpPortState::kUncalibrated;
}

void PtpPort::setCalibrated(bool calibrated) { calibrated_ = calibrated && hasParent_; }

void PtpPort::handle(const std::uint8_t* data, std::size_t size, Nanoseconds receivedAt) {
  ++counters_.datagrams;
  lastNow_ = std::max(lastNow_, receivedAt);
  PtpMessage m;
  const PtpParseError error = parsePtp(data, size, m);
  if (error != PtpParseError::kNone) {
    ++counters_.malformed[static_cast<std::size_t>(error)];
    return;
  }
  const PtpHeader& h = m.header;
  if (h.sourcePortIdentity.clockIdentity == config_.clockIdentity) return drop(PtpPortDrop::kOwnMessage);
  if (h.domainNumber > 127) return drop(PtpPortDrop::kReservedDomain);
  if (h.domainNumber != config_.domainNumber) return drop(PtpPortDrop::kOtherDomain);
  ++counters_.messages[static_cast<std::size_t>(h.messageType)];
  switch (h.messageType) {
    case PtpMessageType::kAnnounce: return onAnnounce(m, receivedAt);
    case PtpMessageType::kSync: return onSync(m, receivedAt);
    case PtpMessageType::kFollowUp: return onFollowUp(m);
    case PtpMessageType::kDelayResp: return onDelayResp(m);
    case PtpMessageType::kDelayReq: return drop(PtpPortDrop::kNotForUs);  // another slave's
    case PtpMessageType::kPdelayReq:
    case PtpMessageType::kPdelayResp:
    case PtpMessageType::kPdelayRespFollowUp:
      return drop(PtpPortDrop::kPeerDelay);
    case PtpMessageType::kSignaling: return drop(PtpPortDrop::kSignaling);
    case PtpMessageType::kManagement: return drop(PtpPortDrop::kManagement);
  }
}

void PtpPort::onAnnounce(const PtpMessage& m, Nanoseconds now) {
  if (m.announce.stepsRemoved >= 255) return drop(PtpPortDrop::kStepsRemoved);
  if (!foreignMasters_.record(m, portIdentity(), now)) return drop(PtpPortDrop::kForeignTableFull);
  if (hasParent_ && parent_.dataset.sender == m.header.sourcePortIdentity) {
    parent_ = *foreignMasters_.find(m.header.sourcePortIdentity);  // its data set may have changed
  }
  selectParent(now);
}

// State decision for a slave-only clock (9.3.3): follow the best qualified master, if any.
void PtpPort::selectParent(Nanoseconds now) {
  const ForeignMaster* best = foreignMasters_.best(now);
  if (best == nullptr) {
    // Keep following the parent while it is still in the table (not timed out), even if
    // it is briefly unqualified; forget it when it is gone.
    if (hasParent_ && foreignMasters_.find(parent_.dataset.sender) != nullptr) return;
    if (hasParent_) {
      hasParent_ = false;
      calibrated_ = false;
      resetTiming();
      PtpPortEvent e;
      e.kind = PtpPortEventKind::kParentLost;
      emit(e);
    }
    return;
  }
  if (hasParent_ && best->dataset.sender == parent_.dataset.sender) return;
  const bool gmChanged = everHadGrandmaster_ && best->dataset.grandmasterIdentity != lastGrandmaster_;
  parent_ = *best;
  hasParent_ = true;
  calibrated_ = false;
  ++counters_.parentChanges;
  if (gmChanged) ++counters_.grandmasterChanges;
  everHadGrandmaster_ = true;
  lastGrandmaster_ = best->dataset.grandmasterIdentity;
  resetTiming();
  PtpPortEvent e;
  e.kind = PtpPortEventKind::kParentChanged;
  e.grandmasterChanged = gmChanged;
  emit(e);
}

void PtpPort::resetTiming() {
  pendingSync_ = {};
  earlyFollowUp_ = {};
  pendingDelayReq_ = {};
  haveSync_ = false;
  nextDelayReq_ = 0;
  logMinDelayReqInterval_ = config_.logMinDelayReqInterval;
}

bool PtpPort::fromParent(const PtpMessage& m) {
  if (!hasParent_) {
    drop(PtpPortDrop::kNoParent);
    return false;
  }
  if (m.header.sourcePortIdentity != parent_.dataset.sender) {
    drop(PtpPortDrop::kNotFromParent);
    return false;
  }
  return true;
}

void PtpPort::onSync(const PtpMessage& m, Nanoseconds receivedAt) {
  if (!fromParent(m)) return;
  if (!m.header.twoStep()) {
    if (!m.timestamp.valid()) return drop(PtpPortDrop::kBadTimestamp);
    emitSync(m.timestamp.toNanos(), receivedAt, m.header.correctionField, m.header.sequenceId, m.header.logMessageInterval);
    return;
  }
  if (earlyFollowUp_.valid && earlyFollowUp_.sequenceId == m.header.sequenceId) {
    // The Follow_Up overtook its Sync (they travel on different sockets).
    emitSync(earlyFollowUp_.t1, receivedAt, m.header.correctionField + earlyFollowUp_.correction, m.header.sequenceId,
             m.header.logMessageInterval);
    earlyFollowUp_.valid = false;
    return;
  }
  if (pendingSync_.valid) ++counters_.syncWithoutFollowUp;
  pendingSync_ = {true, m.header.sequenceId, receivedAt, m.header.correctionField, m.header.logMessageInterval};
}

void PtpPort::onFollowUp(const PtpMessage& m) {
  if (!fromParent(m)) return;
  if (!m.timestamp.valid()) return drop(PtpPortDrop::kBadTimestamp);
  if (pendingSync_.valid && pendingSync_.sequenceId == m.header.sequenceId) {
    emitSync(m.timestamp.toNanos(), pendingSync_.t2, pendingSync_.correction + m.header.correctionField,
             pendingSync_.sequenceId, pendingSync_.logInterval);
    pendingSync_.valid = false;
    return;
  }
  if (earlyFollowUp_.valid) drop(PtpPortDrop::kUnmatched);
  earlyFollowUp_ = {true, m.header.sequenceId, m.timestamp.toNanos(), m.header.correctionField};
}

void PtpPort::emitSync(Nanoseconds t1, Nanoseconds t2, std::int64_t correction, std::uint16_t seq, std::int8_t logInterval) {
  PtpPortEvent e;
  e.kind = PtpPortEventKind::kSync;
  e.sync = {t1, t2, correction, seq, logInterval};
  ++counters_.syncSamples;
  emit(e);
  if (!haveSync_) {
    haveSync_ = true;
    nextDelayReq_ = std::max<Nanoseconds>(t2, 1);  // the first request right away: a delay estimate is needed to lock
  }
}

void PtpPort::onDelayResp(const PtpMessage& m) {
  if (m.portIdentity != portIdentity()) return drop(PtpPortDrop::kNotForUs);
  if (!fromParent(m)) return;
  if (!m.timestamp.valid()) return drop(PtpPortDrop::kBadTimestamp);
  if (!pendingDelayReq_.valid || !pendingDelayReq_.sent || pendingDelayReq_.answered ||
      pendingDelayReq_.sequenceId != m.header.sequenceId) {
    return drop(PtpPortDrop::kUnmatched);
  }
  pendingDelayReq_.answered = true;
  // 9.5.11.2 / 13.9.1: the master tells the slaves the request interval it wants.
  if (m.header.logMessageInterval != kPtpLogIntervalUnspecified && m.header.logMessageInterval >= -7 &&
      m.header.logMessageInterval <= 7) {
    logMinDelayReqInterval_ = m.header.logMessageInterval;
  }
  PtpPortEvent e;
  e.kind = PtpPortEventKind::kDelay;
  e.delay = {pendingDelayReq_.t3, m.timestamp.toNanos(), m.header.correctionField, m.header.sequenceId};
  ++counters_.delaySamples;
  emit(e);
}

Nanoseconds PtpPort::poll(Nanoseconds now) {
  lastNow_ = std::max(lastNow_, now);
  const std::size_t expired = foreignMasters_.expire(now, config_.announceReceiptTimeout);
  if (expired > 0) {
    counters_.announceTimeouts += expired;
    if (hasParent_ && foreignMasters_.find(parent_.dataset.sender) == nullptr) {
      // The parent went silent: choose again among the others (failover), or listen.
      hasParent_ = false;
      calibrated_ = false;
      resetTiming();
      if (foreignMasters_.best(now) == nullptr) {
        PtpPortEvent e;
        e.kind = PtpPortEventKind::kParentLost;
        emit(e);
      }
    }
    selectParent(now);
  }
  if (hasParent_ && haveSync_ && nextDelayReq_ != 0 && now >= nextDelayReq_) sendDelayReq(now);
  Nanoseconds next = foreignMasters_.nextExpiry(config_.announceReceiptTimeout);
  if (hasParent_ && haveSync_ && nextDelayReq_ != 0) next = std::min(next, nextDelayReq_);
  return next;
}

Nanoseconds PtpPort::nextDelayReqInterval() {
  const Nanoseconds mean = logIntervalToNanos(logMinDelayReqInterval_);
  if (!config_.randomizeDelayReq) return mean;
  // Uniform over [0, 2 x 2^logMinDelayReqInterval]: the mean is the interval, and slaves
  // that started together do not stay in step. A floor keeps a burst from one bad draw away.
  const Nanoseconds span = 2 * mean;
  return std::max<Nanoseconds>(mean / 16, static_cast<Nanoseconds>(prng_.uniform() * static_cast<double>(span)));
}

void PtpPort::sendDelayReq(Nanoseconds now) {
  if (pendingDelayReq_.valid && pendingDelayReq_.sent && !pendingDelayReq_.answered) ++counters_.delayRespMissing;
  if (outCount_ == outgoing_.size()) {
    nextDelayReq_ = now + nextDelayReqInterval();  // nobody sends what we queue: do not pile up
    return;
  }
  PtpMessage m;
  m.header.messageType = PtpMessageType::kDelayReq;
  m.header.domainNumber = config_.domainNumber;
  m.header.sourcePortIdentity = portIdentity();
  m.header.sequenceId = ++delayReqSequence_;
  m.header.controlField = 1;
  m.header.logMessageInterval = kPtpLogIntervalUnspecified;
  PtpOutgoing& out = outgoing_[(outHead_ + outCount_) % outgoing_.size()];
  out.event = true;
  out.type = PtpMessageType::kDelayReq;
  out.sequenceId = m.header.sequenceId;
  out.size = writePtp(m, out.data.data(), out.data.size());
  ++outCount_;
  pendingDelayReq_ = {true, false, false, m.header.sequenceId, 0};
  nextDelayReq_ = now + nextDelayReqInterval();
}

bool PtpPort::nextOutgoing(PtpOutgoing& out) {
  if (outCount_ == 0) return false;
  out = outgoing_[outHead_];
  outHead_ = (outHead_ + 1) % outgoing_.size();
  --outCount_;
  return true;
}

void PtpPort::transmitted(PtpMessageType type, std::uint16_t sequenceId, Nanoseconds sentAt) {
  if (type != PtpMessageType::kDelayReq) return;
  if (!pendingDelayReq_.valid || pendingDelayReq_.sequenceId != sequenceId || pendingDelayReq_.answered) return;
  // A second call refines the first (a kernel time stamp after a clock reading).
  if (!pendingDelayReq_.sent) ++counters_.delayReqSent;
  pendingDelayReq_.sent = true;
  pendingDelayReq_.t3 = sentAt;
}

void PtpPort::emit(const PtpPortEvent& e) {
  if (eventCount_ == kQueue) {
    eventHead_ = (eventHead_ + 1) % kQueue;  // drop the oldest
    --eventCount_;
    ++counters_.eventOverflows;
  }
  events_[(eventHead_ + eventCount_) % kQueue] = e;
  ++eventCount_;
}

bool PtpPort::nextEvent(PtpPortEvent& out) {
  if (eventCount_ == 0) return false;
  out = events_[eventHead_];
  eventHead_ = (eventHead_ + 1) % kQueue;
  --eventCount_;
  return true;
}

}  // namespace aes67
