// Names: link(2), linkat(2), symlink(2), symlinkat(2), unlink(2),
// unlinkat(2), rename(2), renameat(2), renameat2(2).
#include <stdio.h>  // RENAME_*
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

Result<void> DoLinkat(Task& t, int olddirfd, UserPath oldpath, int newdirfd,
                      UserPath newpath, int flags) {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  std::string oldp = TRY(CopyInPath(t, oldpath));
  bool follow = flags & AT_SYMLINK_FOLLOW;
  vfs::PathContext old_ctx;
  if (oldp.empty() && (flags & AT_EMPTY_PATH)) {
    // Linking an open file needs CAP_DAC_READ_SEARCH; the file is reached
    // through its magic link, which lands on the file itself.
    if (FileCreds(t).uid != 0) return Err(ENOENT);
    old_ctx = TRY(t.PathContextAt(AT_FDCWD));
    if (olddirfd == AT_FDCWD) {
      oldp = old_ctx.start;
    } else {
      TRY(t.fds().Get(olddirfd));
      oldp = "/proc/self/fd/" + std::to_string(olddirfd);
      follow = true;
    }
  } else {
    old_ctx = TRY(PathContextFor(t, olddirfd, oldp));
  }
  std::string newp = TRY(CopyInPath(t, newpath));
  vfs::PathContext new_ctx = TRY(PathContextFor(t, newdirfd, newp));
  return t.kernel().vfs().Link(old_ctx, oldp, new_ctx, newp, follow);
}

// Link implements Linux syscall link(2).
Result<void> Link(Task& t, UserPath oldpath, UserPath newpath) {
  return DoLinkat(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

// Linkat implements Linux syscall linkat(2).
Result<void> Linkat(Task& t, Fd olddirfd, UserPath oldpath, Fd newdirfd,
                    UserPath newpath, int flags) {
  return DoLinkat(t, olddirfd.value, oldpath, newdirfd.value, newpath, flags);
}

Result<void> DoSymlinkat(Task& t, UserPath target, int dirfd,
                         UserPath linkpath) {
  std::string tgt = TRY(CopyInPath(t, target));
  std::string p = TRY(CopyInPath(t, linkpath));
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  return t.kernel().vfs().Symlink(ctx, tgt, p);
}

// Symlink implements Linux syscall symlink(2).
Result<void> Symlink(Task& t, UserPath target, UserPath linkpath) {
  return DoSymlinkat(t, target, AT_FDCWD, linkpath);
}

// Symlinkat implements Linux syscall symlinkat(2).
Result<void> Symlinkat(Task& t, UserPath target, Fd dirfd, UserPath linkpath) {
  return DoSymlinkat(t, target, dirfd.value, linkpath);
}

Result<void> DoUnlinkat(Task& t, int dirfd, UserPath path, int flags) {
  if (flags & ~AT_REMOVEDIR) return Err(EINVAL);
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  if (flags & AT_REMOVEDIR) return t.kernel().vfs().Rmdir(ctx, p);
  return t.kernel().vfs().Unlink(ctx, p);
}

// Unlink implements Linux syscall unlink(2).
Result<void> Unlink(Task& t, UserPath path) {
  return DoUnlinkat(t, AT_FDCWD, path, 0);
}

// Unlinkat implements Linux syscall unlinkat(2).
Result<void> Unlinkat(Task& t, Fd dirfd, UserPath path, int flags) {
  return DoUnlinkat(t, dirfd.value, path, flags);
}

Result<void> DoRenameat2(Task& t, int olddirfd, UserPath oldpath, int newdirfd,
                         UserPath newpath, unsigned flags) {
  std::string oldp = TRY(CopyInPath(t, oldpath));
  std::string newp = TRY(CopyInPath(t, newpath));
  vfs::PathContext old_ctx = TRY(PathContextFor(t, olddirfd, oldp));
  vfs::PathContext new_ctx = TRY(PathContextFor(t, newdirfd, newp));
  return t.kernel().vfs().Rename(old_ctx, oldp, new_ctx, newp, flags);
}

// Rename implements Linux syscall rename(2).
Result<void> Rename(Task& t, UserPath oldpath, UserPath newpath) {
  return DoRenameat2(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

// Renameat implements Linux syscall renameat(2).
Result<void> Renameat(Task& t, Fd olddirfd, UserPath oldpath, Fd newdirfd,
                      UserPath newpath) {
  return DoRenameat2(t, olddirfd.value, oldpath, newdirfd.value, newpath, 0);
}

// Renameat2 implements Linux syscall renameat2(2).
Result<void> Renameat2(Task& t, Fd olddirfd, UserPath oldpath, Fd newdirfd,
                       UserPath newpath, unsigned flags) {
  return DoRenameat2(t, olddirfd.value, oldpath, newdirfd.value, newpath,
                     flags);
}

}  // namespace

void RegisterLink(Registrar& r) {
  r.Full<&Link>(SYS_link);
  r.Full<&Linkat>(SYS_linkat);
  r.Full<&Symlink>(SYS_symlink);
  r.Full<&Symlinkat>(SYS_symlinkat);
  r.Full<&Unlink>(SYS_unlink);
  r.Full<&Unlinkat>(SYS_unlinkat);
  r.Full<&Rename>(SYS_rename);
  r.Full<&Renameat>(SYS_renameat);
  r.Partial<&Renameat2>(SYS_renameat2,
                        "RENAME_NOREPLACE, RENAME_EXCHANGE; no "
                        "RENAME_WHITEOUT (EINVAL)");
}

}  // namespace syscalls
