// Futex wait queues.
//
// A waiter is keyed by the address space and the address. That is right
// for private futexes and, while no memory is shared between processes,
// for shared ones too; keying shared futexes by memory-file offset comes
// with fork (next issue).
//
// Lock order: Futexes::mu_ before Task::mu_ (Wake signals tasks under it).
#ifndef SENTRY_KERNEL_FUTEX_H_
#define SENTRY_KERNEL_FUTEX_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"

namespace kernel {

class Task;

class Futexes {
 public:
  struct Key {
    const void* mm;
    uint64_t addr;
    auto operator<=>(const Key&) const = default;
  };

  // FUTEX_WAIT(_BITSET): sleeps while the u32 at key.addr equals
  // `expected` (checked atomically with respect to Wake), until woken by a
  // Wake whose bitset intersects `bitset`, the deadline (ETIMEDOUT) or an
  // interruption (EINTR). EAGAIN if the value differs.
  base::Result<void> Wait(Task& t, Key key, uint32_t expected,
                          uint32_t bitset, absl::Time deadline);
  // FUTEX_WAKE(_BITSET): wakes up to `n` waiters; returns how many.
  int Wake(Key key, int n, uint32_t bitset);

 private:
  struct Waiter {
    Task* task;
    uint32_t bitset;
    std::atomic<bool> woken{false};
  };

  absl::Mutex mu_;
  std::map<Key, std::list<Waiter*>> queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_FUTEX_H_
