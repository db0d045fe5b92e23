#include "engine/ptp/ptp_synchronizer.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace aes67 {

namespace {
Nanoseconds correctionNanos(std::int64_t scaled) { return static_cast<Nanoseconds>(std::llround(correctionToNanos(scaled))); }
}  // namespace

PtpSynchronizer::PtpSynchronizer(const PtpServoConfig& servo) : servo_(servo) {}

Nanoseconds PtpSynchronizer::HeldDelayCorrection::offsetCorrection(double frequencyPpb) const {
  return sync_.acquisitionDelay_ - sync_.delay_.delay(1.0 + frequencyPpb * 1e-9);
}

void PtpSynchronizer::handle(const PtpPortEvent& event, Nanoseconds now) {
  switch (event.kind) {
    case PtpPortEventKind::kSync: return onSync(event.sync, now);
    case PtpPortEventKind::kDelay: return onDelay(event.delay);
    case PtpPortEventKind::kParentChanged:
    case PtpPortEventKind::kParentLost:
      servo_.reset();
      holdOver(now);
      // Another grandmaster, or the same one back with a time of its own: the fit starts over
      // at its first Sync. Until then it keeps the rate (the grandmaster's return, a parent
      // change after the loss, holds over at the same rate, not at the integral).
      rateFitStale_ = true;
      delay_.reset();
      // The ring starts over at 0: onDelay reads its first syncCount_ entries, and one left
      // from the old grandmaster paired a new Delay_Resp with an old Sync (a delay off by the
      // old time line's distance, or by the holdover's rate error over seconds).
      syncNext_ = 0;
      syncCount_ = 0;
      hasOffset_ = false;
      acquisitionDelayValid_ = false;
      return;
  }
}

void PtpSynchronizer::onSync(const PtpSyncSample& s, Nanoseconds now) {
  const Nanoseconds t1c = s.t1 + correctionNanos(s.correction);
  syncs_[syncNext_] = {t1c, s.t2};
  syncNext_ = (syncNext_ + 1) % syncs_.size();
  syncCount_ = std::min(syncCount_ + 1, syncs_.size());
  if (!delay_.valid()) {
    ++counters_.syncsWithoutDelay;
    return;
  }
  // While the servo acquires the frequency, hold the delay still: its estimate moves with
  // the very rate error being measured, and a moving delay would bend the fitted slope.
  Nanoseconds pathDelay;
  if (servo_.state() == PtpServoState::kUnlocked) {
    if (!acquisitionDelayValid_) acquisitionDelay_ = delay_.delay(rateRatio());
    acquisitionDelayValid_ = true;
    pathDelay = acquisitionDelay_;
  } else {
    pathDelay = delay_.delay(rateRatio());
  }
  const Nanoseconds offset = mapping_.ptpTimeAt(s.t2) - t1c - pathDelay;
  const Nanoseconds interval =
      s.logSyncInterval >= -7 && s.logSyncInterval <= 7 ? logIntervalToNanos(s.logSyncInterval) : 0;
  // Once the fit gives the frequency, the delay is known with it: the fitted offset was
  // measured with the held delay, so it is judged (and stepped) less what that was wrong by.
  const HeldDelayCorrection heldDelay(*this);
  const PtpServoState before = servo_.state();
  const std::uint64_t spikes = servo_.counters().spikes;
  const PtpServoAction a = servo_.sample(offset, s.t2, interval, mapping_.frequencyPpb(), &heldDelay);
  fitRate(s.t2, t1c, before, a, servo_.counters().spikes != spikes);
  // The action takes effect now (when we learned of the Sync), which keeps the mapping continuous.
  if (a.setFrequency) mapping_.setFrequency(now, a.frequencyPpb);
  if (a.step) mapping_.step(now, a.stepBy);
  mapping_.publishFrequencyEstimate(servo_.frequencyEstimatePpb());
  if (servo_.state() != PtpServoState::kUnlocked) acquisitionDelayValid_ = false;
  hasOffset_ = true;
  last_ = {s.t2, offset, pathDelay, servo_.frequencyEstimatePpb(), servo_.state()};
  record(last_);
}

