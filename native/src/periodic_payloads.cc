#include "native/src/periodic_payloads.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

namespace aes67::native {

namespace {

constexpr std::size_t kSlack = 4;                      // readable bytes past a table's last sample
constexpr std::size_t kMaxCacheBytes = 32u << 20;      // distinct payloads kept per cache
constexpr std::int64_t kMaxCommonPeriod = 1 << 24;     // frames: beyond it, never cached

// A fast content hash (tables are tens of kilobytes; equal hashes are confirmed by memcmp).
std::uint64_t hashBytes(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}

std::int64_t positiveMod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

}  // namespace

std::shared_ptr<const EncodedTable> internTable(const std::uint8_t* data, std::size_t size, int width) {
  if ((width != 2 && width != 3 && width != 4) || size == 0 || size % static_cast<std::size_t>(width) != 0) {
    throw std::invalid_argument("an encoded table must be a non-empty run of whole 2-, 3- or 4-byte samples");
  }
  // The lab hands the same table (the same bytes at the same address) to every sender that
  // plays it: found by address first, confirmed by content (an address can be reused).
  thread_local std::map<std::pair<const std::uint8_t*, std::size_t>, std::weak_ptr<const EncodedTable>> byAddress;
  const auto at = std::make_pair(data, size);
  auto hit = byAddress.find(at);
  if (hit != byAddress.end()) {
    std::shared_ptr<const EncodedTable> t = hit->second.lock();
    if (t && t->width == width && std::memcmp(t->bytes.data(), data, size) == 0) return t;
    byAddress.erase(hit);
  }
  for (auto i = byAddress.begin(); i != byAddress.end();) i = i->second.expired() ? byAddress.erase(i) : std::next(i);
  thread_local std::unordered_map<std::uint64_t, std::vector<std::weak_ptr<const EncodedTable>>> known;
  const std::uint64_t h = hashBytes(data, size) ^ static_cast<std::uint64_t>(width);
  std::vector<std::weak_ptr<const EncodedTable>>& same = known[h];
  for (std::size_t i = 0; i < same.size();) {
    std::shared_ptr<const EncodedTable> t = same[i].lock();
    if (!t) {
      same.erase(same.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (t->width == width && t->bytes.size() == size + kSlack && std::memcmp(t->bytes.data(), data, size) == 0) {
      byAddress[at] = t;
      return t;
    }
    ++i;
  }
  auto t = std::make_shared<EncodedTable>();
  t->bytes.assign(data, data + size);
  t->bytes.resize(size + kSlack, 0);
  t->period = static_cast<std::int64_t>(size) / width;
  t->width = width;
  same.push_back(t);
  byAddress[at] = t;
  return t;
}

std::shared_ptr<PeriodicPayloads> PeriodicPayloads::of(const std::vector<std::shared_ptr<const EncodedTable>>& tables, int width, std::int64_t frames) {
  // Keyed by the tables themselves (interned: equal content, same pointer while alive).
  std::vector<std::uintptr_t> key{static_cast<std::uintptr_t>(width), static_cast<std::uintptr_t>(frames)};
  for (const auto& t : tables) key.push_back(reinterpret_cast<std::uintptr_t>(t.get()));
  thread_local std::map<std::vector<std::uintptr_t>, std::weak_ptr<PeriodicPayloads>> known;
  auto it = known.find(key);
  if (it != known.end()) {
    if (std::shared_ptr<PeriodicPayloads> p = it->second.lock()) return p;
  }
  for (auto i = known.begin(); i != known.end();) i = i->second.expired() ? known.erase(i) : std::next(i);
  auto p = std::make_shared<PeriodicPayloads>(tables, width, frames);
  known[key] = p;
  return p;
}

PeriodicPayloads::PeriodicPayloads(std::vector<std::shared_ptr<const EncodedTable>> tables, int width, std::int64_t frames)
    : tables_(std::move(tables)), width_(width), frames_(frames) {
  if (tables_.empty() || frames_ < 1) throw std::invalid_argument("PeriodicPayloads needs a table per channel and frames >= 1");
  for (const auto& t : tables_) {
    if (t->width != width_) throw std::invalid_argument("PeriodicPayloads: every table must have the stream's sample width");
  }
  bytes_ = static_cast<std::size_t>(frames_) * tables_.size() * static_cast<std::size_t>(width_);
  // The channels whose periods together repeat soon enough are cached (in channel order,
  // each while the cache stays within its bounds); the rest, if any (a probe's MLS among
  // sines), are rendered over a copy of the cached part per packet.
  std::int64_t common = 1;
  for (std::size_t c = 0; c < tables_.size(); ++c) {
    const std::int64_t p = tables_[c]->period;
    const std::int64_t candidate = common / std::gcd(common, p) * p;
    const bool fits = candidate <= kMaxCommonPeriod && static_cast<std::size_t>(candidate / std::gcd(candidate, frames_)) * bytes_ <= kMaxCacheBytes;
    if (fits) {
      common = candidate;
      cachedChannels_.push_back(c);
    } else {
      renderedChannels_.push_back(c);
    }
  }
  if (cachedChannels_.empty()) return;  // nothing repeats soon: every payload rendered
  cachePeriod_ = common;
  cacheStep_ = std::gcd(common, frames_);
  const std::size_t slots = static_cast<std::size_t>(common / cacheStep_);
  slotBytes_ = bytes_ + 1;
  cache_.reset(new std::uint8_t[slots * slotBytes_]);  // not zeroed: each slot is rendered before use
  rendered_.assign(slots, 0);
}

const std::uint8_t* PeriodicPayloads::payload(std::int64_t first, std::uint8_t* scratch) {
  if (cachePeriod_ == 0) {
    render(first, scratch, allChannels(), false);
    return scratch;
  }
  // Packets start on multiples of frames_, so first mod the common period is a multiple of the step.
  const std::size_t slot = static_cast<std::size_t>(positiveMod(first, cachePeriod_) / cacheStep_);
  std::uint8_t* p = cache_.get() + slot * slotBytes_;
  if (!rendered_[slot]) {
    render(first, p, cachedChannels_, false);
    rendered_[slot] = 1;
  }
  if (renderedChannels_.empty()) return p;
  std::memcpy(scratch, p, bytes_);
  render(first, scratch, renderedChannels_, true);
  return scratch;
}

const std::vector<std::size_t>& PeriodicPayloads::allChannels() {
  if (all_.empty()) {
    for (std::size_t c = 0; c < tables_.size(); ++c) all_.push_back(c);
  }
  return all_;
}

void PeriodicPayloads::render(std::int64_t first, std::uint8_t* out, const std::vector<std::size_t>& which, bool exact) const {
  // Channel by channel, in runs that do not wrap the channel's table, with the cursor and
  // table in registers (a loop through vectors a byte at a time was 5 ns a sample).
  const std::size_t channels = tables_.size();
  const std::size_t w = static_cast<std::size_t>(width_);
  const std::size_t stride = channels * w;
  for (std::size_t c : which) {
    const std::uint8_t* table = tables_[c]->bytes.data();
    const std::int64_t period = tables_[c]->period;
    std::int64_t k = positiveMod(first, period);
    std::uint8_t* o = out + c * w;
    // A 3-byte sample goes as a 32-bit word whose fourth byte belongs to the next channel,
    // written after it (channels go in order; one not in `which` is written by the pass
    // after). Not over bytes already final (`exact`), nor past the frame's last channel.
    const bool wholeWords = w == 3 && !exact && c + 1 < channels;
    for (std::int64_t f = 0; f < frames_;) {
      const std::int64_t run = std::min(frames_ - f, period - k);
      const std::uint8_t* src = table + k * width_;
      if (wholeWords) {
        for (std::int64_t i = 0; i < run; ++i, src += 3, o += stride) {
          std::uint32_t word;
          std::memcpy(&word, src, 4);
          std::memcpy(o, &word, 4);
        }
      } else if (w == 3) {
        for (std::int64_t i = 0; i < run; ++i, src += 3, o += stride) {
          std::memcpy(o, src, 2);
          o[2] = src[2];
        }
      } else if (w == 2) {
        for (std::int64_t i = 0; i < run; ++i, src += 2, o += stride) std::memcpy(o, src, 2);
      } else {
        for (std::int64_t i = 0; i < run; ++i, src += 4, o += stride) std::memcpy(o, src, 4);
      }
      f += run;
      k += run;
      if (k == period) k = 0;
    }
  }
}

}  // namespace aes67::native
