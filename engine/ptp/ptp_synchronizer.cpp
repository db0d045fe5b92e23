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
  const PtpServoAction a = servo_.sample(offset, s.t2, interval, mapping_.frequencyPpb(), &heldDelay);
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

// Samples stopped or the grandmaster went: the mapping runs on at the servo's frequency
// estimate (its integral), not at the last frequency it was set to, which carries the
// proportional correction of the last offset (kp x a few us of stamp noise is ppm, tens of
// us over a 10 s holdover: the relock then saw the clock that far off and stepped).
void PtpSynchronizer::holdOver(Nanoseconds now) {
  if (mapping_.frequencyPpb() != servo_.frequencyEstimatePpb()) mapping_.setFrequency(now, servo_.frequencyEstimatePpb());
}

Nanoseconds PtpSynchronizer::poll(Nanoseconds now) {
  if (servo_.checkTimeout(now)) holdOver(now);
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
