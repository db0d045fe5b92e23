// The emulated DUT's media clock: either one it is given (a free-running or "perfectly
// locked" stand-in), or AES67's: the engine's PtpSlave on the DUT's own transport and its
// PtpMediaClock, media time = PTP time x rate.
//
// How the device lives with PTP (what the emulated DUT does with what this reports):
// - Before lock the PtpMediaClock is the slave's identity mapping (PTP time = local time):
//   a free-running stand-in. The device starts on it at once, so IO runs and the TX
//   streams flow from the start (their RTP time is then the local clock's, not the
//   network's: receivers that follow PTP drop them until we lock).
// - Slewing (the servo's frequency corrections, the rate scalar) needs nothing: the
//   device's zero time stamps follow the clock's rate, and the HAL's predictor with them.
// - A step (the servo's acquisition step at lock, or a step after a grandmaster's time
//   jumped) moves media time under the device by the step. A step larger than
//   `resyncThresholdNs` is a new time line: the DUT restarts IO on the stepped clock (the
//   HAL's configuration-change path) and realigns its TX streams, so nothing ever tries to
//   play or fill the distance between the old and the new time. Smaller steps are
//   absorbed (the HAL's predictor re-learns at the next zero time stamp). Both are counted.
// - Unlock (no Sync, grandmaster lost): the mapping holds over on the servo's frequency
//   estimate; the time line is untouched. Relock to a grandmaster on the same time does not
//   step: after its first lock the servo steps a first sample only beyond its step
//   threshold, and the acquisition fit's residual only beyond its unlock threshold (the
//   loop slews smaller ones). The first lock steps once (the gross offset).
// - The TX SDPs name the grandmaster the slave follows (ts-refclk). When it changes the
//   DUT re-announces at once; while none is known they say "traceable"; when the
//   grandmaster is lost they keep naming the last one (the clock holds over on it).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include "engine/base/media_clock.hpp"
#include "engine/base/transport.hpp"
#include "engine/ptp/ptp_media_clock.hpp"
#include "engine/ptp/ptp_slave.hpp"

namespace aes67 {

struct DutPtpConfig {
  bool enabled = false;
  // The slave's configuration (domain in slave.port.domainNumber, servo, stamping). On a
  // real interface the transmit stamp should be kKernel and interfaceName set.
  PtpSlaveConfig slave;
  // Steps at least this large restart the device's time line; 0: half the link offset.
  Nanoseconds resyncThresholdNs = 0;
};

// What one poll saw.
struct DutClockPoll {
  Nanoseconds next = 0;            // when the slave next wants to run (INT64_MAX without PTP)
  bool stepped = false;            // the mapping stepped during this poll
  Nanoseconds stepNs = 0;          // by how much (PTP time at the poll's now, after - before)
  bool grandmasterChanged = false; // the slave follows another grandmaster than before
  bool lockChanged = false;        // locked <-> not locked
};

struct DutClockCounters {
  std::uint64_t steps = 0;           // mapping steps seen
  std::uint64_t grandmasterChanges = 0;  // distinct grandmasters followed after the first
  std::uint64_t locks = 0;
  std::uint64_t lockLosses = 0;
  Nanoseconds startedAt = 0;
  Nanoseconds firstLockAt = -1;      // local time of the first lock, -1 before
  Nanoseconds lastStepNs = 0;
  Nanoseconds lastStepAt = -1;
  Nanoseconds grandmasterChangedAt = -1;  // local time the current grandmaster was first followed
  // The latest lock's acquisition: from the first Sync sample of its grandmaster the slave
  // took while not locked until it locked; -1 before the first lock. Unlike firstLockAt it
  // leaves out the time with no grandmaster's time to lock to: none on the network yet (a
  // DUT started before it), or one followed but silent (stopped, and not yet timed out).
  Nanoseconds lastAcquisitionNs = -1;
};

class DutClock {
 public:
  // A clock the caller owns (and keeps alive): no PTP.
  explicit DutClock(const MediaClock& external);
  // AES67: a PtpSlave on `transport`, its media clock at `rate`. Throws std::runtime_error
  // when the PTP sockets cannot be opened (naming why).
  DutClock(Transport& transport, std::uint32_t rate, const DutPtpConfig& config);

  const MediaClock& mediaClock() const { return *clock_; }
  bool ptp() const { return slave_ != nullptr; }
  PtpSlave* slave() { return slave_.get(); }
  const PtpSlave* slave() const { return slave_.get(); }
  const PtpMediaClock* ptpMediaClock() const { return ptpClock_.get(); }

  // Runs the slave (no-op without PTP) and reports steps, lock and grandmaster changes.
  DutClockPoll poll();
  bool locked() const;
  // The grandmaster the slave follows now, or last followed (kept through a loss).
  std::optional<ClockIdentity> grandmaster() const { return grandmaster_; }
  std::uint8_t domain() const { return domain_; }
  const DutClockCounters& counters() const { return counters_; }
  Nanoseconds resyncThresholdNs() const { return resyncThresholdNs_; }
  void setResyncThresholdNs(Nanoseconds ns) { resyncThresholdNs_ = ns; }

 private:
  Transport* transport_ = nullptr;
  std::unique_ptr<PtpSlave> slave_;
  std::unique_ptr<PtpMediaClock> ptpClock_;
  const MediaClock* clock_ = nullptr;
  std::uint8_t domain_ = 0;
  Nanoseconds resyncThresholdNs_ = 0;
  std::uint64_t stepsSeen_ = 0;
  Nanoseconds slaveNext_ = std::numeric_limits<Nanoseconds>::min();  // what the slave's last poll returned
  bool wasLocked_ = false;
  Nanoseconds acquiringSince_ = -1;  // local time the current acquisition began, -1: none
  std::uint64_t syncSamplesSeen_ = 0;  // the port's Sync samples at the last poll
  std::optional<ClockIdentity> grandmaster_;
  DutClockCounters counters_;
};

}  // namespace aes67
