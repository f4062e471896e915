// flock(2) locks: whole-file, shared or exclusive, owned by an open file
// description and kept on the file itself (its st_dev and st_ino, which
// tmpfs, the overlay, pipes and host files keep stable), not on a path.
//
// One table for the sentry. Nothing here sleeps: TryFlock answers EAGAIN
// on a conflict and the syscall layer waits on queue(), which every
// release notifies (syscalls/flock.cc).
//
// Lock order: FlockTable::mu_ is a leaf; the queue is notified after it
// is released.
#ifndef SENTRY_VFS_FILE_LOCK_H_
#define SENTRY_VFS_FILE_LOCK_H_

#include <sys/types.h>

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace vfs {

class FlockTable {
 public:
  // The sentry's table.
  static FlockTable& Get();

  // Takes (or converts to) a shared or exclusive lock on `file` for that
  // description: EAGAIN if another description holds a conflicting one.
  // A conversion first drops the old lock, as Linux, so a failed one
  // leaves none.
  base::Result<void> TryFlock(FileDescription& file, bool exclusive);
  // LOCK_UN; also what the description's destructor does.
  void Unlock(const FileDescription* owner);

  // Notified (event kReleased) whenever a lock goes.
  waiter::Queue& queue() { return queue_; }
  static constexpr uint64_t kReleased = 1;

 private:
  using Key = std::pair<dev_t, ino_t>;
  struct Held {
    Key key;
    bool exclusive;
  };
  // Removes `owner`'s lock; true if it had one.
  bool UnlockLocked(const FileDescription* owner)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // Per file, its holders; per holder, its lock (one per description).
  std::map<Key, std::map<const FileDescription*, bool>> files_
      ABSL_GUARDED_BY(mu_);
  std::map<const FileDescription*, Held> owners_ ABSL_GUARDED_BY(mu_);
  waiter::Queue queue_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_FILE_LOCK_H_
