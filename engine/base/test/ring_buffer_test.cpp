#include "engine/base/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace aes67 {
namespace {

TEST(FrameRingBuffer, RoundsCapacityUpToPowerOfTwo) {
  FrameRingBuffer ring(100, 2);
  EXPECT_EQ(ring.capacity(), 128u);
  EXPECT_EQ(ring.channels(), 2u);
  EXPECT_THROW(FrameRingBuffer(0, 2), std::invalid_argument);
  EXPECT_THROW(FrameRingBuffer(8, 0), std::invalid_argument);
}

TEST(FrameRingBuffer, KeepsOrderAcrossTheWrapAndStopsWhenFull) {
  FrameRingBuffer ring(8, 2);
  std::vector<float> in(2 * 6), out(2 * 6);
  float next = 0;
  float expected = 0;
  for (int round = 0; round < 20; ++round) {  // 20 x 6 frames through 8 slots wraps many times
    for (auto& v : in) v = next++;
    ASSERT_EQ(ring.push(in.data(), 6), 6u);
    EXPECT_EQ(ring.fill(), 6u);
    EXPECT_EQ(ring.push(in.data(), 6), 2u) << "only two frames of space were left";
    ASSERT_EQ(ring.pop(out.data(), 6), 6u);
    for (float v : out) EXPECT_EQ(v, expected++);
    ASSERT_EQ(ring.skip(2), 2u) << "the two frames pushed into the last free slots";
    EXPECT_EQ(ring.fill(), 0u);
    next = expected;
  }
  EXPECT_EQ(ring.pop(out.data(), 1), 0u) << "popping an empty ring returns nothing";
}

// peek shows in place what pop would copy out: the same frames, in one run or, across the
// wrap, two; they stay until skip passes them.
TEST(FrameRingBuffer, PeekShowsWhatPopWouldCopyInAtMostTwoRuns) {
  FrameRingBuffer peeked(8, 2), popped(8, 2);
  std::vector<float> in(2 * 5), out(2 * 5);
  float next = 0;
  int wrapped = 0;
  for (int round = 0; round < 24; ++round) {  // 5 frames a round through 8 slots
    for (auto& v : in) v = next++;
    ASSERT_EQ(peeked.push(in.data(), 5), 5u);
    ASSERT_EQ(popped.push(in.data(), 5), 5u);
    FrameRingBuffer::Run first, second;
    const std::size_t n = peeked.peek(5 + static_cast<std::size_t>(round) % 3, first, second);
    ASSERT_EQ(n, 5u) << "peek gives what is there, no more";
    ASSERT_EQ(first.frames + second.frames, n);
    if (second.frames > 0) ++wrapped;
    std::vector<float> seen(first.samples, first.samples + first.frames * 2);
    seen.insert(seen.end(), second.samples, second.samples + second.frames * 2);
    ASSERT_EQ(popped.pop(out.data(), 5), 5u);
    EXPECT_EQ(seen, out) << "round " << round;
    EXPECT_EQ(peeked.fill(), 5u) << "peek takes nothing";
    ASSERT_EQ(peeked.skip(5), 5u);
  }
  EXPECT_GT(wrapped, 5) << "the runs crossed the wrap";
}

// Two threads: every frame arrives once, in order, with both channels intact. Run it under
// the TSan preset (cmake --preset tsan) to check the memory ordering too.
TEST(FrameRingBuffer, TwoThreadsSeeEveryFrameOnceInOrder) {
  constexpr std::size_t kChannels = 3;
  constexpr std::uint64_t kFrames = 2'000'000;
  FrameRingBuffer ring(256, kChannels);
  std::thread producer([&] {
    std::uint64_t n = 0;
    float block[kChannels * 37];
    while (n < kFrames) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(37, kFrames - n));
      for (std::size_t f = 0; f < want; ++f)
        for (std::size_t c = 0; c < kChannels; ++c) block[f * kChannels + c] = static_cast<float>((n + f) % 1'000'003) + c * 0.25f;
      const std::size_t pushed = ring.push(block, want);
      n += pushed;
      if (pushed == 0) std::this_thread::yield();
    }
  });
  std::uint64_t got = 0;
  std::uint64_t errors = 0;
  float block[kChannels * 29];
  while (got < kFrames) {
    const std::size_t n = ring.pop(block, 29);
    for (std::size_t f = 0; f < n; ++f)
      for (std::size_t c = 0; c < kChannels; ++c)
        if (block[f * kChannels + c] != static_cast<float>((got + f) % 1'000'003) + c * 0.25f) ++errors;
    got += n;
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(got, kFrames);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(ring.fill(), 0u);
}

}  // namespace
}  // namespace aes67
