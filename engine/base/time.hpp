// Time and counter arithmetic shared by the whole engine.
//
// Nanoseconds and sample times are 64-bit and never wrap in practice. RTP timestamps
// (32-bit) and RTP sequence numbers (16-bit) do wrap; compare them only through the
// functions here, which use serial-number arithmetic (RFC 1982) so that "before" and
// "after" stay correct across the wrap.
#pragma once

#include <cstdint>

namespace aes67 {

using Nanoseconds = std::int64_t;
using SampleTime = std::int64_t;  // frames since an epoch chosen by the owner

constexpr Nanoseconds kNanosPerSecond = 1'000'000'000;

// Sample time <-> nanoseconds at a rate, in integers (split so that samples * 1e9 cannot
// overflow in long runs). samplesToNanos gives the first nanosecond at or after the
// sample's instant (ceiling), so nanosToSamples(samplesToNanos(s)) == s at every rate.
constexpr Nanoseconds samplesToNanos(SampleTime samples, std::uint32_t rate) {
  const std::int64_t whole = samples / rate;
  const std::int64_t rest = samples % rate;
  const std::int64_t part = rest * kNanosPerSecond;
  return whole * kNanosPerSecond + (part >= 0 ? (part + rate - 1) / rate : part / rate);
}

// Floor division: the sample whose period contains `ns`.
constexpr SampleTime nanosToSamples(Nanoseconds ns, std::uint32_t rate) {
  const std::int64_t whole = ns / kNanosPerSecond;
  std::int64_t rest = ns % kNanosPerSecond;
  std::int64_t samples = whole * rate + (rest * rate) / kNanosPerSecond;
  if (rest < 0 && (rest * rate) % kNanosPerSecond != 0) samples -= 1;
  return samples;
}

// Signed distance a - b between two 32-bit RTP timestamps, correct across the wrap as
// long as they are less than 2^31 apart.
constexpr std::int32_t rtpTimestampDiff(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}
constexpr bool rtpTimestampBefore(std::uint32_t a, std::uint32_t b) {
  return rtpTimestampDiff(a, b) < 0;
}

// Signed distance a - b between two 16-bit RTP sequence numbers.
constexpr std::int16_t sequenceDiff(std::uint16_t a, std::uint16_t b) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b));
}
constexpr bool sequenceBefore(std::uint16_t a, std::uint16_t b) {
  return sequenceDiff(a, b) < 0;
}

// Extends a wrapping counter of `Bits` bits into a monotonic 64-bit value. The first
// value seen maps to itself; later values map to the unwrapped value nearest the last.
template <unsigned Bits>
class CounterUnwrapper {
 public:
  static_assert(Bits == 16 || Bits == 32, "RTP counters are 16 or 32 bits");
  std::int64_t unwrap(std::uint32_t value) {
    constexpr std::int64_t kRange = std::int64_t{1} << Bits;
    constexpr std::int64_t kHalf = kRange / 2;
    if (!valid_) {
      valid_ = true;
      last_ = value;
      return last_;
    }
    const std::int64_t lastLow = last_ & (kRange - 1);
    std::int64_t delta = static_cast<std::int64_t>(value) - lastLow;
    if (delta >= kHalf) delta -= kRange;
    if (delta < -kHalf) delta += kRange;
    const std::int64_t result = last_ + delta;
    if (delta > 0) last_ = result;  // older (reordered) values do not move the reference
    return result;
  }
  void reset() { valid_ = false; }
  bool valid() const { return valid_; }

 private:
  bool valid_ = false;
  std::int64_t last_ = 0;
};

using SequenceUnwrapper = CounterUnwrapper<16>;
using RtpTimestampUnwrapper = CounterUnwrapper<32>;

}  // namespace aes67
