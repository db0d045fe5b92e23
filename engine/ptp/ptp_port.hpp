// One PTP port of a slave-only ordinary clock (IEEE 1588-2008 9.2, 9.5, 11.3), sans IO:
// it is handed datagrams with their receive time, hands back messages to send and is told
// when they left; it reads no clock and opens no socket. It keeps the foreign-master
// table, runs the BMCA (9.3) to choose a parent, matches two-step Sync with Follow_Up and
// Delay_Req with Delay_Resp (end-to-end delay mechanism), and turns them into timing
// samples for the servo. Times are local (Clock) nanoseconds except t1/t4, which are the
// master's PTP nanoseconds. Nothing allocates after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/base/prng.hpp"
#include "engine/base/time.hpp"
#include "engine/ptp/foreign_master_table.hpp"
#include "engine/ptp/ptp_message.hpp"

namespace aes67 {

struct PtpPortConfig {
  ClockIdentity clockIdentity;
  std::uint16_t portNumber = 1;
  std::uint8_t domainNumber = 0;       // 0-127 (7.1); others are refused at construction
  int announceReceiptTimeout = 3;      // announce intervals (AES67 media profile: 3)
  std::int8_t logMinDelayReqInterval = -3;  // until the master's Delay_Resp says otherwise
  bool randomizeDelayReq = true;       // 9.5.11.2: uniform in [0, 2^(x+1)] seconds
  std::uint64_t seed = 1;
};

enum class PtpPortState : std::uint8_t { kListening, kUncalibrated, kSlave };
const char* toString(PtpPortState state);

// Why a well-formed PTPv2 message was not used.
enum class PtpPortDrop : std::uint8_t {
  kOwnMessage,         // our own multicast looped back
  kOtherDomain,        // a domain 0-127 other than ours
  kReservedDomain,     // domain 128-255 (reserved in 1588-2008)
  kBadTimestamp,       // nanoseconds >= 1e9, or seconds beyond 2262
  kStepsRemoved,       // Announce with stepsRemoved >= 255 (9.3.2.5)
  kForeignTableFull,   // more masters than the table holds
  kNoParent,           // Sync/Follow_Up/Delay_Resp before a master was chosen
  kNotFromParent,      // Sync/Follow_Up/Delay_Resp from a master we do not follow
  kPeerDelay,          // Pdelay_* (P2P delay mechanism): not implemented
  kNotForUs,           // Delay_Resp for another slave, Delay_Req of another slave
  kSignaling,          // Signaling: not acted upon (no unicast negotiation)
  kManagement,         // Management: not acted upon
  kUnmatched,          // Follow_Up/Delay_Resp whose sequenceId matches nothing pending
  kCount
};
const char* toString(PtpPortDrop drop);

struct PtpPortCounters {
  std::uint64_t datagrams = 0;
  std::array<std::uint64_t, 16> messages{};  // accepted as well-formed, by messageType
  std::array<std::uint64_t, static_cast<std::size_t>(PtpParseError::kCount)> malformed{};  // [kVersion1]: PTPv1
  std::array<std::uint64_t, static_cast<std::size_t>(PtpPortDrop::kCount)> dropped{};
  std::uint64_t syncSamples = 0;
  std::uint64_t delaySamples = 0;
  std::uint64_t syncWithoutFollowUp = 0;   // a two-step Sync whose Follow_Up never came
  std::uint64_t delayRespMissing = 0;      // a Delay_Req answered by nobody before the next
  std::uint64_t delayReqSent = 0;
  std::uint64_t announceTimeouts = 0;      // foreign masters forgotten (announce receipt time-out)
  std::uint64_t parentChanges = 0;
  std::uint64_t grandmasterChanges = 0;    // the grandmaster identity we follow changed
  std::uint64_t eventOverflows = 0;        // samples dropped because nobody drained them
  std::uint64_t ptpv1() const { return malformed[static_cast<std::size_t>(PtpParseError::kVersion1)]; }
  std::uint64_t malformedTotal() const;
};

struct PtpSyncSample {
  Nanoseconds t1 = 0;          // master's origin time (PTP ns)
  Nanoseconds t2 = 0;          // our receive time (local ns)
  std::int64_t correction = 0; // Sync + Follow_Up correctionField (ns x 2^16)
  std::uint16_t sequenceId = 0;
  std::int8_t logSyncInterval = 0;
};

struct PtpDelaySample {
  Nanoseconds t3 = 0;          // our Delay_Req transmit time (local ns)
  Nanoseconds t4 = 0;          // master's receive time (PTP ns)
  std::int64_t correction = 0; // Delay_Resp correctionField (ns x 2^16)
  std::uint16_t sequenceId = 0;
};

enum class PtpPortEventKind : std::uint8_t { kSync, kDelay, kParentChanged, kParentLost };

struct PtpPortEvent {
  PtpPortEventKind kind = PtpPortEventKind::kSync;
  PtpSyncSample sync;
  PtpDelaySample delay;
  bool grandmasterChanged = false;  // kParentChanged: a different grandmaster than before
};

struct PtpOutgoing {
  bool event = true;  // event port (319) or general (320)
  PtpMessageType type = PtpMessageType::kDelayReq;
  std::uint16_t sequenceId = 0;
  std::array<std::uint8_t, 64> data{};
  std::size_t size = 0;
};

class PtpPort {
 public:
  // Throws std::invalid_argument for a domain outside 0-127 or a non-positive time-out.
  explicit PtpPort(const PtpPortConfig& config);

