// Distinct chunks of recorded audio, kept once and shared by the lab receivers of one
// virtual network (chunked_recording.hpp). Receivers of the same shape on one network often
// record the same payloads: a scenario's senders play the same default sines, and the
// device returns each stream unchanged (bench/virtual-speed.ts: 7 of its 8 returned streams
// carry the very same payloads), so each distinct chunk is stored once for all of them.
// Bounded: a recording that joins adds room for as many chunks as it can hold itself.
// Per thread, like the senders' payload caches (periodic_payloads.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "native/src/recording_arena.hpp"

namespace aes67::native {

class ChunkStore {
 public:
  explicit ChunkStore(std::size_t chunkBytes) : chunkBytes_(chunkBytes) {}
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  // The store this thread's recordings on `network` share for chunks of `chunkBytes` (a new
  // one when none is alive).
  static std::shared_ptr<ChunkStore> of(const void* network, std::size_t chunkBytes);

  // Room for `chunks` more distinct chunks (a joining recording's own capacity).
  void grow(std::size_t chunks);
  // The id (index + 1) of the stored copy of these chunkBytes bytes, stored now if new; 0
  // when the store is full. `last` is the id the caller's previous chunk had (0: none), set
  // to this one's. A repeating signal repeats in order, so before hashing two guesses are
  // compared: the chunk that followed `last` when it was last interned (what a recording
  // that stored it, or any later one, saw next: holds when the store's ids interleave
  // several streams' chunks, bench/virtual-speed.ts's probe stream among the sines), then
  // the id after `last`. A guess only saves the hash; a match is always the bytes compared.
  std::uint32_t intern(const std::uint8_t* bytes, std::size_t& last);
  const std::uint8_t* copy(std::uint32_t id) const { return copies_[id - 1]; }
  std::size_t size() const { return copies_.size(); }
  // Lookups neither guess answered (each hashed the chunk).
  std::uint64_t hashedLookups() const { return hashed_; }

 private:
  // intern's lookup (storing the chunk when new), without the succession bookkeeping.
  std::uint32_t find(const std::uint8_t* bytes, std::size_t last);
  void growTable();

  std::size_t chunkBytes_;
  std::size_t capacity_ = 0;
  std::vector<std::unique_ptr<RecordingArena>> segments_;  // one per recording that joined
  std::vector<std::size_t> segmentChunks_;
  std::size_t segment_ = 0;  // the segment being filled
  std::size_t used_ = 0;     // chunks in it
  std::vector<std::uint8_t*> copies_;   // per id - 1
  std::vector<std::uint64_t> hashes_;   // per id - 1
  std::vector<std::uint32_t> successors_;  // per id - 1: the id interned after it, or 0
  std::uint64_t hashed_ = 0;
  std::vector<std::uint32_t> table_;    // open addressing: id, or 0
};

}  // namespace aes67::native
