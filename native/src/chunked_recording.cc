#include "native/src/chunked_recording.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67::native {

namespace {

// Past this many distinct contents a recording copies privately (bounds the index).
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

void ChunkedRecording::configure(std::int64_t capacityFrames, std::size_t frameBytes, std::int64_t chunkFrames) {
  if (capacityFrames <= 0 || frameBytes == 0 || chunkFrames <= 0) throw std::invalid_argument("ChunkedRecording: capacity, frame size and chunk must be positive");
  capacityFrames_ = capacityFrames;
  frameBytes_ = frameBytes;
  chunkFrames_ = chunkFrames;
  chunkCount_ = (capacityFrames + chunkFrames - 1) / chunkFrames;
  chunkBytes_ = static_cast<std::size_t>(chunkFrames) * frameBytes;
  const std::size_t chunks = static_cast<std::size_t>(chunkCount_);
  chunks_.reserve(chunks * sizeof(std::uint32_t));
  store_.reserve(std::min(chunks, kMaxStored) * chunkBytes_);
  own_.reserve(chunks * chunkBytes_);
  filled_.reserve(chunks * static_cast<std::size_t>(chunkFrames));
  stored_ = 0;
  next_ = 0;
  privateCount_ = 0;
  hashes_.clear();
  table_.assign(1024, 0);
}

void ChunkedRecording::write(std::int64_t offset, const std::uint8_t* payload, std::int64_t frames) {
  auto* entries = reinterpret_cast<std::uint32_t*>(chunks_.data());
  std::memset(filled_.data() + offset, 1, static_cast<std::size_t>(frames));
  if (frames == chunkFrames_ && offset % chunkFrames_ == 0) {
    std::uint32_t& e = entries[offset / chunkFrames_];
    if (e != kPrivate) {
      const std::uint32_t id = intern(payload);
      if (id != kPrivate) {
        e = id;
        return;
      }
    }
  }
  for (std::int64_t f = 0; f < frames;) {
    const std::int64_t frame = offset + f;
    const std::int64_t chunk = frame / chunkFrames_;
    const std::int64_t i = frame - chunk * chunkFrames_;
    const std::int64_t n = std::min(frames - f, chunkFrames_ - i);
    std::uint8_t* own = makePrivate(chunk);
    std::memcpy(own + static_cast<std::size_t>(i) * frameBytes_, payload + static_cast<std::size_t>(f) * frameBytes_, static_cast<std::size_t>(n) * frameBytes_);
    f += n;
  }
}

void ChunkedRecording::read(std::int64_t from, std::int64_t n, std::uint8_t* bytes, std::uint8_t* filled) const {
  const auto* entries = reinterpret_cast<const std::uint32_t*>(chunks_.data());
  for (std::int64_t f = 0; f < n;) {
    const std::int64_t frame = from + f;
    const std::int64_t chunk = frame / chunkFrames_;
    const std::int64_t i = frame - chunk * chunkFrames_;
    const std::int64_t m = std::min(n - f, chunkFrames_ - i);
    const std::uint32_t e = entries[chunk];
    std::uint8_t* out = bytes + static_cast<std::size_t>(f) * frameBytes_;
    const std::size_t size = static_cast<std::size_t>(m) * frameBytes_;
    if (e == kEmpty) {
      std::memset(out, 0, size);
    } else {
      const std::uint8_t* src = e == kPrivate ? own_.data() + static_cast<std::size_t>(chunk) * chunkBytes_ : store_.data() + (e - 1) * chunkBytes_;
      std::memcpy(out, src + static_cast<std::size_t>(i) * frameBytes_, size);
    }
    f += m;
  }
  std::memcpy(filled, filled_.data() + from, static_cast<std::size_t>(n));
}

std::uint32_t ChunkedRecording::intern(const std::uint8_t* bytes) {
  // A repeating signal repeats in order: try the copy after the last one matched first (no hash).
  if (next_ < stored_ && std::memcmp(store_.data() + next_ * chunkBytes_, bytes, chunkBytes_) == 0) return static_cast<std::uint32_t>(++next_);
  const std::uint64_t h = contentHash(bytes, chunkBytes_);
  const std::size_t mask = table_.size() - 1;
  std::size_t slot = static_cast<std::size_t>(h) & mask;
  for (; table_[slot] != 0; slot = (slot + 1) & mask) {
    const std::uint32_t id = table_[slot];
    if (hashes_[id - 1] == h && std::memcmp(store_.data() + (id - 1) * chunkBytes_, bytes, chunkBytes_) == 0) {
      next_ = id;
      return id;
    }
  }
  if (stored_ == std::min(static_cast<std::size_t>(chunkCount_), kMaxStored)) return kPrivate;
  std::memcpy(store_.data() + stored_ * chunkBytes_, bytes, chunkBytes_);
  hashes_.push_back(h);
  const auto id = static_cast<std::uint32_t>(++stored_);
  table_[slot] = id;
  next_ = stored_;
  if (stored_ * 2 > table_.size()) growTable();
  return id;
}

std::uint8_t* ChunkedRecording::makePrivate(std::int64_t chunk) {
  std::uint32_t& e = reinterpret_cast<std::uint32_t*>(chunks_.data())[chunk];
  std::uint8_t* own = own_.data() + static_cast<std::size_t>(chunk) * chunkBytes_;
  if (e == kPrivate) return own;
  // A chunk never written is zero in the fresh mapping already.
  if (e != kEmpty) std::memcpy(own, store_.data() + (e - 1) * chunkBytes_, chunkBytes_);
  e = kPrivate;
  ++privateCount_;
  return own;
}

void ChunkedRecording::growTable() {
  table_.assign(table_.size() * 2, 0);
  const std::size_t mask = table_.size() - 1;
  for (std::size_t id = 0; id < stored_; ++id) {
    std::size_t slot = static_cast<std::size_t>(hashes_[id]) & mask;
    while (table_[slot] != 0) slot = (slot + 1) & mask;
    table_[slot] = static_cast<std::uint32_t>(id + 1);
  }
}

}  // namespace aes67::native
