#include "engine/jitter/playout_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace aes67 {

namespace {
constexpr SampleTime kNever = std::numeric_limits<SampleTime>::min();
std::size_t roundUpToPowerOfTwo(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

PlayoutBuffer::PlayoutBuffer(const PlayoutConfig& config)
    : channels_(config.channels),
      capacity_(roundUpToPowerOfTwo(config.capacityFrames)),
      mask_(capacity_ - 1),
      linkOffset_(config.linkOffset),
      readCursor_(kNever),
      newest_(kNever) {
  if (config.channels == 0 || config.capacityFrames == 0) {
    throw std::invalid_argument("PlayoutBuffer needs at least one channel and one frame");
  }
  samples_ = std::make_unique<float[]>(capacity_ * channels_);
  stamps_ = std::make_unique<std::atomic<SampleTime>[]>(capacity_);
  for (std::size_t i = 0; i < capacity_; ++i) stamps_[i].store(kNever, std::memory_order_relaxed);
}

PlayoutWrite PlayoutBuffer::write(SampleTime mediaTime, const float* interleaved, std::size_t frames) {
  const SampleTime cursor = readCursor_.load(std::memory_order_acquire);
  const SampleTime end = mediaTime + static_cast<SampleTime>(frames);
  if (cursor != kNever && end <= cursor) {
    late_.fetch_add(1, std::memory_order_relaxed);
    return PlayoutWrite::kLate;
  }
  // Frames must not overwrite slots the reader has yet to play: keep within one capacity
  // of the cursor (or of the newest frame before reading starts).
  const SampleTime horizon = cursor != kNever ? cursor : std::max(newest_.load(std::memory_order_relaxed), mediaTime);
  if (end > horizon + static_cast<SampleTime>(capacity_) && cursor != kNever) {
    early_.fetch_add(1, std::memory_order_relaxed);
    return PlayoutWrite::kTooEarly;
  }
  if (stamps_[static_cast<std::size_t>(mediaTime) & mask_].load(std::memory_order_relaxed) == mediaTime) {
    duplicates_.fetch_add(1, std::memory_order_relaxed);
    return PlayoutWrite::kDuplicate;
  }
  for (std::size_t f = 0; f < frames; ++f) {
    const SampleTime t = mediaTime + static_cast<SampleTime>(f);
    if (cursor != kNever && t < cursor) continue;  // the part the reader already passed
    const std::size_t slot = static_cast<std::size_t>(t) & mask_;
    // Invalidate first so the reader never pairs the old stamp with new samples.
    stamps_[slot].store(kNever, std::memory_order_release);
    std::memcpy(&samples_[slot * channels_], interleaved + f * channels_, channels_ * sizeof(float));
    stamps_[slot].store(t, std::memory_order_release);
  }
  framesWritten_.fetch_add(frames, std::memory_order_relaxed);
  SampleTime newest = newest_.load(std::memory_order_relaxed);
  if (end - 1 > newest || newest == kNever) newest_.store(end - 1, std::memory_order_release);
  return PlayoutWrite::kStored;
}

void PlayoutBuffer::read(SampleTime t, float* out, std::size_t frames) {
  for (std::size_t f = 0; f < frames; ++f) {
    const SampleTime want = t + static_cast<SampleTime>(f);
    const std::size_t slot = static_cast<std::size_t>(want) & mask_;
    float* dst = out + f * channels_;
    bool ok = stamps_[slot].load(std::memory_order_acquire) == want;
    if (ok) {
      std::memcpy(dst, &samples_[slot * channels_], channels_ * sizeof(float));
      // A writer may have replaced the slot while we copied: check the stamp again.
      ok = stamps_[slot].load(std::memory_order_acquire) == want;
    }
    if (ok) {
      played_.fetch_add(1, std::memory_order_relaxed);
      playing_ = true;
      if (missingRunFrames_ > 0) {
        recordGlitch(missingRunStart_, missingRunFrames_);
        missingRunFrames_ = 0;
      }
    } else {
      std::fill(dst, dst + channels_, 0.0f);
      if (!playing_) {
        // Silence before the first audio is priming, not a glitch.
        priming_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      missing_.fetch_add(1, std::memory_order_relaxed);
      if (missingRunFrames_ == 0) {
        missingRunStart_ = want;
        glitches_.fetch_add(1, std::memory_order_relaxed);
      }
      ++missingRunFrames_;
    }
  }
  readCursor_.store(t + static_cast<SampleTime>(frames), std::memory_order_release);
}

void PlayoutBuffer::recordGlitch(SampleTime start, std::int64_t frames) {
  const std::uint64_t head = glitchHead_.load(std::memory_order_relaxed);
  if (head - glitchTail_.load(std::memory_order_acquire) >= kGlitchLog) {
    glitchOverflow_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  glitchLog_[head % kGlitchLog] = PlayoutGlitch{start, frames};
  glitchHead_.store(head + 1, std::memory_order_release);
}

bool PlayoutBuffer::popGlitch(PlayoutGlitch& out) {
  const std::uint64_t tail = glitchTail_.load(std::memory_order_relaxed);
  // A run still open at the reader is logged once audio resumes.
  if (tail == glitchHead_.load(std::memory_order_acquire)) return false;
  out = glitchLog_[tail % kGlitchLog];
  glitchTail_.store(tail + 1, std::memory_order_release);
  return true;
}

std::int64_t PlayoutBuffer::fillFrames() const {
  const SampleTime newest = newest_.load(std::memory_order_acquire);
  const SampleTime cursor = readCursor_.load(std::memory_order_acquire);
  if (newest == kNever) return 0;
  if (cursor == kNever) return 0;
  return std::max<std::int64_t>(0, newest + 1 - cursor);
}

PlayoutStats PlayoutBuffer::stats() const {
  PlayoutStats s;
  s.framesWritten = framesWritten_.load(std::memory_order_relaxed);
  s.framesPlayed = played_.load(std::memory_order_relaxed);
  s.framesMissing = missing_.load(std::memory_order_relaxed);
  s.framesPriming = priming_.load(std::memory_order_relaxed);
  s.glitches = glitches_.load(std::memory_order_relaxed);
  s.latePackets = late_.load(std::memory_order_relaxed);
  s.earlyPackets = early_.load(std::memory_order_relaxed);
  s.duplicatePackets = duplicates_.load(std::memory_order_relaxed);
  s.glitchLogOverflow = glitchOverflow_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace aes67
