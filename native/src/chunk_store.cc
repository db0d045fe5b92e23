#include "native/src/chunk_store.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

namespace aes67::native {

namespace {

// Past this many distinct chunks a store is full (bounds the ids).
constexpr std::size_t kMaxStored = std::size_t{1} << 24;

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// A fast 64-bit hash of a chunk's bytes (four independent lanes); a match is confirmed by
// comparing the bytes, so the hash only has to spread contents over the table.
std::uint64_t contentHash(const std::uint8_t* p, std::size_t n) {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;
  std::uint64_t a = n, b = ~n, c = k, d = n * k;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a = rotl((a ^ load64(p + i)) * k, 27);
    b = rotl((b ^ load64(p + i + 8)) * k, 29);
    c = rotl((c ^ load64(p + i + 16)) * k, 31);
    d = rotl((d ^ load64(p + i + 24)) * k, 33);
  }
  for (; i + 8 <= n; i += 8) a = rotl((a ^ load64(p + i)) * k, 27);
  for (; i < n; ++i) b = rotl((b ^ p[i]) * k, 29);
  std::uint64_t h = a ^ rotl(b, 17) ^ rotl(c, 31) ^ rotl(d, 47);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

}  // namespace

std::shared_ptr<ChunkStore> ChunkStore::of(const void* network, std::size_t chunkBytes) {
  thread_local std::map<std::pair<const void*, std::size_t>, std::weak_ptr<ChunkStore>> stores;
  for (auto it = stores.begin(); it != stores.end();) it = it->second.expired() ? stores.erase(it) : std::next(it);
  std::weak_ptr<ChunkStore>& slot = stores[{network, chunkBytes}];
  std::shared_ptr<ChunkStore> store = slot.lock();
  if (!store) {
    store = std::make_shared<ChunkStore>(chunkBytes);
    slot = store;
  }
  return store;
}

void ChunkStore::grow(std::size_t chunks) {
  chunks = std::min(chunks, kMaxStored - capacity_);
  if (chunks == 0) return;
  auto arena = std::make_unique<RecordingArena>();
  arena->reserve(chunks * chunkBytes_);
  segments_.push_back(std::move(arena));
  segmentChunks_.push_back(chunks);
  capacity_ += chunks;
  if (table_.empty()) table_.assign(1024, 0);
}

std::uint32_t ChunkStore::intern(const std::uint8_t* bytes, std::size_t& last) {
  const std::uint32_t id = find(bytes, last);
  if (id == 0) return 0;
  if (last != 0) successors_[last - 1] = id;
  last = id;
  return id;
}

std::uint32_t ChunkStore::find(const std::uint8_t* bytes, std::size_t last) {
  if (last != 0) {
    const std::uint32_t successor = successors_[last - 1];
    if (successor != 0 && std::memcmp(copies_[successor - 1], bytes, chunkBytes_) == 0) return successor;
  }
  if (last < copies_.size() && std::memcmp(copies_[last], bytes, chunkBytes_) == 0) return static_cast<std::uint32_t>(last + 1);
  ++hashed_;
  const std::uint64_t h = contentHash(bytes, chunkBytes_);
  const std::size_t mask = table_.size() - 1;
  std::size_t slot = static_cast<std::size_t>(h) & mask;
  for (; table_[slot] != 0; slot = (slot + 1) & mask) {
    const std::uint32_t id = table_[slot];
    if (hashes_[id - 1] == h && std::memcmp(copies_[id - 1], bytes, chunkBytes_) == 0) return id;
  }
  if (copies_.size() == capacity_) return 0;
  if (used_ == segmentChunks_[segment_]) {
    ++segment_;
    used_ = 0;
  }
  std::uint8_t* copy = segments_[segment_]->data() + used_++ * chunkBytes_;
  std::memcpy(copy, bytes, chunkBytes_);
  copies_.push_back(copy);
  hashes_.push_back(h);
  successors_.push_back(0);
  const auto id = static_cast<std::uint32_t>(copies_.size());
  table_[slot] = id;
  if (copies_.size() * 2 > table_.size()) growTable();
  return id;
}

void ChunkStore::growTable() {
  table_.assign(table_.size() * 2, 0);
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = 0; i < hashes_.size(); ++i) {
    std::size_t slot = static_cast<std::size_t>(hashes_[i]) & mask;
    while (table_[slot] != 0) slot = (slot + 1) & mask;
    table_[slot] = static_cast<std::uint32_t>(i + 1);
  }
}

}  // namespace aes67::native
