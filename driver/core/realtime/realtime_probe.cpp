#include "driver/core/realtime/realtime_probe.hpp"

#include <dlfcn.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#if !defined(__linux__) || !defined(__x86_64__)
#error "realtime_probe needs Linux on x86-64 (seccomp trap and register layout)"
#endif

extern "C" {
// glibc's own allocator entry points: the replacements below forward to them.
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
// The trampoline the filter lets through: performs system call `nr` with six arguments.
long aes67_rt_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
extern char aes67_rt_raw_syscall_return[];
}

asm(R"(
  .text
  .globl aes67_rt_raw_syscall
  .type aes67_rt_raw_syscall, @function
aes67_rt_raw_syscall:
  movq %rdi, %rax
  movq %rsi, %rdi
  movq %rdx, %rsi
  movq %rcx, %rdx
  movq %r8, %r10
  movq %r9, %r8
  movq 8(%rsp), %r9
  syscall
  .globl aes67_rt_raw_syscall_return
aes67_rt_raw_syscall_return:
  ret
  .size aes67_rt_raw_syscall, .-aes67_rt_raw_syscall
)");

namespace {

thread_local bool tCounting = false;
thread_local bool tTrapped = false;
thread_local aes67::rt::ProbeCounts tCounts;

inline void countAllocation() {
  if (tCounting) ++tCounts.allocations;
}
inline void countFree() {
  if (tCounting) ++tCounts.frees;
}
inline void countLock() {
  if (tCounting) ++tCounts.locks;
}

template <typename F>
F real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (!f) {
    static const char msg[] = "realtime_probe: a pthread symbol is missing\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(70);
  }
  return reinterpret_cast<F>(f);
}

// Resolved before main, so no lookup (which may allocate and lock) happens while counting.
struct RealLocks {
  int (*mutexLock)(pthread_mutex_t*) = real<int (*)(pthread_mutex_t*)>("pthread_mutex_lock");
  int (*mutexTrylock)(pthread_mutex_t*) = real<int (*)(pthread_mutex_t*)>("pthread_mutex_trylock");
  int (*mutexTimedlock)(pthread_mutex_t*, const timespec*) =
      real<int (*)(pthread_mutex_t*, const timespec*)>("pthread_mutex_timedlock");
  int (*rdlock)(pthread_rwlock_t*) = real<int (*)(pthread_rwlock_t*)>("pthread_rwlock_rdlock");
  int (*wrlock)(pthread_rwlock_t*) = real<int (*)(pthread_rwlock_t*)>("pthread_rwlock_wrlock");
  int (*tryrdlock)(pthread_rwlock_t*) = real<int (*)(pthread_rwlock_t*)>("pthread_rwlock_tryrdlock");
  int (*trywrlock)(pthread_rwlock_t*) = real<int (*)(pthread_rwlock_t*)>("pthread_rwlock_trywrlock");
  int (*spinLock)(pthread_spinlock_t*) = real<int (*)(pthread_spinlock_t*)>("pthread_spin_lock");
  int (*spinTrylock)(pthread_spinlock_t*) = real<int (*)(pthread_spinlock_t*)>("pthread_spin_trylock");
  int (*condWait)(pthread_cond_t*, pthread_mutex_t*) = real<int (*)(pthread_cond_t*, pthread_mutex_t*)>("pthread_cond_wait");
  int (*condTimedwait)(pthread_cond_t*, pthread_mutex_t*, const timespec*) =
      real<int (*)(pthread_cond_t*, pthread_mutex_t*, const timespec*)>("pthread_cond_timedwait");
  int (*semWait)(sem_t*) = real<int (*)(sem_t*)>("sem_wait");
  int (*semTimedwait)(sem_t*, const timespec*) = real<int (*)(sem_t*, const timespec*)>("sem_timedwait");
};
const RealLocks& realLocks() {
  static const RealLocks locks;
  return locks;
}
const bool gResolved = (realLocks(), true);

std::atomic<bool> gHandlerInstalled{false};

