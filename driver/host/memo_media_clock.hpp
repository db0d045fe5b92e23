// The DUT's PTP media clock as its packet path asks it, with the last answer each way kept.
// The datagrams of one virtual-time step arrive at one local time, and streams from senders
// on one grandmaster carry the same media times, so the receivers and transmitters ask the
// same question several times in a row (bench/virtual-speed.ts: 8 streams, each question
// eight times; each answer a mapping and a division or an inversion). An answer holds while
// the mapping's version is the one it was computed at (PtpTimeMapping::version changes with
// every write), so a kept answer is exactly what the clock would say.
// Not thread-safe: for the poll thread's receivers and transmitters only (the IO thread's
// time line asks the clock itself). Its clock and mapping must outlive it.
#pragma once

#include <cstdint>

#include "engine/base/media_clock.hpp"
#include "engine/ptp/ptp_time_mapping.hpp"

namespace aes67 {

class MemoMediaClock final : public MediaClock {
 public:
  MemoMediaClock(const MediaClock& clock, const PtpTimeMapping& mapping) : clock_(clock), mapping_(mapping) {}
  MemoMediaClock(const MemoMediaClock&) = delete;
  MemoMediaClock& operator=(const MemoMediaClock&) = delete;

  std::uint32_t sampleRate() const override { return clock_.sampleRate(); }

  SampleTime sampleAt(Nanoseconds localTime) const override {
    const std::uint32_t version = mapping_.version();
    if (!(sampleAt_.valid && sampleAt_.version == version && sampleAt_.question == localTime)) {
      sampleAt_ = {clock_.sampleAt(localTime), localTime, version, stable(version)};
    }
    return sampleAt_.answer;
  }

  Nanoseconds localTimeOf(SampleTime sample) const override {
    const std::uint32_t version = mapping_.version();
    if (!(localTimeOf_.valid && localTimeOf_.version == version && localTimeOf_.question == sample)) {
      localTimeOf_ = {clock_.localTimeOf(sample), sample, version, stable(version)};
    }
    return localTimeOf_.answer;
  }

 private:
  struct Kept {
    std::int64_t answer = 0;
    std::int64_t question = 0;
    std::uint32_t version = 0;
    bool valid = false;
  };
  // An odd version is a write in progress (on another thread): not an answer to keep.
  static bool stable(std::uint32_t version) { return (version & 1u) == 0; }

  const MediaClock& clock_;
  const PtpTimeMapping& mapping_;
  mutable Kept sampleAt_;
  mutable Kept localTimeOf_;
};

}  // namespace aes67
