// Wait queues: how a blocked task learns that a file became ready.
//
// A file (pipe, eventfd, socket ...) owns a Queue and calls Notify when
// its readiness changes; a task that blocks on it (read, poll, epoll)
// registers an Entry for the events it wants. Entries are woken outside
// the file's own locks' concerns: Notify only flips flags and wakes.
//
// Event bits are poll(2)'s: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...
//
// Lock order: Queue::mu_ is taken under the file's own lock (if any) and
// before Task::mu_ (an Entry's Notify wakes its task).
#ifndef SENTRY_WAITER_WAITER_H_
#define SENTRY_WAITER_WAITER_H_

#include <cstdint>
#include <list>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace waiter {

class Entry {
 public:
  explicit Entry(uint64_t mask) : mask_(mask) {}
  virtual ~Entry() = default;
  uint64_t mask() const { return mask_; }
  // Called with the events that happened, if they intersect mask().
  virtual void Notify(uint64_t events) = 0;

 private:
  const uint64_t mask_;
};

class Queue {
 public:
  void Register(Entry* e) {
    absl::MutexLock lock(&mu_);
    entries_.push_back(e);
  }
  void Unregister(Entry* e) {
    absl::MutexLock lock(&mu_);
    entries_.remove(e);
  }
  // Wakes every entry interested in any of `events`.
  void Notify(uint64_t events) {
    absl::MutexLock lock(&mu_);
    for (Entry* e : entries_)
      if (e->mask() & events) e->Notify(events);
  }

 private:
  absl::Mutex mu_;
  std::list<Entry*> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace waiter

#endif  // SENTRY_WAITER_WAITER_H_