void onSigsys(int, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  greg_t* r = uc->uc_mcontext.gregs;
  const long nr = info->si_syscall;
  if (tCounting) {
    if (tCounts.syscalls < tCounts.firstSyscalls.size()) tCounts.firstSyscalls[tCounts.syscalls] = nr;
    ++tCounts.syscalls;
  }
  if (nr == SYS_rt_sigprocmask) {
    // The mask in effect after the handler is the one saved in the context: change that
    // one, or sigreturn would undo the call. SIGSYS stays deliverable.
    const int how = static_cast<int>(r[REG_RDI]);
    const auto* set = reinterpret_cast<const sigset_t*>(r[REG_RSI]);
    auto* old = reinterpret_cast<sigset_t*>(r[REG_RDX]);
    if (old) std::memcpy(old, &uc->uc_sigmask, sizeof(sigset_t));
    if (set) {
      if (how == SIG_BLOCK) sigorset(&uc->uc_sigmask, &uc->uc_sigmask, set);
      else if (how == SIG_SETMASK) std::memcpy(&uc->uc_sigmask, set, sizeof(sigset_t));
      else if (how == SIG_UNBLOCK) {
        for (int s = 1; s < NSIG; ++s) {
          if (sigismember(set, s) == 1) sigdelset(&uc->uc_sigmask, s);
        }
      }
    }
    sigdelset(&uc->uc_sigmask, SIGSYS);
    r[REG_RAX] = 0;
    return;
  }
  r[REG_RAX] = aes67_rt_raw_syscall(nr, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9]);
}

}  // namespace

// ------------------------------------------------------------------ allocation hooks
extern "C" {
void* malloc(std::size_t n) {
  countAllocation();
  return __libc_malloc(n);
}
void free(void* p) {
  if (p) countFree();
  __libc_free(p);
}
void* calloc(std::size_t n, std::size_t size) {
  countAllocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  countAllocation();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  countAllocation();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  countAllocation();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  countAllocation();
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

// ------------------------------------------------------------------ lock hooks
int pthread_mutex_lock(pthread_mutex_t* m) {
  countLock();
  return realLocks().mutexLock(m);
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
  countLock();
  return realLocks().mutexTrylock(m);
}
int pthread_mutex_timedlock(pthread_mutex_t* m, const timespec* t) {
  countLock();
  return realLocks().mutexTimedlock(m, t);
}
int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  countLock();
  return realLocks().rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  countLock();
  return realLocks().wrlock(l);
}
int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  countLock();
  return realLocks().tryrdlock(l);
}
int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  countLock();
  return realLocks().trywrlock(l);
}
int pthread_spin_lock(pthread_spinlock_t* l) {
  countLock();
  return realLocks().spinLock(l);
}
int pthread_spin_trylock(pthread_spinlock_t* l) {
  countLock();
  return realLocks().spinTrylock(l);
}
int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  countLock();
  return realLocks().condWait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const timespec* t) {
  countLock();
  return realLocks().condTimedwait(c, m, t);
}
int sem_wait(sem_t* s) {
  countLock();
  return realLocks().semWait(s);
}
int sem_timedwait(sem_t* s, const timespec* t) {
  countLock();
  return realLocks().semTimedwait(s, t);
}
}  // extern "C"

void* operator new(std::size_t n) {
  countAllocation();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  countAllocation();
  return __libc_malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) {
  countAllocation();
  if (void* p = __libc_memalign(static_cast<std::size_t>(a), n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept {
  if (p) countFree();
  __libc_free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }

namespace aes67::rt {

void installSyscallTrap() {
  (void)gResolved;
  if (!gHandlerInstalled.exchange(true)) {
    struct sigaction sa {};
    sa.sa_sigaction = onSigsys;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, nullptr) != 0) throw std::runtime_error(std::string("sigaction(SIGSYS): ") + std::strerror(errno));
  }
  const auto ret = reinterpret_cast<std::uint64_t>(aes67_rt_raw_syscall_return);
  const auto lo = static_cast<std::uint32_t>(ret);
  const auto hi = static_cast<std::uint32_t>(ret >> 32);
  sock_filter filter[] = {
      // Only x86-64 system calls are understood; anything else is trapped too.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 8),
      // rt_sigreturn ends the SIGSYS handler itself.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // The trampoline's syscall instruction (the handler re-issuing a counted call).
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, instruction_pointer) + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw std::runtime_error(std::string("prctl(PR_SET_NO_NEW_PRIVS): ") + std::strerror(errno));
  }
  // Without SECCOMP_FILTER_FLAG_TSYNC the filter applies to this thread only.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
    throw std::runtime_error(std::string("seccomp(SECCOMP_SET_MODE_FILTER): ") + std::strerror(errno));
  }
  tTrapped = true;
}

bool syscallTrapInstalled() { return tTrapped; }

void beginCounting() {
  tCounts = ProbeCounts{};
  tCounting = true;
}

ProbeCounts endCounting() {
  tCounting = false;
  return tCounts;
}

}  // namespace aes67::rt
