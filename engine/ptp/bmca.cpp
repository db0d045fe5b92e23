#include "engine/ptp/bmca.hpp"

namespace aes67 {

namespace {

// Figure 28: both data sets describe the same grandmaster.
BmcaOrder compareTopology(const PtpMasterDataset& a, const PtpMasterDataset& b) {
  const unsigned stepsA = a.stepsRemoved;
  const unsigned stepsB = b.stepsRemoved;
  if (stepsA > stepsB + 1) return BmcaOrder::kBBetter;
  if (stepsA + 1 < stepsB) return BmcaOrder::kABetter;
  if (stepsA > stepsB) {
    // A is one step further: it may be our own path reflected back to us.
    const int c = compare(a.receiver, a.sender);
    if (c < 0) return BmcaOrder::kBBetter;
    if (c > 0) return BmcaOrder::kBBetterByTopology;
    return BmcaOrder::kError1;
  }
  if (stepsB > stepsA) {
    const int c = compare(b.receiver, b.sender);
    if (c < 0) return BmcaOrder::kABetter;
    if (c > 0) return BmcaOrder::kABetterByTopology;
    return BmcaOrder::kError1;
  }
  const int senders = compare(a.sender, b.sender);
  if (senders < 0) return BmcaOrder::kABetterByTopology;
  if (senders > 0) return BmcaOrder::kBBetterByTopology;
  if (a.receiver.portNumber < b.receiver.portNumber) return BmcaOrder::kABetterByTopology;
  if (a.receiver.portNumber > b.receiver.portNumber) return BmcaOrder::kBBetterByTopology;
  return BmcaOrder::kError2;
}

}  // namespace

const char* toString(BmcaOrder order) {
  switch (order) {
    case BmcaOrder::kABetter: return "A better";
    case BmcaOrder::kBBetter: return "B better";
    case BmcaOrder::kABetterByTopology: return "A better by topology";
    case BmcaOrder::kBBetterByTopology: return "B better by topology";
    case BmcaOrder::kError1: return "error-1";
    case BmcaOrder::kError2: return "error-2";
  }
  return "unknown";
}

// Figure 27: lower is better at every step.
BmcaOrder compareDatasets(const PtpMasterDataset& a, const PtpMasterDataset& b) {
  if (a.grandmasterIdentity == b.grandmasterIdentity) return compareTopology(a, b);
  if (a.priority1 != b.priority1) return a.priority1 < b.priority1 ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
  if (a.quality.clockClass != b.quality.clockClass) {
    return a.quality.clockClass < b.quality.clockClass ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
  }
  if (a.quality.clockAccuracy != b.quality.clockAccuracy) {
    return a.quality.clockAccuracy < b.quality.clockAccuracy ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
  }
  if (a.quality.offsetScaledLogVariance != b.quality.offsetScaledLogVariance) {
    return a.quality.offsetScaledLogVariance < b.quality.offsetScaledLogVariance ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
  }
  if (a.priority2 != b.priority2) return a.priority2 < b.priority2 ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
  return a.grandmasterIdentity < b.grandmasterIdentity ? BmcaOrder::kABetter : BmcaOrder::kBBetter;
}

}  // namespace aes67
