// Media time: a 64-bit sample count at the stream rate on a network-wide time line. With
// PTP (AES67 / ST 2110-10) it is PTP seconds x rate, and an RTP timestamp is that count
// plus the SDP `mediaclk:direct=` offset, mod 2^32. The engine asks a MediaClock where a
// sample lies in local (Clock) time and back; the PTP servo provides the real one, and
// LocalMediaClock is the free-running stand-in used before lock and in unit tests.
#pragma once

#include <cstdint>

#include "engine/base/clock.hpp"
#include "engine/base/time.hpp"

namespace aes67 {

class MediaClock {
 public:
  virtual ~MediaClock() = default;
  virtual std::uint32_t sampleRate() const = 0;
  // The media sample whose period contains local time `t` (floor).
  virtual SampleTime sampleAt(Nanoseconds localTime) const = 0;
  // The local time at which media sample `s` begins.
  virtual Nanoseconds localTimeOf(SampleTime sample) const = 0;
};

// Media time = (local time - epoch) x rate x (1 + ppm/1e6): a free-running clock, with an
// optional rate error to model a drifting sender or device.
class LocalMediaClock final : public MediaClock {
 public:
  LocalMediaClock(std::uint32_t rate, Nanoseconds epoch = 0, double ppm = 0.0) : rate_(rate), epoch_(epoch), ppm_(ppm) {}
  std::uint32_t sampleRate() const override { return rate_; }
  SampleTime sampleAt(Nanoseconds localTime) const override;
  Nanoseconds localTimeOf(SampleTime sample) const override;

 private:
  std::uint32_t rate_;
  Nanoseconds epoch_;
  double ppm_;
};

// RTP timestamp of a media sample (RFC 7273 / AES67: offset from mediaclk:direct=).
constexpr std::uint32_t rtpTimestampOf(SampleTime mediaTime, std::uint32_t mediaclkOffset) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(mediaTime) + mediaclkOffset);
}

// The media sample nearest `reference` whose RTP timestamp is `rtp` (inverse of the above,
// unambiguous within +-2^31 samples of the reference: 12 hours at 48 kHz).
constexpr SampleTime mediaTimeOf(std::uint32_t rtp, std::uint32_t mediaclkOffset, SampleTime reference) {
  const std::uint32_t low = rtp - mediaclkOffset;
  return reference + static_cast<std::int32_t>(low - static_cast<std::uint32_t>(reference));
}

}  // namespace aes67
