// A lab receiver's recording of a stream's payload bytes, addressed by frame, that keeps each
// distinct chunk of audio once. A virtual-time run records ~9 MB a second of virtual time
// (8 streams x 8 channels of L24), and writing it into fresh memory (page faults, zeroing,
// the copy) was ~40 % of bench/virtual-speed.ts's run. Test signals repeat: a sine of whole
// hertz repeats every second, silence every packet, and the device returns them unchanged,
// so most packets carry a payload already recorded. A packet that fills one chunk exactly
// (the chunk is the first packet's frame count, aligned to the first frame) is looked up by
// its content and the chunk points at the one stored copy (in a store the recordings on one
// network share: chunk_store.hpp); any other write (a packet of
// another size or alignment, a reordered overlap) makes the chunks it touches private and is
// copied in place. What a read returns is byte for byte what copying every packet in order
// would have left (lab/peers/native-aes67.test.ts checks it against the TypeScript receiver).
// Memory is bounded by the capacity: at most one stored copy and one private copy per chunk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "native/src/chunk_store.hpp"
#include "native/src/recording_arena.hpp"

namespace aes67::native {

class ChunkedRecording {
 public:
  // `capacityFrames` frames of `frameBytes` each, in chunks of `chunkFrames` (> 0) frames,
  // sharing stored chunks with the other recordings on `network`. Reserves address space
  // only; throws std::bad_alloc.
  void configure(const void* network, std::int64_t capacityFrames, std::size_t frameBytes, std::int64_t chunkFrames);
  bool configured() const { return chunkFrames_ > 0; }

  // Writes frames [offset, offset + frames) (inside the capacity: the caller checks).
  void write(std::int64_t offset, const std::uint8_t* payload, std::int64_t frames);
  // Copies frames [from, from + n) (inside the capacity) into `bytes` (zeros where nothing
  // was written) and `filled` (a byte per frame: 1 where written).
  void read(std::int64_t from, std::int64_t n, std::uint8_t* bytes, std::uint8_t* filled) const;
  // Frames [from, from + n) (inside the capacity) where they are held, run by run within a
  // chunk: visit(f, bytes, m, id) for frames [from + f, from + f + m), `bytes` at the first
  // of them, or nullptr where nothing was written (zeros); `id` names the stored copy the
  // chunk points at (chunks with one id hold the same bytes), 0 for a private or empty one.
  template <typename Visit>
  void visit(std::int64_t from, std::int64_t n, Visit visit) const {
    const auto* entries = reinterpret_cast<const std::uint32_t*>(chunks_.data());
    for (std::int64_t f = 0; f < n;) {
      const std::int64_t frame = from + f;
      const std::int64_t chunk = frame / chunkFrames_;
      const std::int64_t i = frame - chunk * chunkFrames_;
      const std::int64_t m = std::min(n - f, chunkFrames_ - i);
      const std::uint32_t e = entries[chunk];
      const std::uint8_t* src = e == kEmpty ? nullptr : (e == kPrivate ? own_.data() + static_cast<std::size_t>(chunk) * chunkBytes_ : store_->copy(e));
      visit(f, src ? src + static_cast<std::size_t>(i) * frameBytes_ : nullptr, m, e == kPrivate ? 0 : e);
      f += m;
    }
  }
  // Flips the bits `mask` of byte `byte` of frame `frame` (inside the capacity) in this
  // recording alone: recorded audio that differs from what was sent (tests of the measurement).
  void alter(std::int64_t frame, std::size_t byte, std::uint8_t mask);
  std::size_t frameBytes() const { return frameBytes_; }
  std::int64_t chunkFrames() const { return chunkFrames_; }

  // Distinct chunk contents in the store this recording shares (with every chunk, and every
  // recording on its network, that carries them).
  std::size_t storedChunks() const { return store_ ? store_->size() : 0; }
  // Lookups in that store that hashed a chunk (its guesses of what follows missed).
  std::uint64_t hashedLookups() const { return store_ ? store_->hashedLookups() : 0; }
  // Chunks written as private copies (the packets that did not fill one chunk exactly).
  std::size_t privateChunks() const { return privateCount_; }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kPrivate = 0xffffffffu;

  // The chunk's own copy, made from what it held.
  std::uint8_t* makePrivate(std::int64_t chunk);

  std::int64_t capacityFrames_ = 0;
  std::int64_t chunkFrames_ = 0;
  std::int64_t chunkCount_ = 0;
  std::size_t frameBytes_ = 0;
  std::size_t chunkBytes_ = 0;
  RecordingArena chunks_;  // per chunk: kEmpty, a stored copy's id, or kPrivate
  RecordingArena own_;     // per chunk, its own copy once it has one
  RecordingArena filled_;  // a byte per frame
  std::shared_ptr<ChunkStore> store_;
  std::size_t last_ = 0;  // the id of the stored copy this recording last matched or stored (0: none)
  std::size_t privateCount_ = 0;
};

}  // namespace aes67::native
