#include "driver/core/stream_ports.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "driver/core/device_config.hpp"

namespace aes67 {

PlayoutInputSource::PlayoutInputSource(PlayoutBuffer& playout, std::uint32_t packetFrames)
    : playout_(playout), packetFrames_(packetFrames) {
  if (packetFrames == 0) throw std::invalid_argument("PlayoutInputSource: packetFrames must be > 0");
  if (playout.linkOffset() < 0) throw std::invalid_argument("PlayoutInputSource: the link offset must not be negative");
}

RingOutputSink::RingOutputSink(FrameRingBuffer& ring, std::uint32_t packetFrames, bool startOnPacketBoundary)
    : ring_(ring), packetFrames_(packetFrames), onPacketBoundary_(startOnPacketBoundary) {
  if (packetFrames == 0) throw std::invalid_argument("RingOutputSink: packetFrames must be > 0");
  if (ring.channels() > kMaxStreamChannels) {
    throw std::invalid_argument("RingOutputSink: a stream has at most 64 channels, the ring " + std::to_string(ring.channels()));
  }
}

void RingOutputSink::write(SampleTime t, const float* interleaved, std::uint32_t frames) {
  if (!started_.load(std::memory_order_relaxed)) {
    SampleTime first = t;
    if (onPacketBoundary_) {
      const SampleTime p = packetFrames_;
      const SampleTime r = ((t % p) + p) % p;  // media time may be negative
      if (r != 0) first = t + (p - r);
    }
    first_ = first;
    next_ = first;
    produced_ = first;
    started_.store(true, std::memory_order_release);
  }
  if (onPacketBoundary_ && t < first_) {  // before the stream's first packet: not the stream's audio
    if (t + frames <= first_) return;
    const std::size_t before = static_cast<std::size_t>(first_ - t);
    interleaved += before * ring_.channels();
    frames -= static_cast<std::uint32_t>(before);
    t = first_;
  }
  const SampleTime end = t + frames;
  if (end <= next_) {  // all of it is in the ring already: a repeated cycle
    add(repeatedFrames_, frames);
    return;
  }
  // Each frame is counted once: one the HAL skipped as a gap, one that did not fit as an
  // overflow. A hole left by frames that did not fit (the transmitter stalled too) is
  // filled with silence by a later write, and not counted again.
  const SampleTime producedBefore = produced_;
  produced_ = std::max(produced_, end);
  const SampleTime fresh = std::max(t, producedBefore);  // this write's first frame not written before
  auto lost = [&](SampleTime from) {
    if (end > from) add(overflowFrames_, static_cast<std::uint64_t>(end - from));
  };
  if (t > next_) {
    // Silence for the frames the HAL skipped keeps media time and ring position aligned.
    static constexpr std::size_t kSilenceFrames = 16;
    static const float kSilence[kSilenceFrames * kMaxStreamChannels] = {};
    const SampleTime skippedFrom = std::max(next_, producedBefore);
    if (t > skippedFrom) {
      add(gaps_, 1);
      add(gapFrames_, static_cast<std::uint64_t>(t - skippedFrom));
    }
    while (next_ < t) {
      const std::size_t n = std::min<std::size_t>(kSilenceFrames, static_cast<std::size_t>(t - next_));
      const std::size_t pushed = ring_.push(kSilence, n);
      next_ += static_cast<SampleTime>(pushed);
      if (pushed < n) {  // full: this write is lost, the rest of the hole waits for space
        lost(fresh);
        return;
      }
    }
  }
  if (t < next_) add(repeatedFrames_, static_cast<std::uint64_t>(next_ - t));
  const std::size_t skip = static_cast<std::size_t>(next_ - t);
  const std::size_t n = frames - skip;
  const std::size_t pushed = ring_.push(interleaved + skip * ring_.channels(), n);
  next_ += static_cast<SampleTime>(pushed);
  if (pushed < n) lost(std::max(next_, fresh));
}

}  // namespace aes67
