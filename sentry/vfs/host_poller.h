// HostPoller: host fd readiness as waiter::Queue notifications.
//
// A task waiting for a host fd (stdin on a terminal, a host pipe) must
// sleep in Task::Block like any other wait, so a signal or exit can wake
// it; it must never sleep in a host read. So the file answers EAGAIN when
// the host fd is not ready, the task waits on the file's queue, and this
// poller notifies that queue when the host says the fd became ready.
//
// One sentry thread sleeps in epoll_wait over the watched fds. They are
// edge-triggered: an always-writable stdout would otherwise wake the
// thread in a loop. Edges suffice because a waiter registers (Watch)
// before it checks readiness itself, and EPOLL_CTL_ADD reports an fd that
// is already ready. An eventfd in the same set stops the thread.
//
// Lock order: HostPoller::mu_, then waiter::Queue::mu_ (events are
// delivered under mu_, so once Unwatch returns the queue is never touched
// again and may be destroyed).
#ifndef SENTRY_VFS_HOST_POLLER_H_
#define SENTRY_VFS_HOST_POLLER_H_

#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "sentry/waiter/waiter.h"

namespace vfs {

class HostPoller {
 public:
  static base::Result<std::unique_ptr<HostPoller>> Create();
  // The sentry's poller, made on first use (so not before the platform
  // forks its helper) and never stopped; null if the host refused an
  // epoll fd, eventfd or thread.
  static HostPoller* Default();
  ~HostPoller();  // stops and joins the thread

  // Notifies `queue` with the host's events on `fd` from now on. Counted
  // per fd: each successful Watch needs one Unwatch; all Watches of one fd
  // must name the same queue. Fails for fds epoll refuses (regular files).
  base::Result<void> Watch(int fd, waiter::Queue* queue);
  void Unwatch(int fd);

 private:
  HostPoller(base::UniqueFd epoll, base::UniqueFd wake)
      : epoll_(std::move(epoll)), wake_(std::move(wake)) {}
  void Loop();

  const base::UniqueFd epoll_;
  const base::UniqueFd wake_;  // an eventfd: readable means "stop"
  std::thread thread_;

  struct Watched {
    waiter::Queue* queue;
    int count;
  };
  absl::Mutex mu_;
  std::map<int, Watched> watched_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vfs

#endif  // SENTRY_VFS_HOST_POLLER_H_
