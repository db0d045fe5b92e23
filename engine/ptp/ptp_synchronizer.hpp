// Turns a PtpPort's timing samples into the slave's PTP time, sans IO: pairs each
// Delay_Req/Delay_Resp exchange with the Sync received nearest to it for the mean path
// delay (11.3.2), filters the delay, computes the offset from master of every Sync
// (11.3.2: offset = t2 - t1 - corrections - meanPathDelay, with t2 read through our
// mapping), runs the servo and applies what it asks to the PtpTimeMapping. A grandmaster
// change or loss resets the servo and the delay filter (a new path, a new time).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/ptp/master_rate_fit.hpp"
#include "engine/ptp/path_delay_filter.hpp"
#include "engine/ptp/ptp_port.hpp"
#include "engine/ptp/ptp_servo.hpp"
#include "engine/ptp/ptp_time_mapping.hpp"

namespace aes67 {

// One offset measurement, as ptp4l -m would print it.
struct PtpOffsetRecord {
  Nanoseconds at = 0;             // local time of the Sync's arrival (t2)
  Nanoseconds offset = 0;         // slave - master, ns (before the servo acted on it)
  Nanoseconds pathDelay = 0;
  double frequencyPpb = 0;        // the servo's estimate after this sample
  PtpServoState state = PtpServoState::kUnlocked;  // after this sample
};

struct PtpSynchronizerCounters {
  std::uint64_t syncsWithoutDelay = 0;  // Syncs before any delay estimate: no offset yet
  std::uint64_t unpairedDelays = 0;     // exchanges with no Sync to pair with
  std::uint64_t recordOverflows = 0;    // offset records nobody drained
  std::uint64_t holdoversOnFittedRate = 0;  // holdovers at the fitted master rate (else at the servo's integral)
};

class PtpSynchronizer {
 public:
  explicit PtpSynchronizer(const PtpServoConfig& servo = {});

  void handle(const PtpPortEvent& event, Nanoseconds now);
  // Time passes: unlocks the servo when samples stopped. Returns when it next wants to run.
  Nanoseconds poll(Nanoseconds now);

  const PtpTimeMapping& mapping() const { return mapping_; }
  const PtpServo& servo() const { return servo_; }
  const PathDelayFilter& delayFilter() const { return delay_; }
  const PtpSynchronizerCounters& counters() const { return counters_; }
  const MasterRateFit& rateFit() const { return rateFit_; }
  bool hasOffset() const { return hasOffset_; }
  const PtpOffsetRecord& last() const { return last_; }
  // The rate ratio (PTP ns per local ns) the delay is computed with: the servo's estimate.
  double rateRatio() const { return 1.0 + servo_.frequencyEstimatePpb() * 1e-9; }
  // Offset records since the last call, oldest first (a bounded log; overflow is counted).
  bool nextRecord(PtpOffsetRecord& out);

 private:
  struct SyncPoint {
    Nanoseconds t1c = 0;  // t1 + Sync/Follow_Up corrections (PTP ns)
    Nanoseconds t2 = 0;   // local
  };
  // What the delay held while acquiring was wrong by, at the frequency the fit found.
  class HeldDelayCorrection final : public PtpFitCorrection {
   public:
    explicit HeldDelayCorrection(const PtpSynchronizer& sync) : sync_(sync) {}
    Nanoseconds offsetCorrection(double frequencyPpb) const override;

   private:
    const PtpSynchronizer& sync_;
  };
  void onSync(const PtpSyncSample& s, Nanoseconds now);
  void onDelay(const PtpDelaySample& d);
  void fitRate(Nanoseconds t2, Nanoseconds masterTime, PtpServoState before, const PtpServoAction& a, bool spike);
  void holdOver(Nanoseconds now);
  void record(const PtpOffsetRecord& r);

  PtpTimeMapping mapping_;
  PtpServo servo_;
  PathDelayFilter delay_;
  MasterRateFit rateFit_;
  bool rateFitStale_ = false;  // samples stopped or the parent changed: the fit starts over at the next Sync
  std::array<SyncPoint, 4> syncs_{};
  std::size_t syncNext_ = 0, syncCount_ = 0;
  bool hasOffset_ = false;
  bool acquisitionDelayValid_ = false;
  Nanoseconds acquisitionDelay_ = 0;
  PtpOffsetRecord last_;
  static constexpr std::size_t kRecords = 1024;
  std::array<PtpOffsetRecord, kRecords> records_{};
  std::size_t recordHead_ = 0, recordCount_ = 0;
  PtpSynchronizerCounters counters_;
};

}  // namespace aes67
