// A fixed-capacity single-producer single-consumer ring of plain records: how the IO thread
// and the network side hand their time stamps to the lab without allocating or locking.
// When full, the newest record is dropped and counted (the lab drains often enough; a
// dropped stamp never stalls audio).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>

namespace aes67 {

template <typename T>
class StampRing {
  static_assert(std::is_trivially_copyable_v<T>, "stamps are plain records");

 public:
  explicit StampRing(std::size_t capacity) : capacity_(capacity), slots_(std::make_unique<T[]>(capacity)) {
    if (capacity == 0) throw std::invalid_argument("StampRing needs a capacity > 0");
  }
  StampRing(const StampRing&) = delete;
  StampRing& operator=(const StampRing&) = delete;

  // Producer. Returns false (and counts) when full.
  bool push(const T& stamp) {
    const std::uint64_t w = written_.load(std::memory_order_relaxed);
    if (w - read_.load(std::memory_order_acquire) >= capacity_) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return false;
    }
    slots_[writeSlot_] = stamp;
    if (++writeSlot_ == capacity_) writeSlot_ = 0;
    written_.store(w + 1, std::memory_order_release);
    return true;
  }
  // Consumer.
  bool pop(T& out) {
    const std::uint64_t r = read_.load(std::memory_order_relaxed);
    if (r == written_.load(std::memory_order_acquire)) return false;
    out = slots_[readSlot_];
    if (++readSlot_ == capacity_) readSlot_ = 0;
    read_.store(r + 1, std::memory_order_release);
    return true;
  }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::unique_ptr<T[]> slots_;
  // The counts say full or empty; each side's slot follows its count wrapped at the capacity
  // (kept apart from it: a modulo per stamp was a 64-bit division, bench/virtual-speed.ts).
  alignas(64) std::atomic<std::uint64_t> written_{0};
  std::size_t writeSlot_ = 0;  // producer's own
  alignas(64) std::atomic<std::uint64_t> read_{0};
  std::size_t readSlot_ = 0;  // consumer's own
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace aes67
