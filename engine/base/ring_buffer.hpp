// Single-producer single-consumer ring of interleaved float frames: the bridge between a
// network thread and the IO thread. Wait-free push and pop, no allocation after
// construction, power-of-two capacity so indices wrap with a mask.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace aes67 {

class FrameRingBuffer {
 public:
  // capacityFrames is rounded up to a power of two; channels >= 1. Throws
  // std::invalid_argument on zero sizes.
  FrameRingBuffer(std::size_t capacityFrames, std::size_t channels);
  // Throws std::invalid_argument as the constructor would (without allocating).
  static void check(std::size_t capacityFrames, std::size_t channels);

  FrameRingBuffer(const FrameRingBuffer&) = delete;
  FrameRingBuffer& operator=(const FrameRingBuffer&) = delete;

  // Producer side. Copies up to `frames` frames; returns how many fitted.
  std::size_t push(const float* interleaved, std::size_t frames);
  // Consumer side. Copies up to `frames` frames out; returns how many were there.
  std::size_t pop(float* interleaved, std::size_t frames);
  // Consumer side: drops up to `frames` frames without copying.
  std::size_t skip(std::size_t frames);
  // Consumer side: the next frames where they lie, in at most two runs (the ring wraps
  // once), without copying; they stay there until skip() passes them. Returns how many of
  // `frames` are there (first.frames + second.frames).
  struct Run {
    const float* samples = nullptr;
    std::size_t frames = 0;
  };
  std::size_t peek(std::size_t frames, Run& first, Run& second) const;

  // Frames available to the consumer (exact from the consumer thread, a lower bound
  // from the producer thread).
  std::size_t fill() const;
  // Frames the producer can still push.
  std::size_t space() const { return capacity_ - fill(); }
  std::size_t capacity() const { return capacity_; }
  std::size_t channels() const { return channels_; }

 private:
  std::size_t capacity_;
  std::size_t mask_;
  std::size_t channels_;
  std::unique_ptr<float[]> data_;
  // Monotonic frame counters; each written by one side only. Kept on separate cache
  // lines so the two threads do not false-share.
  alignas(64) std::atomic<std::uint64_t> written_{0};
  alignas(64) std::atomic<std::uint64_t> read_{0};
};

}  // namespace aes67
