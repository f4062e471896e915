// Sizes and syncing: truncate(2), ftruncate(2), fallocate(2), fsync(2),
// fdatasync(2), sync(2), syncfs(2).
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

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

// Fallocate implements Linux syscall fallocate(2).
Result<void> Fallocate(Task& t, Fd fd, int mode, int64_t offset,
                       int64_t length) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  if (offset < 0 || length <= 0) return Err(EINVAL);
  // FALLOC_FL_KEEP_SIZE | PUNCH_HOLE | NO_HIDE_STALE | COLLAPSE_RANGE |
  // ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE: known, but not done here.
  constexpr int kKnownModes = 0x7f;
  if (mode & ~kKnownModes) return Err(EOPNOTSUPP);
  if (!f->writable()) return Err(EBADF);
  if (mode != 0) return Err(EOPNOTSUPP);
  return t.kernel().vfs().Allocate(*f, static_cast<uint64_t>(offset),
                                   static_cast<uint64_t>(length));
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
  TRY(GetFile(t, fd));
  return {};
}

}  // namespace

void RegisterTruncate(Registrar& r) {
  r.Full<&Truncate>(SYS_truncate);
  r.Full<&Ftruncate>(SYS_ftruncate);
  r.Partial<&Fallocate>(SYS_fallocate, "mode 0 only; other modes EOPNOTSUPP");
  r.Full<&Fsync>(SYS_fsync);
  r.Full<&Fdatasync>(SYS_fdatasync);
  r.Full<&Sync>(SYS_sync);
  r.Full<&Syncfs>(SYS_syncfs);
}

}  // namespace syscalls
