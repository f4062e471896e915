// RLIMIT_FSIZE where files grow. Linux checks it deep in the file systems
// (generic_write_check_limits, inode_newsize_ok) against `current`'s
// limit; here the file systems ask these functions, which read the limit
// of the task whose host thread makes the call (each task runs on its own
// host thread; the kernel installs a FileSizeLimit there). Calls made by
// the sentry itself, on other threads, have no limit.
#ifndef SENTRY_VFS_FILE_SIZE_LIMIT_H_
#define SENTRY_VFS_FILE_SIZE_LIMIT_H_

#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace vfs {

class FileSizeLimit {
 public:
  virtual ~FileSizeLimit() = default;
  // The soft limit in bytes; RLIM_INFINITY for none.
  virtual uint64_t Get() const = 0;
  // The limit stopped a write or a size change: SIGXFSZ for the caller.
  virtual void Exceeded() = 0;
};

// Installs `limit` for calls on this host thread until the object dies.
class ScopedFileSizeLimit {
 public:
  explicit ScopedFileSizeLimit(FileSizeLimit* limit);
  ~ScopedFileSizeLimit();
  ScopedFileSizeLimit(const ScopedFileSizeLimit&) = delete;
  ScopedFileSizeLimit& operator=(const ScopedFileSizeLimit&) = delete;

 private:
  FileSizeLimit* const previous_;
};

// The calling thread's limit (RLIM_INFINITY when none is installed).
uint64_t CurrentFileSizeLimit();

// A write of `*count` (> 0) bytes at `pos` to a regular file, as Linux's
// generic_write_check_limits: at or past the limit it is EFBIG and SIGXFSZ;
// otherwise `*count` is cut to end at the limit (a short write).
base::Result<void> CheckWriteLimit(uint64_t pos, size_t* count);

// A regular file's size changing from `old_size` to `new_size` (truncate,
// fallocate), as Linux's inode_newsize_ok: growing past the limit is EFBIG
// and SIGXFSZ; shrinking is always allowed.
base::Result<void> CheckNewSizeLimit(uint64_t old_size, uint64_t new_size);

}  // namespace vfs

#endif  // SENTRY_VFS_FILE_SIZE_LIMIT_H_
