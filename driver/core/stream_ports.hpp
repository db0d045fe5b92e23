// Adapters from the engine's streams to the device's ports: an RX stream's PlayoutBuffer
// is an InputSource, a TX stream's FrameRingBuffer (drained by its RtpTransmitter) an
// OutputSink. Their latency and safety offset follow from the stream configuration: the
// link offset for an input, the packet time for both.
#pragma once

#include <atomic>

#include "driver/core/io_ports.hpp"
#include "engine/base/ring_buffer.hpp"
#include "engine/jitter/playout_buffer.hpp"

namespace aes67 {

class PlayoutInputSource final : public InputSource {
 public:
  // `packetFrames`: the stream's frames per packet (its arrival granularity).
  PlayoutInputSource(PlayoutBuffer& playout, std::uint32_t packetFrames);
  std::uint32_t channels() const override { return static_cast<std::uint32_t>(playout_.channels()); }
  std::uint32_t latencyFrames() const override { return static_cast<std::uint32_t>(playout_.linkOffset()); }
  std::uint32_t safetyOffsetFrames() const override { return packetFrames_; }
  void read(SampleTime t, float* interleaved, std::uint32_t frames) override { playout_.read(t, interleaved, frames); }
  PlayoutBuffer& playout() { return playout_; }

 private:
  PlayoutBuffer& playout_;
  std::uint32_t packetFrames_;
};

// Pushes the device's output into a TX ring whose frames are contiguous in media time from
// firstMediaTime(): the RtpTransmitter starts there and stamps each packet by position.
// So the ring must never lose its alignment: a gap in media time (the HAL skipped) is
// filled with silence and counted; a repeated range is not pushed twice; when the ring is
// full, what did not fit is dropped and counted, and the next write fills the hole.
//
// With `startOnPacketBoundary` the ring starts at the first media time at or after the
// first write that is a whole number of packets (frames before it are not pushed): the
// stream's RTP timestamps then fall on the media clock's packet grid from the first
// packet, where a stream bound while IO runs would otherwise start wherever the HAL's
// output time happened to be.
class RingOutputSink final : public OutputSink {
 public:
  RingOutputSink(FrameRingBuffer& ring, std::uint32_t packetFrames, bool startOnPacketBoundary = false);
  std::uint32_t channels() const override { return static_cast<std::uint32_t>(ring_.channels()); }
  std::uint32_t latencyFrames() const override { return packetFrames_; }
  std::uint32_t safetyOffsetFrames() const override { return packetFrames_; }
  void write(SampleTime t, const float* interleaved, std::uint32_t frames) override;

  // Network side: true once the first write has published firstMediaTime().
  bool started() const { return started_.load(std::memory_order_acquire); }
  SampleTime firstMediaTime() const { return first_; }
  std::uint64_t overflowFrames() const { return overflowFrames_.load(std::memory_order_relaxed); }
  std::uint64_t gaps() const { return gaps_.load(std::memory_order_relaxed); }
  std::uint64_t gapFrames() const { return gapFrames_.load(std::memory_order_relaxed); }
  std::uint64_t repeatedFrames() const { return repeatedFrames_.load(std::memory_order_relaxed); }
  FrameRingBuffer& ring() { return ring_; }

 private:
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  FrameRingBuffer& ring_;
  std::uint32_t packetFrames_;
  bool onPacketBoundary_;
  std::atomic<bool> started_{false};
  SampleTime first_ = 0;
  SampleTime next_ = 0;      // media time of the next frame the ring receives
  SampleTime produced_ = 0;  // end of the frames written so far (pushed, or lost to a full ring)
  std::atomic<std::uint64_t> overflowFrames_{0};
  std::atomic<std::uint64_t> gaps_{0};
  std::atomic<std::uint64_t> gapFrames_{0};
  std::atomic<std::uint64_t> repeatedFrames_{0};
};

}  // namespace aes67
