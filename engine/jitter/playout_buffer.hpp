// Playout by media-clock time. A packet's frames are placed at the media time of their RTP
// timestamp; the device reads the frames for media time t = media_now - link_offset. So
// audio plays when the network-wide clock says, not "when it arrived": late packets are
// dropped and counted, missing audio plays as silence and is recorded as a glitch with
// its sample position, duplicates are dropped, reordering inside the window heals itself.
//
// Threads: one writer (network) and one reader (IO cycle) may run concurrently. Each frame
// slot carries the media time it holds (an atomic stamp written after the samples), so the
// reader never sees a half-written frame and needs no lock. Nothing allocates after
// construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/base/time.hpp"

namespace aes67 {

struct PlayoutConfig {
  std::size_t channels = 2;
  std::size_t capacityFrames = 8192;  // max depth; rounded up to a power of two
  SampleTime linkOffset = 48;         // target latency in samples (AES67 default 1 ms at 48 kHz)
};

enum class PlayoutWrite : std::uint8_t { kStored, kLate, kTooEarly, kDuplicate };

// A run of frames that played as silence because no packet held them.
struct PlayoutGlitch {
  SampleTime start = 0;   // media time of the first missing frame
  std::int64_t frames = 0;
};

struct PlayoutStats {
  std::uint64_t framesWritten = 0;
  std::uint64_t framesPlayed = 0;     // frames read that held audio
  std::uint64_t framesMissing = 0;    // frames read as silence after audio had started
  std::uint64_t framesPriming = 0;    // silence read before the first audio arrived
  std::uint64_t glitches = 0;         // runs of missing frames (counted when a run starts)
  std::uint64_t latePackets = 0;      // arrived after their frames were read
  std::uint64_t earlyPackets = 0;     // beyond the buffer's depth
  std::uint64_t duplicatePackets = 0;
  std::uint64_t glitchLogOverflow = 0;  // glitches not kept in the log (counted above)
};

class PlayoutBuffer {
 public:
  explicit PlayoutBuffer(const PlayoutConfig& config);
  // Throws std::invalid_argument as the constructor would for `config` (without allocating).
  static void check(const PlayoutConfig& config);
  PlayoutBuffer(const PlayoutBuffer&) = delete;
  PlayoutBuffer& operator=(const PlayoutBuffer&) = delete;

  // Writer thread: frames [mediaTime, mediaTime + frames) of interleaved audio.
  PlayoutWrite write(SampleTime mediaTime, const float* interleaved, std::size_t frames);

  // Reader thread: the frames for media time [t, t + frames), silence where missing.
  void read(SampleTime t, float* interleaved, std::size_t frames);
  // Reader thread: read(mediaNow - linkOffset, ...).
  void readAt(SampleTime mediaNow, float* interleaved, std::size_t frames) {
    read(mediaNow - linkOffset_, interleaved, frames);
  }

  // Media time the reader will read next (the first frame not yet played), or INT64_MIN
  // before the first read. The writer uses it to unwrap RTP timestamps.
  SampleTime readCursor() const { return readCursor_.load(std::memory_order_acquire); }
  // Frames buffered ahead of the reader: newest written frame + 1 - read cursor (>= 0).
  std::int64_t fillFrames() const;
  SampleTime newestWritten() const { return newest_.load(std::memory_order_acquire); }

  SampleTime linkOffset() const { return linkOffset_; }
  void setLinkOffset(SampleTime offset) { linkOffset_ = offset; }
  std::size_t channels() const { return channels_; }
  std::size_t capacityFrames() const { return capacity_; }

  // Counters (writer-side and reader-side fields are each written by one thread).
  PlayoutStats stats() const;
  // Glitch log: reader thread appends, any single consumer thread drains (SPSC).
  bool popGlitch(PlayoutGlitch& out);

 private:
  void recordGlitch(SampleTime start, std::int64_t frames);
  // Reader: does every slot of [t, t + frames) hold its own media time?
  bool allPresent(SampleTime t, std::size_t frames) const;

  std::size_t channels_;
  std::size_t capacity_;
  std::size_t mask_;
  SampleTime linkOffset_;
  std::unique_ptr<float[]> samples_;
  std::unique_ptr<std::atomic<SampleTime>[]> stamps_;
  std::atomic<SampleTime> readCursor_;
  std::atomic<SampleTime> newest_;
  // Writer-side counters.
  std::atomic<std::uint64_t> framesWritten_{0}, late_{0}, early_{0}, duplicates_{0};
  // Reader-side counters.
  std::atomic<std::uint64_t> played_{0}, missing_{0}, priming_{0}, glitches_{0}, glitchOverflow_{0};
  bool playing_ = false;  // reader only
  SampleTime missingRunStart_ = 0;
  std::int64_t missingRunFrames_ = 0;
  static constexpr std::size_t kGlitchLog = 256;
  PlayoutGlitch glitchLog_[kGlitchLog];
  std::atomic<std::uint64_t> glitchHead_{0}, glitchTail_{0};
};

}  // namespace aes67
