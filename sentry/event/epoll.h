// epoll(7): an interest list of (description, fd) registrations and a
// ready list filled by the descriptions' wait queues, as Linux's
// fs/eventpoll.c.
//
// Each registration (Item) is a tracked waiter::Entry on its file's
// queue. A notification that matches its events puts it on the ready
// list and wakes the instance's own queue (epoll_wait, poll and epoll
// instances that watch this one). epoll_wait looks only at the ready
// list: each item on it is asked for its readiness once; level-triggered
// items that are still ready go back to the end of the list, edge-
// triggered ones leave it until their next notification, EPOLLONESHOT
// ones are disabled until EPOLL_CTL_MOD. Nothing scans the whole
// interest list and nothing polls.
//
// A registration holds no reference to its description: when the
// description's last reference goes, FileReleased takes the registration
// away (Linux's eventpoll_release); closing one of several fds of it
// does not.
//
// Lock order: Epoll::mu_ (the interest list) -> a file's own locks (its
// Readiness, EventRegister) -> waiter::tracking_mu -> waiter queues ->
// Epoll::ready_mu_ (a leaf but for the instance's own queue, notified
// after it is released). An inner instance's mu_ comes after an outer
// one's (nesting has no loops).
#ifndef SENTRY_EVENT_EPOLL_H_
#define SENTRY_EVENT_EPOLL_H_

#include <sys/epoll.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"

namespace event {

// Linux's EPOLL_MAX_NESTS: at most this many instances below the top one.
inline constexpr int kEpollMaxNests = 4;

class Epoll final : public vfs::FileDescription,
                    public vfs::EpollWatcher,
                    public std::enable_shared_from_this<Epoll> {
 public:
  static std::shared_ptr<Epoll> Create(int flags);
  ~Epoll() override;

  // epoll_ctl(2) on `file`, known to the app as `fd`; the caller checked
  // the arguments that do not need the interest list. EEXIST, ENOENT,
  // ELOOP (a loop or too deep a nest of instances), EINVAL (MOD of an
  // EPOLLEXCLUSIVE registration).
  base::Result<void> Add(const std::shared_ptr<vfs::FileDescription>& file,
                         int fd, const epoll_event& ev);
  base::Result<void> Modify(vfs::FileDescription* file, int fd,
                            const epoll_event& ev);
  base::Result<void> Delete(vfs::FileDescription* file, int fd);

  // Fills `out` (at most out.size()) with ready events; never blocks.
  size_t Collect(std::span<epoll_event> out);
  // The instance's readiness for its waiters: an item on the ready list
  // that is ready (EPOLLIN).
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override { queue_.Register(e); }
  void EventUnregister(waiter::Entry* e) override { queue_.Unregister(e); }
  bool pollable() const override { return true; }
  base::Result<struct stat> Stat() override;
  // lseek(2) succeeds and moves nothing (Linux's noop_llseek).
  base::Result<int64_t> Seek(int64_t, int) override { return 0; }
  std::string path() const override { return "anon_inode:[eventpoll]"; }
  std::string FdInfo() override;

  void FileReleased(vfs::FileDescription* f) override;

 private:
  class Item;
  struct Key {
    const vfs::FileDescription* file;
    int fd;
    auto operator<=>(const Key&) const = default;
  };

  // Out of line: the members' destructors need Item complete.
  explicit Epoll(int flags);
  // An item's notification (under its file's queue lock).
  void ItemNotified(Item* item);
  // Takes `item` off its queue, the ready list and the nesting graph; the
  // caller then erases it. `file` is its description if still alive.
  void Unlink(Item* item, vfs::FileDescription* file)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t CollectLocked(std::span<epoll_event> out,
                       std::vector<std::shared_ptr<vfs::FileDescription>>* keep)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<Key, std::unique_ptr<Item>> items_ ABSL_GUARDED_BY(mu_);
  // The nesting graph: instances registered in this one and instances
  // this one is registered in, once per registration. Guarded by the
  // global nesting mutex (epoll.cc), a leaf taken under mu_.
  std::vector<Epoll*> children_;
  std::vector<Epoll*> parents_;

  absl::Mutex ready_mu_;
  std::list<Item*> ready_ ABSL_GUARDED_BY(ready_mu_);

  waiter::Queue queue_;
};

}  // namespace event

#endif  // SENTRY_EVENT_EPOLL_H_
