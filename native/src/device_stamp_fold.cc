#include "native/src/device_stamp_fold.hpp"

#include <algorithm>
#include <cstring>

namespace aes67::native {

namespace {

__extension__ typedef __int128 Int128;

bool overlaps(const std::vector<FoldedRange>& ranges, double from, double to) {
  for (const FoldedRange& r : ranges) {
    if (r.from < to && r.to > from) return true;
  }
  return false;
}

// device-log.ts subtract: `ranges` minus [from, to).
std::vector<FoldedRange> subtract(const std::vector<FoldedRange>& ranges, double from, double to) {
  std::vector<FoldedRange> out;
  for (const FoldedRange& r : ranges) {
    if (r.to <= from || r.from >= to) {
      out.push_back(r);
      continue;
    }
    if (r.from < from) out.push_back({r.from, from});
    if (r.to > to) out.push_back({to, r.to});
  }
  return out;
}

}  // namespace

double DeviceLocalTime::at(double mediaSample) const {
  // ptpTimeOfSample (lab/net/ptp-timescale.ts): the ceiling of m x 1e9 / rate, in integers.
  const Int128 m = static_cast<Int128>(static_cast<std::int64_t>(mediaSample));
  const Int128 ptp = (m * 1'000'000'000 + rate - 1) / rate;
  const double sinceEpoch = static_cast<double>(static_cast<std::int64_t>(ptp - epochNs));
  if (kind == Kind::kLinearPtp) return sinceEpoch / (1 + ppm / 1e6);  // linearTimescale localTimeOf
  return ppm == 0 ? sinceEpoch : std::ceil(sinceEpoch / (1 + ppm / 1e6));
}

DeviceStampFold::DeviceStampFold(const std::vector<double>& receiveFramesPerPacket, std::size_t transmitStreams, DeviceLocalTime time)
    : sentPackets_(transmitStreams, 0), time_(time) {
  for (double f : receiveFramesPerPacket) {
    ReceiveFold r;
    r.framesPerPacket = f;
    receive_.push_back(r);
  }
  for (std::size_t i = 0; i < kMemo; ++i) memoKey_[i] = NAN;  // NaN equals nothing
}

void DeviceStampFold::add(const std::vector<PacketStamp>& packets, const std::vector<IoCycleStamp>& cycles) {
  // A packet arriving at a cycle's wake time was placed before that cycle read.
  std::size_t c = 0;
  for (const PacketStamp& p : packets) {
    const double hostTime = static_cast<double>(p.hostTime);
    while (c < cycles.size() && static_cast<double>(cycles[c].wakeHostTime) < hostTime) addCycle(cycles[c++]);
    addPacket(p);
  }
  while (c < cycles.size()) addCycle(cycles[c++]);
}

void DeviceStampFold::addPacket(const PacketStamp& s) {
  if (s.direction == PacketStamp::Direction::kSent) {
    if (s.stream < sentPackets_.size()) sentPackets_[s.stream] += 1;
    return;
  }
  if (s.stream >= receive_.size()) return;
  ReceiveFold& r = receive_[s.stream];
  r.packets += 1;
  if (s.frames == 0) return;  // not RTP of this stream's shape: counted by the receiver
  const double frames = static_cast<double>(s.frames);
  const double mediaTime = static_cast<double>(s.mediaTime);
  const double hostTime = static_cast<double>(s.hostTime);
  const double deviceTime = static_cast<double>(s.deviceTime);
  double from = mediaTime;
  const double to = from + frames;
  if (!s.accepted) {
    if (r.hasAccepted && to <= r.acceptedEnd && !overlaps(r.gaps, from, to)) r.duplicates += 1;
    else r.refused.push_back({from, to});
    return;
  }
  // Placed, but the reader had passed its first frames: those were skipped (late).
  const double passed = readEnd_ - deviceTime;
  if (passed > 0) {
    r.refused.push_back({from, from + std::min(passed, frames)});
    from += std::min(passed, frames);
  }
  const std::size_t slot = static_cast<std::size_t>(static_cast<std::uint64_t>(s.mediaTime) % kMemo);
  if (!(memoKey_[slot] == mediaTime)) {
    memoKey_[slot] = mediaTime;
    memoValue_[slot] = time_.at(mediaTime);
  }
  const double transit = hostTime - memoValue_[slot];
  r.transitCount += 1;
  r.transitSum += transit;
  if (transit < r.transitMin) r.transitMin = transit;
  if (transit > r.transitMax) r.transitMax = transit;
  if (std::isnan(r.regX0)) r.regX0 = hostTime;
  const double x = (hostTime - r.regX0) / 1e9;
  r.regN += 1;
  r.regSx += x;
  r.regSy += transit;
  r.regSxx += x * x;
  r.regSxy += x * transit;
  if (!r.hasAccepted) {
    r.hasAccepted = true;
    r.firstAccepted = from;
    r.acceptedEnd = to;
  } else if (from >= r.acceptedEnd) {
    if (from > r.acceptedEnd) r.gaps.push_back({r.acceptedEnd, from});
    r.acceptedEnd = to;
  } else {
    // Placed although behind the highest: a reordered packet filling (part of) a gap.
    r.gaps = subtract(r.gaps, from, to);
    if (to > r.acceptedEnd) r.acceptedEnd = to;
  }
}

void DeviceStampFold::addCycle(const IoCycleStamp& c) {
  cycles_ += 1;
  const double frames = static_cast<double>(c.frames);
  const double inputTime = static_cast<double>(c.inputTime);
  const double currentTime = static_cast<double>(c.currentTime);
  const double outputTime = static_cast<double>(c.outputTime);
  if (inputTime + frames > readEnd_) readEnd_ = inputTime + frames;
  const double inSpan = currentTime - inputTime;
  const double outSpan = outputTime - currentTime;
  if (inSpan < inputSpan_.min) inputSpan_.min = inSpan;
  if (inSpan > inputSpan_.max) inputSpan_.max = inSpan;
  if (outSpan < outputSpan_.min) outputSpan_.min = outSpan;
  if (outSpan > outputSpan_.max) outputSpan_.max = outSpan;
  if (frames < cycleFrames_.min) cycleFrames_.min = frames;
  if (frames > cycleFrames_.max) cycleFrames_.max = frames;
}

}  // namespace aes67::native
