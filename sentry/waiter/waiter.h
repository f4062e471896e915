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
// before Task::mu_ (an Entry's Notify wakes its task). Tracked entries'
// bookkeeping (TrackingMutex) comes before every Queue::mu_. An Entry's
// Notify must not register or unregister entries.
//
// Tracked entries (epoll's registrations) remember the queues they are on,
// so that they can leave them when the file that put them there is gone
// but its queue is not (a pipe end closed while the pipe lives on):
// Queue::DetachAll. A queue destroyed first forgets itself in its tracked
// entries.
#ifndef SENTRY_WAITER_WAITER_H_
#define SENTRY_WAITER_WAITER_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <list>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace waiter {

class Queue;

// Guards the queue lists of tracked entries.
ABSL_CONST_INIT inline absl::Mutex tracking_mu(absl::kConstInit);

class Entry {
 public:
  explicit Entry(uint64_t mask, bool tracked = false)
      : mask_(mask), tracked_(tracked) {}
  virtual ~Entry() = default;
  uint64_t mask() const { return mask_; }
  // Called with the events that happened, if they intersect mask().
  virtual void Notify(uint64_t events) = 0;

 private:
  friend class Queue;
  const uint64_t mask_;
  const bool tracked_;
  // The queues a tracked entry is on (guarded by tracking_mu).
  std::vector<Queue*> queues_;
};

class Queue {
 public:
  Queue() = default;
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;
  ~Queue() {
    if (!has_tracked_.load()) return;
    absl::MutexLock tracking(&tracking_mu);
    absl::MutexLock lock(&mu_);
    for (Entry* e : entries_)
      if (e->tracked_) std::erase(e->queues_, this);
  }

  void Register(Entry* e) {
    if (e->tracked_) {
      absl::MutexLock tracking(&tracking_mu);
      has_tracked_.store(true);
      e->queues_.push_back(this);
      absl::MutexLock lock(&mu_);
      entries_.push_back(e);
      return;
    }
    absl::MutexLock lock(&mu_);
    entries_.push_back(e);
  }
  void Unregister(Entry* e) {
    if (e->tracked_) {
      absl::MutexLock tracking(&tracking_mu);
      std::erase(e->queues_, this);
      absl::MutexLock lock(&mu_);
      entries_.remove(e);
      return;
    }
    absl::MutexLock lock(&mu_);
    entries_.remove(e);
  }
  // Takes the tracked entry `e` off every queue it is on.
  static void DetachAll(Entry* e) {
    absl::MutexLock tracking(&tracking_mu);
    for (Queue* q : e->queues_) {
      absl::MutexLock lock(&q->mu_);
      q->entries_.remove(e);
    }
    e->queues_.clear();
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
  std::atomic<bool> has_tracked_{false};
};

}  // namespace waiter

#endif  // SENTRY_WAITER_WAITER_H_
