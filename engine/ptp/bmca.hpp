// The best master clock algorithm's data set comparison (IEEE 1588-2008 9.3.4, figures 27
// and 28): which of two Announce-derived data sets describes the better master. The first
// part compares the grandmasters (priority1, clockClass, clockAccuracy,
// offsetScaledLogVariance, priority2, identity); when both name the same grandmaster the
// second part decides by topology (stepsRemoved, then sender and receiver identities).
#pragma once

#include <cstdint>

#include "engine/ptp/ptp_types.hpp"

namespace aes67 {

struct PtpMasterDataset {
  std::uint8_t priority1 = 128;
  ClockQuality quality;
  std::uint8_t priority2 = 128;
  ClockIdentity grandmasterIdentity;
  std::uint16_t stepsRemoved = 0;
  PortIdentity sender;    // sourcePortIdentity of the Announce
  PortIdentity receiver;  // the port that received it
};

enum class BmcaOrder : std::uint8_t {
  kABetter,
  kBBetter,
  kABetterByTopology,
  kBBetterByTopology,
  kError1,  // a data set received from ourselves (receiver == sender): a loop
  kError2,  // A and B are the same message path
};
const char* toString(BmcaOrder order);

BmcaOrder compareDatasets(const PtpMasterDataset& a, const PtpMasterDataset& b);

// True when A wins, on quality or by topology.
constexpr bool aWins(BmcaOrder o) { return o == BmcaOrder::kABetter || o == BmcaOrder::kABetterByTopology; }

}  // namespace aes67
