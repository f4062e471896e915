// Directories and special files: mkdir(2), mkdirat(2), rmdir(2),
// mknod(2), mknodat(2).
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

Result<void> DoMkdirat(Task& t, int dirfd, UserPath path, mode_t mode) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  return t.kernel().vfs().Mkdir(ctx, p, mode & ~t.fs().umask() & 07777);
}

// Mkdir implements Linux syscall mkdir(2).
Result<void> Mkdir(Task& t, UserPath path, unsigned mode) {
  return DoMkdirat(t, AT_FDCWD, path, mode);
}

// Mkdirat implements Linux syscall mkdirat(2).
Result<void> Mkdirat(Task& t, Fd dirfd, UserPath path, unsigned mode) {
  return DoMkdirat(t, dirfd.value, path, mode);
}

// Rmdir implements Linux syscall rmdir(2).
Result<void> Rmdir(Task& t, UserPath path) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, AT_FDCWD, p));
  return t.kernel().vfs().Rmdir(ctx, p);
}

Result<void> DoMknodat(Task& t, int dirfd, UserPath path, mode_t mode,
                       unsigned dev) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  // The umask trims the permission bits, never the type.
  mode = (mode & S_IFMT) | (mode & ~t.fs().umask() & 07777);
  return t.kernel().vfs().Mknod(ctx, p, mode, dev);
}

// Mknod implements Linux syscall mknod(2).
Result<void> Mknod(Task& t, UserPath path, unsigned mode, unsigned dev) {
  return DoMknodat(t, AT_FDCWD, path, mode, dev);
}

// Mknodat implements Linux syscall mknodat(2).
Result<void> Mknodat(Task& t, Fd dirfd, UserPath path, unsigned mode,
                     unsigned dev) {
  return DoMknodat(t, dirfd.value, path, mode, dev);
}

}  // namespace

void RegisterMkdir(Registrar& r) {
  r.Full<&Mkdir>(SYS_mkdir).Show(SYS_mkdir, 1, ArgKind::kOctal);
  r.Full<&Mkdirat>(SYS_mkdirat).Show(SYS_mkdirat, 2, ArgKind::kOctal);
  r.Full<&Rmdir>(SYS_rmdir);
  constexpr const char* kMknodNote =
      "regular files, FIFOs (pipe semantics) and socket files (stat only: "
      "connect comes with AF_UNIX) in tmpfs and the overlay's upper layer; "
      "devices are EPERM (they come from devfs only)";
  r.Partial<&Mknod>(SYS_mknod, kMknodNote).Show(SYS_mknod, 1, ArgKind::kOctal);
  r.Partial<&Mknodat>(SYS_mknodat, kMknodNote)
      .Show(SYS_mknodat, 2, ArgKind::kOctal);
}

}  // namespace syscalls
