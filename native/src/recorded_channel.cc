#include "native/src/recorded_channel.hpp"

#include <algorithm>
#include <vector>

#include "native/src/pcm_compare.hpp"

namespace aes67::native {

namespace {

// Frames compared in one go, every channel (a few tens of KB: stays in the cache).
constexpr std::int64_t kSlice = 2048;

// What a whole stored chunk counted against a comparison's table from index k. Test
// signals repeat (a sine of whole hertz every second) and a recording keeps each repeat
// as the one stored copy: a chunk seen again at the same place in the table is not read again.
struct Remembered {
  std::uint32_t id = 0;
  std::int64_t k = -1;
  std::int64_t wrong = 0;
};
// Per comparison, direct-mapped by id (a collision only costs a count).
constexpr std::size_t kRemembered = 4096;

// Of frames [from, to) of comparison c's channel, how many differ from its table from
// index k (k advanced past them).
template <typename Decode>
std::int64_t countRange(const RecordedAudio& a, const ChannelComparison& c, Remembered* memo, std::int64_t from, std::int64_t to, std::int64_t& k, Decode decode) {
  const std::int64_t lo = std::clamp(from, std::int64_t{0}, a.frames);
  const std::int64_t hi = std::clamp(to, lo, a.frames);
  // Outside the recording: always differs (JavaScript's undefined is no value).
  std::int64_t wrong = (lo - from) + (to - hi);
  if (lo - from > 0) k = (k + (lo - from)) % c.period;
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(a.recording.frameBytes());
  const std::size_t at = static_cast<std::size_t>(c.channel) * static_cast<std::size_t>(a.width);
  if (hi > lo) {
    const std::int64_t whole = a.recording.chunkFrames();
    a.recording.visit(lo, hi - lo, [&](std::int64_t, const std::uint8_t* bytes, std::int64_t m, std::uint32_t id) {
      if (bytes && id != 0 && m == whole) {
        // A whole stored chunk: the same bytes against the same part of the table count the same.
        Remembered& r = memo[id & (kRemembered - 1)];
        if (r.id != id || r.k != k) {
          r.id = id;
          r.k = k;
          r.wrong = pcm::countDiffering(bytes + at, stride, m, c.table, c.period, k, decode);
        } else {
          k = (k + m) % c.period;
        }
        wrong += r.wrong;
        return;
      }
      if (bytes) {
        wrong += pcm::countDiffering(bytes + at, stride, m, c.table, c.period, k, decode);
        return;
      }
      // Nothing recorded: zeros.
      for (std::int64_t i = 0; i < m; ++i) {
        wrong += c.table[k] != 0.0f;
        if (++k == c.period) k = 0;
      }
    });
  }
  if (to - hi > 0) k = (k + (to - hi)) % c.period;
  return wrong;
}

template <typename Decode>
void countBySlices(const RecordedAudio& a, ChannelComparison* comparisons, std::size_t count, Decode decode) {
  std::int64_t lo = INT64_MAX;
  std::int64_t hi = INT64_MIN;
  std::vector<std::size_t> next(count, 0);
  std::vector<Remembered> memo(count * kRemembered);
  for (std::size_t i = 0; i < count; ++i) {
    ChannelComparison& c = comparisons[i];
    c.wrong = 0;
    if (c.rangeCount == 0) continue;
    lo = std::min(lo, c.ranges[0]);
    hi = std::max(hi, c.ranges[2 * c.rangeCount - 1]);
  }
  for (std::int64_t s0 = lo; s0 < hi; s0 += kSlice) {
    const std::int64_t s1 = std::min(hi, s0 + kSlice);
    for (std::size_t i = 0; i < count; ++i) {
      ChannelComparison& c = comparisons[i];
      for (; next[i] < c.rangeCount; ++next[i]) {
        const std::int64_t rFrom = c.ranges[2 * next[i]];
        const std::int64_t rTo = c.ranges[2 * next[i] + 1];
        const std::int64_t from = std::max(rFrom, s0);
        const std::int64_t to = std::min(rTo, s1);
        if (from < to) {
          std::int64_t k = ((c.phase + from - c.origin) % c.period + c.period) % c.period;
          c.wrong += countRange(a, c, memo.data() + i * kRemembered, from, to, k, decode);
        }
        if (rTo > s1) break;
      }
    }
  }
}

}  // namespace

void countDiffering(const RecordedAudio& a, ChannelComparison* comparisons, std::size_t count) {
  pcm::withDecoder(a.width, [&](auto decode) {
    countBySlices(a, comparisons, count, decode);
    return 0;
  });
}

void readChannel(const RecordedAudio& a, int channel, std::int64_t from, std::int64_t len, float* out) {
  const std::int64_t lo = std::max(from, std::int64_t{0});
  const std::int64_t hi = std::min(from + len, a.frames);
  std::fill(out, out + len, 0.0f);
  if (hi <= lo) return;
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(a.recording.frameBytes());
  const std::size_t at = static_cast<std::size_t>(channel) * static_cast<std::size_t>(a.width);
  float* o = out + (lo - from);
  pcm::withDecoder(a.width, [&](auto decode) {
    a.recording.visit(lo, hi - lo, [&](std::int64_t f, const std::uint8_t* bytes, std::int64_t m, std::uint32_t) {
      if (bytes) pcm::decodeChannel(bytes + at, stride, m, o + f, decode);
    });
    return 0;
  });
}

}  // namespace aes67::native
