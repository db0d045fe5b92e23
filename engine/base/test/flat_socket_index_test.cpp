// FlatSocketIndex against std::unordered_map of vectors (what VirtualNetwork used before):
// the same sockets in the same order under every key after every operation, through growth
// and backward-shift deletions, with keys chosen to collide.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "engine/base/flat_socket_index.hpp"

namespace aes67 {
namespace {

struct Socket {
  int id;
};

using Reference = std::unordered_map<std::uint64_t, std::vector<Socket*>>;

void expectSame(const FlatSocketIndex<Socket>& index, const Reference& reference, const std::vector<std::uint64_t>& keys) {
  for (const std::uint64_t key : keys) {
    const auto* got = index.find(key);
    const auto it = reference.find(key);
    if (it == reference.end()) {
      EXPECT_EQ(got, nullptr) << "key " << key;
    } else {
      ASSERT_NE(got, nullptr) << "key " << key;
      EXPECT_EQ(*got, it->second) << "key " << key;
    }
  }
  EXPECT_EQ(index.keys(), reference.size());
}

TEST(FlatSocketIndex, MatchesAnUnorderedMapThroughRandomAddsAndRemoves) {
  // Few sockets, so keys empty (and leave the table) often.
  std::vector<Socket> sockets(3);
  for (int i = 0; i < 3; ++i) sockets[static_cast<std::size_t>(i)].id = i;
  // Keys as the network makes them (address << 16 | port), few enough to collide often.
  std::vector<std::uint64_t> keys;
  for (std::uint64_t a = 0; a < 150; ++a) keys.push_back(((0xEF430900ULL + a) << 16) | 5004);
  for (std::uint64_t p = 0; p < 150; ++p) keys.push_back((0x0A430301ULL << 16) | (49152 + p));
  std::mt19937 rng(7);
  FlatSocketIndex<Socket> index;
  Reference reference;
  for (int step = 0; step < 100000; ++step) {
    const std::uint64_t key = keys[rng() % keys.size()];
    Socket* socket = &sockets[rng() % sockets.size()];
    if (rng() % 2 == 0) {
      index.add(key, socket);
      reference[key].push_back(socket);
    } else {
      index.remove(key, socket);
      auto it = reference.find(key);
      if (it != reference.end()) {
        auto& list = it->second;
        list.erase(std::remove(list.begin(), list.end(), socket), list.end());
        if (list.empty()) reference.erase(it);
      }
    }
    if (step % 101 == 0) expectSame(index, reference, keys);
  }
  expectSame(index, reference, keys);
}

TEST(FlatSocketIndex, EmptiesCompletelyAndFindsNothingAfterwards) {
  Socket a{1}, b{2};
  FlatSocketIndex<Socket> index;
  EXPECT_EQ(index.find(5), nullptr);
  for (std::uint64_t k = 0; k < 100; ++k) index.add(k, k % 2 ? &a : &b);
  EXPECT_EQ(index.keys(), 100u);
  for (std::uint64_t k = 0; k < 100; ++k) index.remove(k, k % 2 ? &a : &b);
  EXPECT_EQ(index.keys(), 0u);
  for (std::uint64_t k = 0; k < 100; ++k) EXPECT_EQ(index.find(k), nullptr);
  index.remove(3, &a);  // nothing there: no effect
  index.add(3, &a);
  ASSERT_NE(index.find(3), nullptr);
  EXPECT_EQ(index.find(3)->size(), 1u);
}

TEST(FlatSocketIndex, KeepsEveryKeyFindableWhenARunWrappingPastTheEndIsShiftedBack) {
  // Seven keys in the first table (16 slots): one whose probe starts at the last slot but
  // one, two at the last, two at the first, two at the second, so runs wrap past the end
  // (and a key at slot 0 belongs to slot 15: it must not move back before its home); then
  // each removed in turn from a fresh table, every other key checked after each removal.
  std::vector<std::uint64_t> last, first, second;
  for (std::uint64_t k = 1; last.size() < 3 || first.size() < 2 || second.size() < 2; ++k) {
    const std::size_t home = FlatSocketIndex<Socket>::homeSlot(k, 16);
    if (home == 14 && last.empty()) last.push_back(k);
    if (home == 15 && !last.empty() && last.size() < 3) last.push_back(k);
    if (home == 0 && first.size() < 2) first.push_back(k);
    if (home == 1 && second.size() < 2) second.push_back(k);
  }
  std::vector<std::uint64_t> keys = last;
  keys.insert(keys.end(), first.begin(), first.end());
  keys.insert(keys.end(), second.begin(), second.end());
  Socket s{1};
  for (std::size_t gone = 0; gone < keys.size(); ++gone) {
    FlatSocketIndex<Socket> index;
    Reference reference;
    for (const std::uint64_t k : keys) {
      index.add(k, &s);
      reference[k].push_back(&s);
    }
    ASSERT_EQ(index.slots(), 16u);
    index.remove(keys[gone], &s);
    reference.erase(keys[gone]);
    expectSame(index, reference, keys);
  }
}

}  // namespace
}  // namespace aes67
