// Sizes and syncing: truncate(2), ftruncate(2), fallocate(2), fsync(2),
// fdatasync(2), sync(2), syncfs(2), sync_file_range(2), readahead(2).
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// FALLOC_FL_WRITE_ZEROES (Linux 6.17), missing from older headers.
constexpr int kFallocWriteZeroes = 0x80;

// Truncate implements Linux syscall truncate(2).
Result<void> Truncate(Task& t, UserPath path, int64_t length) {
  if (length < 0) return Err(EINVAL);
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  return t.kernel().vfs().SetAttr(ctx, p, true,
                                  {.size = static_cast<uint64_t>(length)});
}

// Ftruncate implements Linux syscall ftruncate(2).
Result<void> Ftruncate(Task& t, Fd fd, int64_t length) {
  if (length < 0) return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  struct stat st = TRY(f->Stat());
  if (!S_ISREG(st.st_mode) || !f->writable()) return Err(EINVAL);
  return t.kernel().vfs().SetAttr(*f, FileCreds(t),
                                  {.size = static_cast<uint64_t>(length)});
}

// The mode checks of Linux's vfs_fallocate, before the file's: unknown
// bits and impossible combinations are EOPNOTSUPP (a hole punch must keep
// the size; collapsing and inserting must change it).
Result<void> CheckFallocateMode(int mode) {
  constexpr int kModeMask = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
                            FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
                            FALLOC_FL_UNSHARE_RANGE | kFallocWriteZeroes;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | kModeMask)) return Err(EOPNOTSUPP);
  switch (mode & kModeMask) {
    case 0:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      return {};
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return Err(EOPNOTSUPP);
      return {};
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case kFallocWriteZeroes:
      if (mode & FALLOC_FL_KEEP_SIZE) return Err(EOPNOTSUPP);
      return {};
    default:
      return Err(EOPNOTSUPP);
  }
}

// Fallocate implements Linux syscall fallocate(2).
Result<void> Fallocate(Task& t, Fd fd, int mode, int64_t offset,
                       int64_t length) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  if (offset < 0 || length <= 0) return Err(EINVAL);
  TRY(CheckFallocateMode(mode));
  if (!f->writable()) return Err(EBADF);
  // Only tmpfs (and the overlay's upper tmpfs) allocates: it does what
  // Linux's shmem does (0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE) and refuses
  // the rest with EOPNOTSUPP.
  return t.kernel().vfs().Allocate(*f, static_cast<uint64_t>(offset),
                                   static_cast<uint64_t>(length), mode);
}

Result<void> DoSync(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  return t.kernel().vfs().Sync(*f);
}

// Fsync implements Linux syscall fsync(2).
Result<void> Fsync(Task& t, Fd fd) { return DoSync(t, fd); }

// Fdatasync implements Linux syscall fdatasync(2).
Result<void> Fdatasync(Task& t, Fd fd) { return DoSync(t, fd); }

// Sync implements Linux syscall sync(2): nothing in the sandbox is
// written back (tmpfs lives in memory, the host root is read-only).
Result<void> Sync(Task& t) { return {}; }

// Syncfs implements Linux syscall syncfs(2).
Result<void> Syncfs(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  return {};
}

// SyncFileRange implements Linux syscall sync_file_range(2). Nothing is
// ever written back (tmpfs, read-only host files), so only the checks.
Result<void> SyncFileRange(Task& t, Fd fd, int64_t offset, int64_t nbytes,
                           unsigned flags) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  constexpr unsigned kValid = SYNC_FILE_RANGE_WAIT_BEFORE |
                              SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER;
  if (flags & ~kValid) return Err(EINVAL);
  int64_t end;
  if (offset < 0 || nbytes < 0 || __builtin_add_overflow(offset, nbytes, &end))
    return Err(EINVAL);
  const struct stat st = TRY(f->Stat());
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode) &&
      !S_ISBLK(st.st_mode))
    return Err(ESPIPE);
  return {};
}

// Readahead implements Linux syscall readahead(2): the checks only, since
// every page is in memory already.
Result<void> Readahead(Task& t, Fd fd, int64_t offset, size_t count) {
  FilePtr f = TRY(GetFile(t, fd));
  if (!f->readable()) return Err(EBADF);
  const struct stat st = TRY(f->Stat());
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) return Err(EINVAL);
  // fadvise's length is signed.
  if (static_cast<int64_t>(count) < 0) return Err(EINVAL);
  return {};
}

}  // namespace

void RegisterTruncate(Registrar& r) {
  r.Full<&Truncate>(SYS_truncate);
  r.Full<&Ftruncate>(SYS_ftruncate);
  r.Full<&Fallocate>(SYS_fallocate);
  r.Full<&Fsync>(SYS_fsync);
  r.Full<&Fdatasync>(SYS_fdatasync);
  r.Full<&Sync>(SYS_sync);
  r.Full<&Syncfs>(SYS_syncfs);
  r.Full<&SyncFileRange>(SYS_sync_file_range);
  r.Full<&Readahead>(SYS_readahead);
}

}  // namespace syscalls
