#include "sentry/vfs/file_description.h"

#include "sentry/vfs/file_lock.h"
#include "sentry/vfs/record_lock.h"

namespace vfs {

FileDescription::~FileDescription() {
  if (holds_flock_.load()) FlockTable::Get().Unlock(this);
  if (holds_ofd_lock_.load()) RecordLockTable::Get().ReleaseOwner(this);
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
