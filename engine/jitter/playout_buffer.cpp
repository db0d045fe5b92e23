#include "engine/jitter/playout_buffer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace aes67 {

namespace {
constexpr SampleTime kNever = std::numeric_limits<SampleTime>::min();
// Adds to a counter only its one thread writes: a plain load and store, not fetch_add. A
// locked add on x86 waits for every store before it to reach the cache: after a packet's
// samples were copied into the (cold) ring, that wait was most of write()'s time.
void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
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
  check(config);
  samples_ = std::make_unique<float[]>(capacity_ * channels_);
  stamps_ = std::make_unique<std::atomic<SampleTime>[]>(capacity_);
  for (std::size_t i = 0; i < capacity_; ++i) stamps_[i].store(kNever, std::memory_order_relaxed);
}

void PlayoutBuffer::check(const PlayoutConfig& config) {
  if (config.channels == 0 || config.capacityFrames == 0) {
    throw std::invalid_argument("PlayoutBuffer needs at least one channel and one frame");
  }
}

PlayoutWrite PlayoutBuffer::write(SampleTime mediaTime, const float* interleaved, std::size_t frames) {
  const SampleTime cursor = readCursor_.load(std::memory_order_acquire);
  const SampleTime end = mediaTime + static_cast<SampleTime>(frames);
  if (cursor != kNever && end <= cursor) {
    bump(late_, 1);
    return PlayoutWrite::kLate;
  }
  // Frames must not overwrite slots the reader has yet to play: keep within one capacity
  // of the cursor (or of the newest frame before reading starts).
  const SampleTime horizon = cursor != kNever ? cursor : std::max(newest_.load(std::memory_order_relaxed), mediaTime);
  if (end > horizon + static_cast<SampleTime>(capacity_) && cursor != kNever) {
    bump(early_, 1);
    return PlayoutWrite::kTooEarly;
  }
  if (stamps_[static_cast<std::size_t>(mediaTime) & mask_].load(std::memory_order_relaxed) == mediaTime) {
    bump(duplicates_, 1);
    return PlayoutWrite::kDuplicate;
  }
  // The part the reader already passed is skipped; of a packet longer than the buffer only
  // the last capacity frames would survive, so only those are written.
  SampleTime first = cursor != kNever ? std::max(mediaTime, cursor) : mediaTime;
  first = std::max(first, end - static_cast<SampleTime>(capacity_));
  if (first < end) {
    const std::size_t n = static_cast<std::size_t>(end - first);
    const float* src = interleaved + static_cast<std::size_t>(first - mediaTime) * channels_;
    // Invalidate first so the reader never pairs an old stamp with new samples; then the
    // samples in at most two runs (the ring wraps once); then the stamps that publish them.
    for (SampleTime t = first; t < end; ++t) stamps_[static_cast<std::size_t>(t) & mask_].store(kNever, std::memory_order_release);
    const std::size_t start = static_cast<std::size_t>(first) & mask_;
    const std::size_t head = std::min(n, capacity_ - start);
    std::memcpy(&samples_[start * channels_], src, head * channels_ * sizeof(float));
    std::memcpy(&samples_[0], src + head * channels_, (n - head) * channels_ * sizeof(float));
    for (SampleTime t = first; t < end; ++t) stamps_[static_cast<std::size_t>(t) & mask_].store(t, std::memory_order_release);
  }
  bump(framesWritten_, frames);
  SampleTime newest = newest_.load(std::memory_order_relaxed);
  if (end - 1 > newest || newest == kNever) newest_.store(end - 1, std::memory_order_release);
  return PlayoutWrite::kStored;
}

bool PlayoutBuffer::allPresent(SampleTime t, std::size_t frames) const {
  for (std::size_t f = 0; f < frames; ++f) {
    const SampleTime want = t + static_cast<SampleTime>(f);
    if (stamps_[static_cast<std::size_t>(want) & mask_].load(std::memory_order_acquire) != want) return false;
  }
  return true;
}

void PlayoutBuffer::read(SampleTime t, float* out, std::size_t frames) {
  // The common case: every frame is there. Check every stamp, copy in at most two runs,
  // check every stamp again; a frame counts only if its stamp held across its copy, as
  // below. Anything else (a gap, a writer racing past) takes the frame-by-frame path.
  if (frames > 0 && frames <= capacity_ && allPresent(t, frames)) {
    const std::size_t start = static_cast<std::size_t>(t) & mask_;
    const std::size_t head = std::min(frames, capacity_ - start);
    std::memcpy(out, &samples_[start * channels_], head * channels_ * sizeof(float));
    std::memcpy(out + head * channels_, &samples_[0], (frames - head) * channels_ * sizeof(float));
    if (allPresent(t, frames)) {
      bump(played_, frames);
      playing_ = true;
      if (missingRunFrames_ > 0) {
        recordGlitch(missingRunStart_, missingRunFrames_);
        missingRunFrames_ = 0;
      }
      readCursor_.store(t + static_cast<SampleTime>(frames), std::memory_order_release);
      return;
    }
  }
  // Counted here and published once per call: one store per counter per read instead of
  // one per frame. Only this thread writes them (bump).
  std::uint64_t played = 0, missing = 0, priming = 0, glitches = 0;
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
      ++played;
      playing_ = true;
      if (missingRunFrames_ > 0) {
        recordGlitch(missingRunStart_, missingRunFrames_);
        missingRunFrames_ = 0;
      }
    } else {
      std::fill(dst, dst + channels_, 0.0f);
      if (!playing_) {
        // Silence before the first audio is priming, not a glitch.
        ++priming;
        continue;
      }
      ++missing;
      if (missingRunFrames_ == 0) {
        missingRunStart_ = want;
        ++glitches;
      }
      ++missingRunFrames_;
    }
  }
  if (played) bump(played_, played);
  if (missing) bump(missing_, missing);
  if (priming) bump(priming_, priming);
  if (glitches) bump(glitches_, glitches);
  readCursor_.store(t + static_cast<SampleTime>(frames), std::memory_order_release);
}

void PlayoutBuffer::recordGlitch(SampleTime start, std::int64_t frames) {
  const std::uint64_t head = glitchHead_.load(std::memory_order_relaxed);
  if (head - glitchTail_.load(std::memory_order_acquire) >= kGlitchLog) {
    bump(glitchOverflow_, 1);
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