void PtpSynchronizer::onDelay(const PtpDelaySample& d) {
  // The Sync nearest the Delay_Req in time: the shorter the local interval, the less a
  // frequency error not yet known bends the delay.
  const SyncPoint* best = nullptr;
  Nanoseconds bestGap = std::numeric_limits<Nanoseconds>::max();
  for (std::size_t i = 0; i < syncCount_; ++i) {
    const Nanoseconds gap = std::llabs(syncs_[i].t2 - d.t3);
    if (gap < bestGap) {
      bestGap = gap;
      best = &syncs_[i];
    }
  }
  if (best == nullptr) {
    ++counters_.unpairedDelays;
    return;
  }
  PathDelayExchange e;
  e.localInterval = best->t2 - d.t3;
  e.masterInterval = d.t4 - correctionNanos(d.correction) - best->t1c;
  delay_.add(e, rateRatio());
}

// Every Sync but a spike feeds the rate fit, from the first sample of an acquisition on (the
// fit needs no servo: the mapping's own steps and frequency do not enter it). It fits t1
// against t2 without the path delay: the delay is constant on a path, but its estimate moves
// (held while acquiring, then the filter's median; 5 -> 15 us after a ptp4l restart on veth)
// and a move in the middle of a few seconds of Syncs would bend the slope by ppm. A step of the
// servo's while it tracked, or an unlock by it, means the master's times moved or cannot be
// trusted: the fit starts over.
void PtpSynchronizer::fitRate(Nanoseconds t2, Nanoseconds masterTime, PtpServoState before, const PtpServoAction& a, bool spike) {
  if (rateFitStale_) {
    rateFit_.restart();
    rateFitStale_ = false;
  }
  const bool tracking = before != PtpServoState::kUnlocked;
  if (tracking && (a.step || servo_.state() == PtpServoState::kUnlocked)) {
    rateFit_.restart();
    return;
  }
  if (!spike) rateFit_.add(t2, masterTime);
}

// Samples stopped or the grandmaster went: the mapping runs on at the master's rate as the
// Syncs measured it (MasterRateFit), or, before they span enough time for that, at the
// servo's frequency estimate (its integral) -- never at the last frequency it was set to,
// which carries the proportional correction of the last offset (kp x a few us of stamp noise
// is ppm, tens of us over a 10 s holdover: the relock then saw the clock that far off and
// stepped). The integral alone left the acquisition's ppm error a grandmaster restart soon
// after a lock drifted by (20-27 us over ptp4l's ~18 s restart on veth: a step at relock).
void PtpSynchronizer::holdOver(Nanoseconds now) {
  double ppb = servo_.frequencyEstimatePpb();
  if (rateFit_.frequencyPpb(ppb)) ++counters_.holdoversOnFittedRate;
  if (mapping_.frequencyPpb() != ppb) mapping_.setFrequency(now, ppb);
}

Nanoseconds PtpSynchronizer::poll(Nanoseconds now) {
  if (servo_.checkTimeout(now)) {
    holdOver(now);
    rateFitStale_ = true;  // the samples stopped: what comes next is measured afresh
  }
  return servo_.timeoutAt() == std::numeric_limits<Nanoseconds>::max() ? servo_.timeoutAt() : servo_.timeoutAt() + 1;
}

void PtpSynchronizer::record(const PtpOffsetRecord& r) {
  if (recordCount_ == kRecords) {
    recordHead_ = (recordHead_ + 1) % kRecords;
    --recordCount_;
    ++counters_.recordOverflows;
  }
  records_[(recordHead_ + recordCount_) % kRecords] = r;
  ++recordCount_;
}

bool PtpSynchronizer::nextRecord(PtpOffsetRecord& out) {
  if (recordCount_ == 0) return false;
  out = records_[recordHead_];
  recordHead_ = (recordHead_ + 1) % kRecords;
  --recordCount_;
  return true;
}

}  // namespace aes67
