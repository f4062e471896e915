#include "sentry/vfs/file_description.h"

#include <algorithm>

#include "sentry/vfs/file_lock.h"
#include "sentry/vfs/inotify.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/record_lock.h"

namespace vfs {

FileDescription::~FileDescription() {
  // Registrations in epoll instances go first (Linux's eventpoll_release).
  std::vector<Watcher> watchers;
  {
    absl::MutexLock lock(&epoll_mu_);
    watchers.swap(epoll_watchers_);
  }
  for (const Watcher& w : watchers)
    if (auto ep = w.ref.lock()) ep->FileReleased(this);
  if (holds_flock_.load()) FlockTable::Get().Unlock(this);
  if (holds_ofd_lock_.load()) RecordLockTable::Get().ReleaseOwner(this);
  // The last close, as Linux's __fput: the derived description is gone,
  // so the origin's node answers the stat.
  if (notify_ && NotifyWatched()) {
    NotifyNode(notify_->dir.get(), notify_->name, *notify_->node,
               writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  }
}

void FileDescription::AddEpollWatcher(std::weak_ptr<EpollWatcher> w) {
  absl::MutexLock lock(&epoll_mu_);
  // Forget instances that are gone, so the list stays short.
  std::erase_if(epoll_watchers_,
                [](const Watcher& x) { return x.ref.expired(); });
  const EpollWatcher* raw = w.lock().get();
  epoll_watchers_.push_back({raw, std::move(w)});
}

void FileDescription::RemoveEpollWatcher(const EpollWatcher* w) {
  // One registration's worth: an instance that registered the file twice
  // (through two fds) is told of its release for the other.
  absl::MutexLock lock(&epoll_mu_);
  auto it = std::find_if(epoll_watchers_.begin(), epoll_watchers_.end(),
                         [w](const Watcher& x) { return x.raw == w; });
  if (it != epoll_watchers_.end()) epoll_watchers_.erase(it);
}

void FileDescription::set_notify_origin(
    std::shared_ptr<const NotifyOrigin> origin) {
  notify_ = std::move(origin);
}

void FileDescription::SetStatusFlags(int flags) {
  // What Linux's setfl lets F_SETFL change; the access mode and the rest
  // stay as opened.
  constexpr int kSettable =
      O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC;
  int old = flags_.load(std::memory_order_relaxed);
  while (!flags_.compare_exchange_weak(old,
                                       (old & ~kSettable) | (flags & kSettable),
                                       std::memory_order_relaxed)) {
  }
}

}  // namespace vfs
