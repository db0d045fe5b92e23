#include "engine/ptp/foreign_master_table.hpp"

#include <algorithm>
#include <limits>

namespace aes67 {

Nanoseconds logIntervalToNanos(int log2Seconds) {
  const int e = std::clamp(log2Seconds, -7, 7);
  return e >= 0 ? kNanosPerSecond << e : kNanosPerSecond >> (-e);
}

bool ForeignMasterTable::record(const PtpMessage& m, const PortIdentity& receiver, Nanoseconds now) {
  const PortIdentity& source = m.header.sourcePortIdentity;
  ForeignMaster* entry = nullptr;
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].dataset.sender == source) entry = &entries_[i];
  }
  if (entry == nullptr) {
    if (size_ == kCapacity) return false;
    entry = &entries_[size_++];
    *entry = ForeignMaster{};
  }
  const PtpAnnounceBody& a = m.announce;
  entry->dataset.priority1 = a.grandmasterPriority1;
  entry->dataset.quality = a.grandmasterClockQuality;
  entry->dataset.priority2 = a.grandmasterPriority2;
  entry->dataset.grandmasterIdentity = a.grandmasterIdentity;
  entry->dataset.stepsRemoved = a.stepsRemoved;
  entry->dataset.sender = source;
  entry->dataset.receiver = receiver;
  entry->announce = a;
  entry->flags = m.header.flags;
  entry->logAnnounceInterval = m.header.logMessageInterval;
  entry->lastSequenceId = m.header.sequenceId;
  entry->previousReceipt = entry->announces > 0 ? entry->lastReceipt : 0;
  entry->lastReceipt = now;
  ++entry->announces;
  return true;
}

bool ForeignMasterTable::qualified(const ForeignMaster& m, Nanoseconds now) const {
  if (m.announces < static_cast<std::uint32_t>(kThreshold)) return false;
  const Nanoseconds window = kWindowIntervals * logIntervalToNanos(m.logAnnounceInterval);
  return now - m.previousReceipt <= window;
}

std::size_t ForeignMasterTable::expire(Nanoseconds now, int announceReceiptTimeout) {
  std::size_t removed = 0;
  for (std::size_t i = 0; i < size_;) {
    const ForeignMaster& m = entries_[i];
    if (now - m.lastReceipt > announceReceiptTimeout * logIntervalToNanos(m.logAnnounceInterval)) {
      entries_[i] = entries_[--size_];
      ++removed;
    } else {
      ++i;
    }
  }
  return removed;
}

const ForeignMaster* ForeignMasterTable::best(Nanoseconds now) const {
  const ForeignMaster* winner = nullptr;
  for (std::size_t i = 0; i < size_; ++i) {
    const ForeignMaster& m = entries_[i];
    if (!qualified(m, now)) continue;
    if (winner == nullptr || aWins(compareDatasets(m.dataset, winner->dataset))) winner = &m;
  }
  return winner;
}

const ForeignMaster* ForeignMasterTable::find(const PortIdentity& source) const {
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].dataset.sender == source) return &entries_[i];
  }
  return nullptr;
}

void ForeignMasterTable::remove(const PortIdentity& source) {
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].dataset.sender == source) {
      entries_[i] = entries_[--size_];
      return;
    }
  }
}

Nanoseconds ForeignMasterTable::nextExpiry(int announceReceiptTimeout) const {
  Nanoseconds next = std::numeric_limits<Nanoseconds>::max();
  for (std::size_t i = 0; i < size_; ++i) {
    const ForeignMaster& m = entries_[i];
    next = std::min(next, m.lastReceipt + announceReceiptTimeout * logIntervalToNanos(m.logAnnounceInterval) + 1);
  }
  return next;
}

}  // namespace aes67
