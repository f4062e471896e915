// Futex wait queues: futex(2)'s WAIT/WAKE (with bitsets), REQUEUE,
// CMP_REQUEUE and WAKE_OP, and what a dying thread does to futexes (robust
// lists, CLONE_CHILD_CLEARTID).
//
// A futex is named by a Key (see KeyFor): private futexes by address space
// and address, shared ones in MAP_SHARED memory by memory-file offset, which
// every process mapping those pages sees alike.
//
// Lock order: Futexes::mu_ before MemoryManager::mu_ (the futex word is
// read and, for WAKE_OP, changed under mu_) before Task::mu_ (wakes signal
// tasks under it).
#ifndef SENTRY_KERNEL_FUTEX_H_
#define SENTRY_KERNEL_FUTEX_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/mm/memory_manager.h"

namespace kernel {

class Task;

class Futexes {
 public:
  struct Key {
    // As on Linux, a private futex and a shared one never match, even on
    // the same word: kPrivate and kSharedMm keys differ in `kind`.
    enum class Kind : uint8_t {
      kPrivate,     // FUTEX_PRIVATE_FLAG: (address space, address)
      kSharedMm,    // shared futex in private memory: (address space, address)
      kSharedFile,  // shared futex in MAP_SHARED memory: memory-file offset
    };
    Kind kind;
    const void* mm;  // null for kSharedFile
    uint64_t addr;   // the address, or the memory-file offset
    auto operator<=>(const Key&) const = default;
  };

  // The key of the futex word at `addr` (Linux's get_futex_key): EINVAL if
  // it is not 4-byte aligned, EFAULT if it lies outside user space or, for
  // a shared futex, in memory that is not readable (writable with
  // `for_write`): shared keys depend on the mapping, private ones never
  // look at it.
  static base::Result<Key> KeyFor(mm::MemoryManager& mm, uint64_t addr,
                                  bool is_private, bool for_write = false);
  // Runs `op` on the writable u32 at `addr`, for atomic access
  // (std::atomic_ref) shared with the app: EINVAL if misaligned, EFAULT if
  // not writable. The address space is held while `op` runs
  // (MemoryManager::WithIoBlocks), so no munmap can free the word under it.
  static base::Result<void> WithWord(
      mm::MemoryManager& mm, uint64_t addr,
      absl::FunctionRef<void(std::atomic_ref<uint32_t>)> op);

  // FUTEX_WAIT(_BITSET): sleeps while the u32 at `addr` in t's address
  // space equals `expected` (checked atomically with respect to wakes),
  // until woken by a wake whose bitset intersects `bitset`, the deadline
  // (ETIMEDOUT) or an interruption (EINTR). EAGAIN if the value differs.
  base::Result<void> Wait(Task& t, Key key, uint64_t addr, uint32_t expected,
                          uint32_t bitset, absl::Time deadline);
  // FUTEX_WAKE(_BITSET): wakes up to `n` waiters (at least one); returns
  // how many.
  int Wake(Key key, int n, uint32_t bitset);
  // FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wakes up to `nr_wake` waiters of
  // `from` and moves up to `nr_requeue` more to `to`; returns how many were
  // woken or moved. With `expected`, EAGAIN unless the u32 at `addr` in
  // `mm` equals it (checked atomically with respect to waiters). The counts
  // must be >= 0 (the caller checks: EINVAL).
  base::Result<int> Requeue(mm::MemoryManager& mm, Key from, Key to,
                            uint64_t addr, std::optional<uint32_t> expected,
                            int nr_wake, int nr_requeue);
  // FUTEX_WAKE_OP: atomically applies `encoded_op` (FUTEX_OP(op, oparg,
  // cmp, cmparg)) to the u32 at `addr2` in `mm`, wakes up to `nr_wake`
  // waiters of `key1` and, if the comparison of the old value holds, up to
  // `nr_wake2` of `key2`; returns how many were woken. EFAULT if the word
  // is not writable; ENOSYS for an unknown op (memory untouched) or
  // comparison (after the op, as Linux).
  base::Result<int> WakeOp(mm::MemoryManager& mm, Key key1, Key key2,
                           uint64_t addr2, int nr_wake, int nr_wake2,
                           uint32_t encoded_op);

 private:
  struct Waiter {
    Task* task;
    Key key;  // changed by Requeue, under mu_
    uint32_t bitset;
    std::atomic<bool> woken{false};
  };
  // Wakes up to n waiters of key whose bitset intersects `bitset`.
  int WakeLocked(Key key, int n, uint32_t bitset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<Key, std::list<Waiter*>> queues_ ABSL_GUARDED_BY(mu_);
};

// What a thread leaving its address space does with futexes (Linux's
// futex_exit_release/futex_exec_release, then mm_release), on exit and on
// execve: releases the robust futexes on its robust list (set_robust_list)
// that it still owns, then zeroes its clear_child_tid word and wakes one
// waiter there (how pthread_join learns a thread is gone). Clears both
// registrations. futex_exit.cc.
void ReleaseThreadFutexes(Task& t);

}  // namespace kernel

#endif  // SENTRY_KERNEL_FUTEX_H_
