// lab/scenario/device-log.ts DeviceLog in C++: the emulated DUT's packet and IO-cycle stamps
// folded as the runner drains them, without handing ~160,000 stamps a run to TypeScript
// (bench/virtual-speed.ts: the per-slice Float64Arrays, their fold and their garbage were a
// fifth of a run). Same arithmetic, in doubles and in the same order as DeviceLog's (the
// addon is built with -ffp-contract=off so no multiply-add fuses), same slices, same
// result: lab/scenario/fast-bookkeeping.test.ts folds both ways and compares. The
// device's local time of a media sample comes from one of the two time lines the runner
// knows in closed form (runner.ts deviceLocalTimeOf): a linear PTP timescale, or the
// stand-in media clock.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "driver/host/emulated_dut.hpp"
#include "driver/host/hal_host.hpp"

namespace aes67::native {

// Local time (ns) at which device media sample m begins, as runner.ts computes it.
struct DeviceLocalTime {
  enum class Kind { kLinearPtp, kStandIn } kind = Kind::kLinearPtp;
  std::int64_t epochNs = 0;
  double ppm = 0;
  std::int64_t rate = 48000;
  double at(double mediaSample) const;
};

struct FoldedRange {
  double from;
  double to;
};

// One receive stream's ReceiveLog.
struct ReceiveFold {
  double framesPerPacket = 0;
  bool hasAccepted = false;  // firstAccepted / acceptedEnd defined
  double firstAccepted = 0;
  double acceptedEnd = 0;
  std::vector<FoldedRange> gaps;
  std::vector<FoldedRange> refused;
  double duplicates = 0;
  double packets = 0;
  double transitCount = 0;
  double transitSum = 0;
  double transitMin = INFINITY;
  double transitMax = -INFINITY;
  double regN = 0, regSx = 0, regSy = 0, regSxx = 0, regSxy = 0, regX0 = NAN;
};

struct Span {
  double min = INFINITY;
  double max = -INFINITY;
};

class DeviceStampFold {
 public:
  DeviceStampFold(const std::vector<double>& receiveFramesPerPacket, std::size_t transmitStreams, DeviceLocalTime time);

  // One slice of stamps, each list in time order (DeviceLog.addSlice).
  void add(const std::vector<PacketStamp>& packets, const std::vector<IoCycleStamp>& cycles);

  const std::vector<ReceiveFold>& receive() const { return receive_; }
  const std::vector<double>& sentPackets() const { return sentPackets_; }
  double cycles() const { return cycles_; }
  const Span& inputSpan() const { return inputSpan_; }
  const Span& outputSpan() const { return outputSpan_; }
  const Span& cycleFrames() const { return cycleFrames_; }

 private:
  void addPacket(const PacketStamp& s);
  void addCycle(const IoCycleStamp& c);

  std::vector<ReceiveFold> receive_;
  std::vector<double> sentPackets_;
  DeviceLocalTime time_;
  double cycles_ = 0;
  Span inputSpan_;
  Span outputSpan_;
  Span cycleFrames_;
  double readEnd_ = -INFINITY;
  // The last answers of time_.at (every stream's stamps of one cycle ask for the same times).
  static constexpr std::size_t kMemo = 256;
  double memoKey_[kMemo];
  double memoValue_[kMemo];
};

}  // namespace aes67::native
