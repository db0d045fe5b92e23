#include "native/src/chunked_recording.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace aes67::native {

void ChunkedRecording::configure(const void* network, std::int64_t capacityFrames, std::size_t frameBytes, std::int64_t chunkFrames) {
  if (capacityFrames <= 0 || frameBytes == 0 || chunkFrames <= 0) throw std::invalid_argument("ChunkedRecording: capacity, frame size and chunk must be positive");
  capacityFrames_ = capacityFrames;
  frameBytes_ = frameBytes;
  chunkFrames_ = chunkFrames;
  chunkCount_ = (capacityFrames + chunkFrames - 1) / chunkFrames;
  chunkBytes_ = static_cast<std::size_t>(chunkFrames) * frameBytes;
  const std::size_t chunks = static_cast<std::size_t>(chunkCount_);
  chunks_.reserve(chunks * sizeof(std::uint32_t));
  own_.reserve(chunks * chunkBytes_);
  filled_.reserve(chunks * static_cast<std::size_t>(chunkFrames));
  store_ = ChunkStore::of(network, chunkBytes_);
  store_->grow(chunks);
  last_ = 0;
  privateCount_ = 0;
}

void ChunkedRecording::write(std::int64_t offset, const std::uint8_t* payload, std::int64_t frames) {
  auto* entries = reinterpret_cast<std::uint32_t*>(chunks_.data());
  std::memset(filled_.data() + offset, 1, static_cast<std::size_t>(frames));
  if (frames == chunkFrames_ && offset % chunkFrames_ == 0) {
    std::uint32_t& e = entries[offset / chunkFrames_];
    if (e != kPrivate) {
      const std::uint32_t id = store_->intern(payload, last_);
      if (id != 0) {
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
  visit(from, n, [&](std::int64_t f, const std::uint8_t* src, std::int64_t m, std::uint32_t) {
    std::uint8_t* out = bytes + static_cast<std::size_t>(f) * frameBytes_;
    const std::size_t size = static_cast<std::size_t>(m) * frameBytes_;
    if (src) {
      std::memcpy(out, src, size);
    } else {
      std::memset(out, 0, size);
    }
  });
  std::memcpy(filled, filled_.data() + from, static_cast<std::size_t>(n));
}

void ChunkedRecording::alter(std::int64_t frame, std::size_t byte, std::uint8_t mask) {
  const std::int64_t chunk = frame / chunkFrames_;
  makePrivate(chunk)[static_cast<std::size_t>(frame - chunk * chunkFrames_) * frameBytes_ + byte] ^= mask;
}

std::uint8_t* ChunkedRecording::makePrivate(std::int64_t chunk) {
  std::uint32_t& e = reinterpret_cast<std::uint32_t*>(chunks_.data())[chunk];
  std::uint8_t* own = own_.data() + static_cast<std::size_t>(chunk) * chunkBytes_;
  if (e == kPrivate) return own;
  // A chunk never written is zero in the fresh mapping already.
  if (e != kEmpty) std::memcpy(own, store_->copy(e), chunkBytes_);
  e = kPrivate;
  ++privateCount_;
  return own;
}

}  // namespace aes67::native
