#include "sentry/vfs/file_description.h"

#include "sentry/vfs/file_lock.h"
#include "sentry/vfs/inotify.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/record_lock.h"

namespace vfs {

FileDescription::~FileDescription() {
  if (holds_flock_.load()) FlockTable::Get().Unlock(this);
  if (holds_ofd_lock_.load()) RecordLockTable::Get().ReleaseOwner(this);
  // The last close, as Linux's __fput: the derived description is gone,
  // so the origin's node answers the stat.
  if (notify_ && NotifyWatched()) {
    NotifyNode(notify_->dir.get(), notify_->name, *notify_->node,
               writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
  }
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
