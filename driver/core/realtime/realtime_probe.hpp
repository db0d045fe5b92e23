// Observes what a thread does while it runs the IO path, to prove the real-time rule (no
// allocation, no lock, no system call) instead of assuming it. Linked into test
// executables only (Linux x86-64, no sanitizers: it replaces malloc and pthread locking).
//
// - Allocations: malloc, calloc, realloc, free, aligned_alloc, posix_memalign, memalign
//   and every operator new/delete are replaced in the executable (symbol interposition:
//   libstdc++ and the engine call them through the PLT) and counted on the calling thread.
// - Locks: pthread_mutex_lock/trylock/timedlock, rwlock rd/wr (try), spin lock, condition
//   waits and sem_wait are interposed the same way (std::mutex goes through them).
// - System calls: a seccomp filter with SECCOMP_RET_TRAP is installed on the IO thread only
//   (seccomp filters are per thread). Every system call that thread makes enters the
//   kernel, is stopped before it runs, and raises SIGSYS; the handler counts it and then
//   performs it from a trampoline the filter lets through (matched by instruction
//   pointer), so the thread keeps working and can exit normally. vDSO calls
//   (clock_gettime) never enter the kernel and are rightly not counted.
#pragma once

#include <array>
#include <cstdint>

namespace aes67::rt {

struct ProbeCounts {
  std::uint64_t allocations = 0;  // malloc-family calls and operator new
  std::uint64_t frees = 0;        // free and operator delete
  std::uint64_t locks = 0;        // pthread lock / wait calls
  std::uint64_t syscalls = 0;     // trapped system calls (on a thread with the trap installed)
  std::array<long, 8> firstSyscalls{};  // their numbers, for the failure message
};

// Installs the SIGSYS handler (process-wide) and the seccomp filter on the calling thread.
// Throws std::runtime_error naming the failing call.
void installSyscallTrap();
bool syscallTrapInstalled();

// Counting is per thread: only what the calling thread does between begin and end counts.
void beginCounting();
ProbeCounts endCounting();

}  // namespace aes67::rt
