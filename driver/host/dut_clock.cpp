#include "driver/host/dut_clock.hpp"

#include <limits>

namespace aes67 {

DutClock::DutClock(const MediaClock& external) : clock_(&external) {}

DutClock::DutClock(Transport& transport, std::uint32_t rate, const DutPtpConfig& config)
    : transport_(&transport), domain_(config.slave.port.domainNumber), resyncThresholdNs_(config.resyncThresholdNs) {
  slave_ = std::make_unique<PtpSlave>(transport, config.slave);
  ptpClock_ = std::make_unique<PtpMediaClock>(slave_->mapping(), rate);
  clock_ = ptpClock_.get();
  counters_.startedAt = transport.clock().now();
  stepsSeen_ = slave_->mapping().steps();
}

bool DutClock::locked() const { return slave_ && isLocked(slave_->synchronizer().servo().state()); }

DutClockPoll DutClock::poll() {
  DutClockPoll r;
  if (!slave_) {
    r.next = std::numeric_limits<Nanoseconds>::max();
    return r;
  }
  // The step is measured at one local instant before and after the slave ran: frequency
  // changes re-anchor the mapping where it is, so only a step moves PTP time there.
  const Nanoseconds now = transport_->clock().now();
  // Before its next timer the slave only reads datagrams: where none can be waiting (the
  // virtual network says so) it is not run, nor anything below (the device polls its clock
  // at every packet it gets: bench/virtual-speed.ts).
  if (now < slaveNext_ && !slave_->mayHaveDatagram()) {
    r.next = slaveNext_;
    return r;
  }
  const Nanoseconds before = slave_->mapping().ptpTimeAt(now);
  r.next = slave_->poll();
  slaveNext_ = r.next;
  const std::uint64_t steps = slave_->mapping().steps();
  if (steps != stepsSeen_) {
    r.stepped = true;
    r.stepNs = slave_->mapping().ptpTimeAt(now) - before;
    counters_.steps += steps - stepsSeen_;
    counters_.lastStepNs = r.stepNs;
    counters_.lastStepAt = now;
    stepsSeen_ = steps;
  }
  const bool isLockedNow = locked();
  const PtpSlaveStatus st = slave_->status();
  const Nanoseconds polledAt = transport_->clock().now();
  // An acquisition runs from the first poll, unlocked, that took a Sync sample of the grandmaster followed.
  const std::uint64_t samples = slave_->port().counters().syncSamples;
  if (!isLockedNow) {
    if (!st.hasParent) acquiringSince_ = -1;
    else if (acquiringSince_ < 0 && samples != syncSamplesSeen_) acquiringSince_ = polledAt;
  }
  syncSamplesSeen_ = samples;
  if (isLockedNow != wasLocked_) {
    r.lockChanged = true;
    if (isLockedNow) {
      ++counters_.locks;
      if (counters_.firstLockAt < 0) counters_.firstLockAt = polledAt;
      counters_.lastAcquisitionNs = acquiringSince_ < 0 ? 0 : polledAt - acquiringSince_;
      acquiringSince_ = -1;
    } else {
      ++counters_.lockLosses;
    }
    wasLocked_ = isLockedNow;
  }
  if (st.hasParent && (!grandmaster_ || *grandmaster_ != st.grandmasterIdentity)) {
    if (grandmaster_) ++counters_.grandmasterChanges;
    grandmaster_ = st.grandmasterIdentity;
    counters_.grandmasterChangedAt = transport_->clock().now();
    r.grandmasterChanged = true;
  }
  return r;
}

}  // namespace aes67
