// The virtual network's sockets by destination key (address and port): one open-addressed
// table, linear probing, a power-of-two size, deletion by backward shift (no tombstones, so
// sockets opened and closed for hours leave nothing behind). A lookup is a multiply and,
// nearly always, one slot: std::unordered_map cost a 64-bit division and a node load per
// datagram (VirtualNetwork::deliver, bench/virtual-speed.ts). A slot keeps its sockets in a
// vector that is kept when the slot empties, so a steady run allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aes67 {

template <typename Socket>
class FlatSocketIndex {
 public:
  using Sockets = std::vector<Socket*>;

  // The sockets under `key`, or nullptr when none.
  const Sockets* find(std::uint64_t key) const {
    if (count_ == 0) return nullptr;
    for (std::size_t i = home(key);; i = next(i)) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.sockets;
    }
  }

  void add(std::uint64_t key, Socket* socket) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    for (; slots_[i].used; i = next(i)) {
      if (slots_[i].key == key) {
        slots_[i].sockets.push_back(socket);
        return;
      }
    }
    slots_[i].used = true;
    slots_[i].key = key;
    slots_[i].sockets.assign(1, socket);
    ++count_;
  }

  // Takes `socket` from under `key` (every time it is listed there); the key goes when its
  // last socket does.
  void remove(std::uint64_t key, Socket* socket) {
    if (count_ == 0) return;
    std::size_t i = home(key);
    for (; slots_[i].used && slots_[i].key != key; i = next(i)) {
    }
    if (!slots_[i].used) return;
    Sockets& list = slots_[i].sockets;
    list.erase(std::remove(list.begin(), list.end(), socket), list.end());
    if (!list.empty()) return;
    erase(i);
  }

  std::size_t keys() const { return count_; }
  std::size_t slots() const { return slots_.size(); }
  // The slot a key's probe starts at in a table of `slots` (a power of two, at least 2):
  // tests choose keys that collide, and runs that wrap past the table's end, with it.
  static std::size_t homeSlot(std::uint64_t key, std::size_t slots) { return slotOf(key, shiftFor(slots)); }

 private:
  struct Slot {
    std::uint64_t key = 0;
    bool used = false;
    Sockets sockets;
  };

  static constexpr std::uint64_t kMultiplier = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio
  // Multiplicative hashing: the top log2(slots) bits of key x kMultiplier.
  static int shiftFor(std::size_t slots) {
    int shift = 64;
    for (std::size_t n = slots; n > 1; n >>= 1) --shift;
    return shift;
  }
  static std::size_t slotOf(std::uint64_t key, int shift) { return static_cast<std::size_t>((key * kMultiplier) >> shift); }
  std::size_t home(std::uint64_t key) const { return slotOf(key, shift_); }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }

  // Backward-shift deletion: every later slot of the run that may sit at or before `hole`
  // moves into it, so no lookup ever meets a gap before its key.
  void erase(std::size_t hole) {
    slots_[hole].used = false;
    --count_;
    for (std::size_t i = next(hole); slots_[i].used; i = next(i)) {
      const std::size_t want = home(slots_[i].key);
      // Movable when its home is not in (hole, i] (cyclically).
      const bool stays = hole <= i ? (want > hole && want <= i) : (want > hole || want <= i);
      if (stays) continue;
      std::swap(slots_[hole], slots_[i]);  // the emptied slot keeps the moved one's vector
      hole = i;
    }
  }

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(std::max<std::size_t>(16, old.size() * 2));
    shift_ = shiftFor(slots_.size());
    count_ = 0;
    for (Slot& s : old) {
      if (!s.used) continue;
      std::size_t i = home(s.key);
      while (slots_[i].used) i = next(i);
      slots_[i].used = true;
      slots_[i].key = s.key;
      slots_[i].sockets.swap(s.sockets);
      ++count_;
    }
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
  int shift_ = 64;
};

}  // namespace aes67
