// The media clock of AES67 / SMPTE ST 2110-10 on the slave's PTP time: media time is PTP
// seconds x rate (samples since the PTP epoch), an RTP timestamp is that plus the SDP's
// `mediaclk:direct=` offset mod 2^32 (RFC 7273). Built on PtpTimeMapping, so it never
// blocks the audio thread, and continuous while the servo slews: sampleAt() never goes
// backwards between steps (PtpTimeMapping::steps() tells when one happened).
//
// driftPpm() is the device clock's rate error against PTP, for the driver's rate scalar:
// the local clock is the host's, which a virtual device's Core Audio time stamps follow.
#pragma once

#include <cstdint>

#include "engine/base/media_clock.hpp"
#include "engine/ptp/ptp_time_mapping.hpp"

namespace aes67 {

class PtpMediaClock final : public MediaClock {
 public:
  PtpMediaClock(const PtpTimeMapping& mapping, std::uint32_t rate, std::uint32_t mediaclkOffset = 0);
  std::uint32_t sampleRate() const override { return rate_; }
  SampleTime sampleAt(Nanoseconds localTime) const override;
  Nanoseconds localTimeOf(SampleTime sample) const override;
  std::uint32_t rtpTimestampAt(Nanoseconds localTime) const { return rtpTimestampOf(sampleAt(localTime), mediaclkOffset_); }
  std::uint32_t mediaclkOffset() const { return mediaclkOffset_; }

  // How many ppm the network's clock runs faster than the local clock: a device clocked by
  // the network plays 1 + driftPpm / 1e6 samples per sample of local time. Smoothed: the
  // servo's frequency estimate (the loop's integral, not its proportional corrections).
  double driftPpm() const { return mapping_.frequencyEstimatePpb() * 1e-3; }
  double rateScalar() const { return 1.0 + driftPpm() * 1e-6; }

 private:
  const PtpTimeMapping& mapping_;
  std::uint32_t rate_;
  std::uint32_t mediaclkOffset_;
};

}  // namespace aes67
