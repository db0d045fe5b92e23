// Every operator new of the executable this is linked into goes through here (the
// replaceable global allocation functions): a 16-byte header keeps each block's size so
// delete can subtract it. Aligned new/delete are not replaced; nothing under test uses
// over-aligned types.
#include "test-support/counting_heap.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::int64_t> gLiveBytes{0};
std::atomic<std::int64_t> gPeakBytes{0};
std::atomic<std::uint64_t> gAllocations{0};
constexpr std::size_t kHeader = 16;

void* countedAlloc(std::size_t size) {
  void* raw = std::malloc(size + kHeader);
  if (!raw) throw std::bad_alloc();
  *static_cast<std::size_t*>(raw) = size;
  const std::int64_t live = gLiveBytes.fetch_add(static_cast<std::int64_t>(size)) + static_cast<std::int64_t>(size);
  std::int64_t peak = gPeakBytes.load();
  while (live > peak && !gPeakBytes.compare_exchange_weak(peak, live)) {
  }
  gAllocations.fetch_add(1);
  return static_cast<char*>(raw) + kHeader;
}

void countedFree(void* p) {
  if (!p) return;
  void* raw = static_cast<char*>(p) - kHeader;
  gLiveBytes.fetch_sub(static_cast<std::int64_t>(*static_cast<std::size_t*>(raw)));
  std::free(raw);
}

}  // namespace

void* operator new(std::size_t size) { return countedAlloc(size); }
void* operator new[](std::size_t size) { return countedAlloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return countedAlloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept { return operator new(size, t); }
void operator delete(void* p) noexcept { countedFree(p); }
void operator delete[](void* p) noexcept { countedFree(p); }
void operator delete(void* p, std::size_t) noexcept { countedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { countedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { countedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { countedFree(p); }

namespace aes67 {

std::int64_t heapLiveBytes() { return gLiveBytes.load(); }
std::int64_t heapPeakBytes() { return gPeakBytes.load(); }
void restartHeapPeak() { gPeakBytes.store(gLiveBytes.load()); }
std::uint64_t heapAllocations() { return gAllocations.load(); }

}  // namespace aes67
