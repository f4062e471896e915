// Helpers for the clone tests: raw clone(2)/clone3(2) that run a function in
// the child, raw syscalls for children that share memory, child stacks.
#ifndef TESTS_SYSCALLS_CLONE_UTIL_H_
#define TESTS_SYSCALLS_CLONE_UTIL_H_

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace clone_test {

// What a child runs: `initial_rsp` is its stack pointer as clone returned 0
// in it; the return value is its exit(2) status. A child that shares memory
// (CLONE_VM) must not touch glibc state (errno, locks, TLS): it makes raw
// syscalls only (Sys), so its functions are CHILD_FN.
using ChildFn = int (*)(void* arg, uintptr_t initial_rsp);
#define CHILD_FN __attribute__((noinline, no_stack_protector))

// In clone_util.cc (assembly): the raw syscalls, returning -errno on
// failure; the child calls fn(arg, rsp) and exits with its result.
extern "C" long clone_test_clone(unsigned long flags, void* stack, int* ptid,
                                 int* ctid, unsigned long tls, ChildFn fn,
                                 void* arg);
extern "C" long clone_test_clone3(void* args, size_t size, ChildFn fn,
                                  void* arg);

// A raw syscall: no errno, no TLS (for children sharing memory).
__attribute__((always_inline)) inline long Sys(long nr, long a1 = 0,
                                               long a2 = 0, long a3 = 0,
                                               long a4 = 0, long a5 = 0,
                                               long a6 = 0) {
  long ret;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
                 "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

// Raw results as the libc convention (-1 and errno) for the matchers.
inline long Errno(long r) {
  if (r < 0 && r > -4096) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

// clone(2): flags (exit signal in the low byte), stack top, tids, tls.
inline long Clone(unsigned long flags, void* stack, ChildFn fn,
                  void* arg = nullptr, int* ptid = nullptr,
                  int* ctid = nullptr, unsigned long tls = 0) {
  return Errno(clone_test_clone(flags, stack, ptid, ctid, tls, fn, arg));
}

inline long Clone3(clone_args* args, size_t size, ChildFn fn,
                   void* arg = nullptr) {
  return Errno(clone_test_clone3(args, size, fn, arg));
}

// A child stack: anonymous memory, unmapped when the test is done with it
// (only after the child is gone: reaped, or its CLEARTID word cleared).
class Stack {
 public:
  static constexpr size_t kSize = 64 * 1024;
  Stack()
      : base_(static_cast<char*>(mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {}
  ~Stack() {
    if (base_ != MAP_FAILED) munmap(base_, kSize);
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  bool ok() const { return base_ != MAP_FAILED; }
  char* base() const { return base_; }
  void* top() const { return base_ + kSize; }

 private:
  char* base_;
};

// Waits until the kernel zeroes a CLONE_CHILD_CLEARTID word (set to the
// child's tid by CLONE_PARENT_SETTID before the clone returned).
inline void AwaitTidClear(std::atomic<int>* word) {
  for (int v = word->load(); v != 0; v = word->load())
    Sys(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAIT, v, 0);
}

inline int* Int(std::atomic<int>* w) { return reinterpret_cast<int*>(w); }

// Child functions shared by the test files.
CHILD_FN inline int ExitZero(void*, uintptr_t) { return 0; }
// Blocks on the futex word `arg` while it is 0, then exits 0.
CHILD_FN inline int WaitForGo(void* arg, uintptr_t) {
  auto* go = static_cast<std::atomic<int>*>(arg);
  while (go->load() == 0)
    Sys(SYS_futex, reinterpret_cast<long>(go), FUTEX_WAIT, 0, 0);
  return 0;
}
inline void Go(std::atomic<int>* go) {
  go->store(1);
  Sys(SYS_futex, reinterpret_cast<long>(go), FUTEX_WAKE, 1);
}

// Saves a signal's disposition and restores it at the end of the scope.
class ScopedSigaction {
 public:
  explicit ScopedSigaction(int sig) : sig_(sig) {
    sigaction(sig, nullptr, &old_);
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ = {};
};

// Sets `sig`'s handler (SIG_DFL, SIG_IGN or a function) with `flags`.
inline int SetHandler(int sig, void (*handler)(int), int flags = 0) {
  struct sigaction sa = {};
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  return sigaction(sig, &sa, nullptr);
}
inline void (*HandlerOf(int sig))(int) {
  struct sigaction sa = {};
  sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

// The exit status of child `pid` (reaped with wait4 `options`), or -1 if
// it did not exit normally.
inline int ExitCode(pid_t pid, int options = 0) {
  int status = 0;
  if (waitpid(pid, &status, options) != pid) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace clone_test

#endif  // TESTS_SYSCALLS_CLONE_UTIL_H_
