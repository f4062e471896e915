// FdTable: a process's file descriptors (shared by CLONE_FILES tasks).
#ifndef SENTRY_KERNEL_FD_TABLE_H_
#define SENTRY_KERNEL_FD_TABLE_H_

#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/record_lock.h"

namespace kernel {

class FdTable {
 public:
  using FilePtr = std::shared_ptr<vfs::FileDescription>;

  // Installs `file` at the lowest free fd >= min_fd, below `limit`
  // (RLIMIT_NOFILE): EMFILE when there is none (EINVAL if min_fd >= limit,
  // as fcntl(F_DUPFD) wants).
  base::Result<int> Install(FilePtr file, bool cloexec, int min_fd,
                            uint64_t limit);
  // Installs at exactly `fd`, closing what was there (dup2/dup3).
  base::Result<void> InstallAt(int fd, FilePtr file, bool cloexec,
                               uint64_t limit);
  base::Result<FilePtr> Get(int fd) const;
  base::Result<bool> GetCloexec(int fd) const;
  base::Result<void> SetCloexec(int fd, bool cloexec);
  // Removes `fd`; EBADF if it is not open. The description closes when
  // its last reference goes. Every removal (here, InstallAt, RemoveRange,
  // RemoveCloexec) drops the table's record locks on the file.
  base::Result<FilePtr> Remove(int fd);
  // close_range(2) and exec's close-on-exec pass.
  void RemoveRange(int first, int last);
  void RemoveCloexec();

  std::vector<int> Fds() const;
  // fork(2) without CLONE_FILES: a new table with the same descriptions
  // (and no record locks: those are the old table's).
  std::shared_ptr<FdTable> Fork() const;

  // The owner of the POSIX record locks taken through this table: Linux's
  // files_struct, shared by threads, kept by execve.
  vfs::PosixLockOwner& lock_owner() { return lock_owner_; }

 private:
  struct Entry {
    FilePtr file;
    bool cloexec;
  };
  // Tells lock_owner_ about closed files, outside mu_.
  void Closed(const std::vector<FilePtr>& files);

  // Destroyed last: the table's locks go after its files.
  vfs::PosixLockOwner lock_owner_;
  mutable absl::Mutex mu_;
  std::map<int, Entry> fds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_FD_TABLE_H_
