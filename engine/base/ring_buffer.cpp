#include "engine/base/ring_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67 {

namespace {
std::size_t roundUpToPowerOfTwo(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

FrameRingBuffer::FrameRingBuffer(std::size_t capacityFrames, std::size_t channels)
    : capacity_(roundUpToPowerOfTwo(capacityFrames)), mask_(capacity_ - 1), channels_(channels) {
  check(capacityFrames, channels);
  data_ = std::make_unique<float[]>(capacity_ * channels_);
}

void FrameRingBuffer::check(std::size_t capacityFrames, std::size_t channels) {
  if (capacityFrames == 0 || channels == 0) {
    throw std::invalid_argument("FrameRingBuffer needs at least one frame and one channel");
  }
}

std::size_t FrameRingBuffer::fill() const {
  const std::uint64_t w = written_.load(std::memory_order_acquire);
  const std::uint64_t r = read_.load(std::memory_order_acquire);
  return static_cast<std::size_t>(w - r);
}

std::size_t FrameRingBuffer::push(const float* interleaved, std::size_t frames) {
  const std::uint64_t w = written_.load(std::memory_order_relaxed);
  const std::uint64_t r = read_.load(std::memory_order_acquire);
  const std::size_t n = std::min(frames, capacity_ - static_cast<std::size_t>(w - r));
  const std::size_t start = static_cast<std::size_t>(w) & mask_;
  const std::size_t first = std::min(n, capacity_ - start);
  std::memcpy(&data_[start * channels_], interleaved, first * channels_ * sizeof(float));
  std::memcpy(&data_[0], interleaved + first * channels_, (n - first) * channels_ * sizeof(float));
  written_.store(w + n, std::memory_order_release);
  return n;
}

std::size_t FrameRingBuffer::pop(float* interleaved, std::size_t frames) {
  const std::uint64_t r = read_.load(std::memory_order_relaxed);
  const std::uint64_t w = written_.load(std::memory_order_acquire);
  const std::size_t n = std::min(frames, static_cast<std::size_t>(w - r));
  const std::size_t start = static_cast<std::size_t>(r) & mask_;
  const std::size_t first = std::min(n, capacity_ - start);
  std::memcpy(interleaved, &data_[start * channels_], first * channels_ * sizeof(float));
  std::memcpy(interleaved + first * channels_, &data_[0], (n - first) * channels_ * sizeof(float));
  read_.store(r + n, std::memory_order_release);
  return n;
}

std::size_t FrameRingBuffer::peek(std::size_t frames, Run& first, Run& second) const {
  const std::uint64_t r = read_.load(std::memory_order_relaxed);
  const std::uint64_t w = written_.load(std::memory_order_acquire);
  const std::size_t n = std::min(frames, static_cast<std::size_t>(w - r));
  const std::size_t start = static_cast<std::size_t>(r) & mask_;
  first = {&data_[start * channels_], std::min(n, capacity_ - start)};
  second = {&data_[0], n - first.frames};
  return n;
}

std::size_t FrameRingBuffer::skip(std::size_t frames) {
  const std::uint64_t r = read_.load(std::memory_order_relaxed);
  const std::uint64_t w = written_.load(std::memory_order_acquire);
  const std::size_t n = std::min(frames, static_cast<std::size_t>(w - r));
  read_.store(r + n, std::memory_order_release);
  return n;
}

}  // namespace aes67
