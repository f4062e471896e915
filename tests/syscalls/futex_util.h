// Helpers for the futex tests: raw futex calls, counting queued waiters,
// waiter threads, shared memory.
#ifndef TESTS_SYSCALLS_FUTEX_UTIL_H_
#define TESTS_SYSCALLS_FUTEX_UTIL_H_

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "test_util.h"

namespace futex_test {

using Word = std::atomic<uint32_t>;

// futex(2) with a timeout, or with a count in the timeout's place (`val2`
// of REQUEUE, CMP_REQUEUE and WAKE_OP).
inline long Futex(void* uaddr, int op, uint32_t val,
                  const timespec* timeout = nullptr, void* uaddr2 = nullptr,
                  uint32_t val3 = 0) {
  return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}
inline long FutexVal2(void* uaddr, int op, uint32_t val, uintptr_t val2,
                      void* uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

inline int Private(bool is_private) {
  return is_private ? FUTEX_PRIVATE_FLAG : 0;
}

// How many tasks wait on `word` (as a private or shared futex), without
// waking any: a CMP_REQUEUE of every waiter onto the same futex moves none
// and counts them all. -1 if the word does not hold `*word` any more.
inline long Waiters(Word* word, bool is_private) {
  return FutexVal2(word, FUTEX_CMP_REQUEUE | Private(is_private), 0, INT_MAX,
                   word, word->load());
}

// Waits until `n` tasks wait on `word`. No timing: a test whose waiters
// never queue hangs until CTest's timeout instead of passing by luck.
inline void AwaitWaiters(Word* word, long n, bool is_private) {
  while (Waiters(word, is_private) < n) sched_yield();
}

// A thread blocked in FUTEX_WAIT(_BITSET) on `word` while it holds
// `expected`; result() is the call's return value (errno folded in as
// -errno) once it has returned.
class WaiterThread {
 public:
  WaiterThread(Word* word, uint32_t expected, bool is_private,
               uint32_t bitset = FUTEX_BITSET_MATCH_ANY)
      : thread_([=, this] {
          long r = Futex(word, FUTEX_WAIT_BITSET | Private(is_private),
                         expected, nullptr, nullptr, bitset);
          result_ = r == 0 ? 0 : -errno;
        }) {}
  ~WaiterThread() {
    if (thread_.joinable()) thread_.join();
  }
  long Join() {
    thread_.join();
    return result_;
  }

 private:
  std::atomic<long> result_{1};
  std::thread thread_;
};

// A page of MAP_SHARED|MAP_ANONYMOUS memory: shared with forked children.
class SharedPage {
 public:
  SharedPage()
      : p_(mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {}
  ~SharedPage() {
    if (p_ != MAP_FAILED) munmap(p_, 4096);
  }
  bool ok() const { return p_ != MAP_FAILED; }
  template <class T>
  T* At(size_t offset) {
    return reinterpret_cast<T*>(static_cast<char*>(p_) + offset);
  }

 private:
  void* p_;
};

// An aligned user address that is never mapped (below mmap_min_addr).
inline Word* UnmappedWord() {
  return reinterpret_cast<Word*>(syscall_test::Opaque<uintptr_t>(0x1000));
}

inline timespec Now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts;
}
inline int64_t Nanos(const timespec& ts) {
  return ts.tv_sec * int64_t{1000000000} + ts.tv_nsec;
}
inline timespec FromNanos(int64_t ns) {
  return {static_cast<time_t>(ns / 1000000000),
          static_cast<long>(ns % 1000000000)};
}

}  // namespace futex_test

#endif  // TESTS_SYSCALLS_FUTEX_UTIL_H_
