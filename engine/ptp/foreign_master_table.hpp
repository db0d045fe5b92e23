// The masters a port hears (IEEE 1588-2008 9.3.2.4-9.3.2.5): each foreign master's latest
// Announce data set and when its recent Announces arrived. A master is qualified once it
// sent FOREIGN_MASTER_THRESHOLD (2) Announces within FOREIGN_MASTER_TIME_WINDOW (4 of its
// announce intervals), and is forgotten when announceReceiptTimeout intervals pass
// without one. Fixed capacity: a flood of fake masters is counted, not stored.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/base/time.hpp"
#include "engine/ptp/bmca.hpp"
#include "engine/ptp/ptp_message.hpp"

namespace aes67 {

struct ForeignMaster {
  PtpMasterDataset dataset;
  PtpAnnounceBody announce;  // the whole latest Announce body (time source, UTC offset, ...)
  std::uint16_t flags = 0;   // header flags of the latest Announce (leap, UTC valid, ...)
  std::int8_t logAnnounceInterval = 1;
  std::uint16_t lastSequenceId = 0;
  Nanoseconds lastReceipt = 0;
  Nanoseconds previousReceipt = 0;  // the Announce before the last; 0 when only one came
  std::uint32_t announces = 0;
};

class ForeignMasterTable {
 public:
  static constexpr std::size_t kCapacity = 16;
  static constexpr int kThreshold = 2;   // FOREIGN_MASTER_THRESHOLD
  static constexpr int kWindowIntervals = 4;  // FOREIGN_MASTER_TIME_WINDOW

  // Records an Announce received at `now` on port `receiver`. False when the table is full.
  bool record(const PtpMessage& announce, const PortIdentity& receiver, Nanoseconds now);
  // Forgets masters whose Announces stopped (announceReceiptTimeout intervals). Returns how many.
  std::size_t expire(Nanoseconds now, int announceReceiptTimeout);
  // The best qualified master (figure 27/28 order), or nullptr.
  const ForeignMaster* best(Nanoseconds now) const;
  const ForeignMaster* find(const PortIdentity& source) const;
  bool qualified(const ForeignMaster& m, Nanoseconds now) const;
  void remove(const PortIdentity& source);
  // The earliest time an entry would expire (INT64_MAX when empty).
  Nanoseconds nextExpiry(int announceReceiptTimeout) const;
  std::size_t size() const { return size_; }
  const ForeignMaster& at(std::size_t i) const { return entries_[i]; }

 private:
  std::array<ForeignMaster, kCapacity> entries_{};
  std::size_t size_ = 0;
};

// 2^log2 seconds in nanoseconds, with the exponent clamped to what 1588 allows (-7..+7
// covers every profile in use; beyond that a value is a sender's bug, not a request).
Nanoseconds logIntervalToNanos(int log2Seconds);

}  // namespace aes67