  // A datagram from either PTP port, received at local time `receivedAt`.
  void handle(const std::uint8_t* data, std::size_t size, Nanoseconds receivedAt);
  // Runs what is due at `now` (announce time-outs, Delay_Req); returns when it next wants to run.
  Nanoseconds poll(Nanoseconds now);
  // The next message to send, if any.
  bool nextOutgoing(PtpOutgoing& out);
  // Tells the port when (local ns) an event message it asked to send left; a later call for
  // the same message, before its answer came, replaces the time (a better stamp arrived).
  void transmitted(PtpMessageType type, std::uint16_t sequenceId, Nanoseconds sentAt);
  // The next timing sample or parent change for the servo, if any.
  bool nextEvent(PtpPortEvent& out);

  // The servo says whether the clock is synchronised: UNCALIBRATED <-> SLAVE (9.2.5).
  void setCalibrated(bool calibrated);

  PtpPortState state() const;
  bool hasParent() const { return hasParent_; }
  const ForeignMaster& parent() const { return parent_; }
  const ForeignMasterTable& foreignMasters() const { return foreignMasters_; }
  const PtpPortCounters& counters() const { return counters_; }
  const PtpPortConfig& config() const { return config_; }
  PortIdentity portIdentity() const { return {config_.clockIdentity, config_.portNumber}; }
  std::int8_t logMinDelayReqInterval() const { return logMinDelayReqInterval_; }

 private:
  void drop(PtpPortDrop reason) { ++counters_.dropped[static_cast<std::size_t>(reason)]; }
  void onAnnounce(const PtpMessage& m, Nanoseconds now);
  void onSync(const PtpMessage& m, Nanoseconds receivedAt);
  void onFollowUp(const PtpMessage& m);
  void onDelayResp(const PtpMessage& m);
  bool fromParent(const PtpMessage& m);
  void selectParent(Nanoseconds now);
  void resetTiming();
  void emit(const PtpPortEvent& e);
  void emitSync(Nanoseconds t1, Nanoseconds t2, std::int64_t correction, std::uint16_t seq, std::int8_t logInterval);
  void sendDelayReq(Nanoseconds now);
  Nanoseconds nextDelayReqInterval();

  PtpPortConfig config_;
  Prng prng_;
  ForeignMasterTable foreignMasters_;
  bool hasParent_ = false;
  ForeignMaster parent_;
  bool everHadGrandmaster_ = false;
  ClockIdentity lastGrandmaster_;
  bool calibrated_ = false;
  Nanoseconds lastNow_ = 0;

  // Two-step matching: the Sync waiting for its Follow_Up, and a Follow_Up that came first.
  struct PendingSync {
    bool valid = false;
    std::uint16_t sequenceId = 0;
    Nanoseconds t2 = 0;
    std::int64_t correction = 0;
    std::int8_t logInterval = 0;
  } pendingSync_;
  struct EarlyFollowUp {
    bool valid = false;
    std::uint16_t sequenceId = 0;
    Nanoseconds t1 = 0;
    std::int64_t correction = 0;
  } earlyFollowUp_;
  bool haveSync_ = false;  // a timing sample from the current parent: delay requests may start

  // End-to-end delay requests.
  std::int8_t logMinDelayReqInterval_;
  Nanoseconds nextDelayReq_ = 0;  // 0: not scheduled
  std::uint16_t delayReqSequence_ = 0;
  struct PendingDelayReq {
    bool valid = false;
    bool sent = false;
    bool answered = false;
    std::uint16_t sequenceId = 0;
    Nanoseconds t3 = 0;
  } pendingDelayReq_;

  static constexpr std::size_t kQueue = 32;
  std::array<PtpPortEvent, kQueue> events_{};
  std::size_t eventHead_ = 0, eventCount_ = 0;
  std::array<PtpOutgoing, 4> outgoing_{};
  std::size_t outHead_ = 0, outCount_ = 0;

  PtpPortCounters counters_;
};

}  // namespace aes67
