// fcntl(2) record locks: byte ranges of a file, read or write, as Linux's
// POSIX locks (F_SETLK, F_SETLKW, F_GETLK) and open file description locks
// (F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK). Kept on the file itself (its
// st_dev and st_ino, as FlockTable), never on a path; flock(2) locks are a
// separate table and the two never conflict, as on Linux.
//
// Owners, as Linux: a POSIX lock belongs to the fd table of the process
// that took it (a PosixLockOwner inside kernel::FdTable: threads share it,
// fork makes a new one, execve keeps it), an OFD lock to the open
// description (shared by dup and fork). Locks of different owners conflict
// when they overlap and one of them is a write lock; an owner's own locks
// never conflict with each other but are replaced, split and merged.
//
// One table for the sentry. Nothing here sleeps: TrySet answers EAGAIN on
// a conflict and the syscall layer waits on queue(), notified whenever
// locks go or shrink (syscalls/fcntl_lock.cc).
//
// Lock order: RecordLockTable::mu_ is a leaf; the queue is notified after
// it is released. Keys come from FileDescription::Stat, called before.
#ifndef SENTRY_VFS_RECORD_LOCK_H_
#define SENTRY_VFS_RECORD_LOCK_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace vfs {

// Linux's OFFSET_MAX: a range that ends here runs to the end of the file,
// whatever its size becomes (l_len 0).
inline constexpr int64_t kLockOffsetMax = INT64_MAX;

// A lock or a request: type F_RDLCK, F_WRLCK or F_UNLCK over the bytes
// [start, end], both included, 0 <= start <= end <= kLockOffsetMax.
struct LockRange {
  short type;
  int64_t start;
  int64_t end;
};

// Who asks. `id` is the PosixLockOwner or the FileDescription: unique
// while it lives, and each releases its locks before it goes.
struct LockOwner {
  const void* id;
  bool ofd;
  // What F_GETLK reports to others: the thread group id for a POSIX
  // lock, -1 for an OFD lock.
  pid_t pid;
};

// A lock F_GETLK found: its range and type, and its l_pid.
struct LockHolder {
  LockRange range;
  pid_t pid;
};

class RecordLockTable {
 public:
  using Key = std::pair<dev_t, ino_t>;

  // Sentry memory is not the app's to exhaust: past this many locks in
  // all, new ones fail with ENOLCK.
  static constexpr size_t kMaxLocks = 1 << 20;

  // The sentry's table.
  static RecordLockTable& Get();
  // A table of its own (unit tests), holding at most `max_locks`.
  explicit RecordLockTable(size_t max_locks = kMaxLocks)
      : max_locks_(max_locks) {}

  // F_GETLK: the first lock of another owner that conflicts with `req`,
  // in Linux's order (owners by their first lock, then by offset). For
  // an F_UNLCK request (F_OFD_GETLK allows it, as Linux 6.x) it is the
  // first overlapping lock of `owner` itself.
  std::optional<LockHolder> Test(Key key, const LockOwner& owner,
                                 const LockRange& req);

  // F_SETLK: applies `req` (F_UNLCK removes the range) or fails with
  // EAGAIN on a conflict. `waiter` is non-null for F_SETLKW: a conflict
  // then registers it as blocked on the conflicting lock's owner, unless
  // that owner (directly, or through the owners it waits for in turn)
  // waits for `owner`, which is EDEADLK (POSIX owners only, as Linux).
  // ENOLCK when the table is full (max_locks).
  base::Result<void> TrySet(Key key, const LockOwner& owner,
                            const LockRange& req, const void* waiter);
  // The F_SETLKW call of `waiter` ended (taken, failed or interrupted).
  void StopWaiting(const void* waiter);

  // Drops the locks `owner` holds on the file `key`.
  void ReleaseFile(const void* owner, Key key);
  // Drops every lock of `owner` (exit, the last reference to a
  // description).
  void ReleaseOwner(const void* owner);

  // Notified (event kReleased) whenever a lock goes, shrinks or turns
  // into a read lock.
  waiter::Queue& queue() { return queue_; }
  static constexpr uint64_t kReleased = 1;

 private:
  struct Lock {
    const void* owner;
    pid_t pid;
    LockRange range;
  };
  // A blocked F_SETLKW of a POSIX owner, for deadlock detection.
  struct Blocked {
    const void* waiter;
    const void* owner;
    const void* blocker;  // the owner of the lock it waits for
    Key key;
  };

  // The first lock in `locks` of another owner that conflicts.
  static const Lock* FindConflict(const std::vector<Lock>& locks,
                                  const void* owner, const LockRange& req);
  // True if `blocker` waits, directly or through others, for `owner`.
  bool WouldDeadlock(const void* owner, const void* blocker) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces `owner`'s locks on `key` with what `req` makes of them.
  // Returns false (nothing changed) if that would pass max_locks_.
  bool ApplyLocked(Key key, const LockOwner& owner, const LockRange& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the blocked calls waiting for `owner`'s locks on `key`: they
  // are woken to try again, as Linux unlinks a woken waiter.
  void UnblockLocked(const void* owner, Key key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_locks_;
  absl::Mutex mu_;
  // Per file, its locks: each owner's together, owners in the order of
  // their first lock, an owner's by offset, none overlapping and no two
  // of one type adjacent (Linux's flc_posix list).
  std::map<Key, std::vector<Lock>> files_ ABSL_GUARDED_BY(mu_);
  // Per owner, the files it holds locks on.
  std::map<const void*, std::set<Key>> owners_ ABSL_GUARDED_BY(mu_);
  std::vector<Blocked> blocked_ ABSL_GUARDED_BY(mu_);
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  waiter::Queue queue_;
};

// The POSIX lock owner of one fd table (kernel::FdTable): its locks go
// when it goes (the process's last thread exits), and those on a file go
// whenever the table closes any fd of that file, as Linux's
// locks_remove_posix.
class PosixLockOwner {
 public:
  PosixLockOwner() = default;
  ~PosixLockOwner();
  PosixLockOwner(const PosixLockOwner&) = delete;
  PosixLockOwner& operator=(const PosixLockOwner&) = delete;

  // Called before this owner's first lock: until then closing needs no
  // look at the table.
  void NoteLocking() { used_.store(true); }
  // An fd of `file` was closed (close, dup2 over it, close_range,
  // close-on-exec): drops this owner's locks on the file.
  void Closed(FileDescription& file);

 private:
  std::atomic<bool> used_{false};
};

// The table's key for the file `f` is open on.
base::Result<RecordLockTable::Key> LockKey(FileDescription& f);

}  // namespace vfs

#endif  // SENTRY_VFS_RECORD_LOCK_H_
