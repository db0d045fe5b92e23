// Zeroed memory for a lab receiver's recording, reserved whole and faulted in as it is
// written. A virtual-time run records tens of megabytes a second of virtual time (8 streams
// x 8 channels of L24: 9 MB); taken as one-second vectors zero-filled on allocation, every
// byte was written twice (the fill, then the audio). Reserved as one anonymous mapping, its
// pages come zeroed from the kernel when first written, and what was never written costs
// nothing. (Transparent huge pages on it were measured slower on the lab's machines: the
// kernel's huge-page faults cost more system time than the 4 KB faults they replace.)
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace aes67::native {

class RecordingArena {
 public:
  RecordingArena() = default;
  RecordingArena(const RecordingArena&) = delete;
  RecordingArena& operator=(const RecordingArena&) = delete;
  ~RecordingArena() { release(); }

  // Reserves `bytes` of zeroed memory (nothing is faulted in yet); throws std::bad_alloc.
  void reserve(std::size_t bytes) {
    release();
    if (bytes == 0) return;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<std::uint8_t*>(p);
    size_ = bytes;
  }
  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() {
    if (data_) munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace aes67::native
