// A counting heap for the tests that prove memory stays bounded or that a path allocates
// nothing: counting_heap.cpp replaces the global operator new/delete of the test binary it
// is linked into (CMake links it into those binaries only: see the top-level
// CMakeLists.txt), so every allocation of that process is seen, exactly.
#pragma once

#include <cstdint>

namespace aes67 {

// Bytes allocated by operator new and not yet deleted, in this process.
std::int64_t heapLiveBytes();
// The most heapLiveBytes() has been since the last restartHeapPeak().
std::int64_t heapPeakBytes();
// Restarts the peak at the bytes live now.
void restartHeapPeak();
// operator new calls so far.
std::uint64_t heapAllocations();

// Heap in use now, and the peak since the last mark.
struct HeapWatch {
  HeapWatch() { mark(); }
  void mark() {
    restartHeapPeak();
    base = heapLiveBytes();
  }
  std::int64_t growth() const { return heapLiveBytes() - base; }
  std::int64_t peakAbove() const { return heapPeakBytes() - base; }
  std::int64_t base = 0;
};

}  // namespace aes67
