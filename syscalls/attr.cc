// Ownership and permissions: chmod(2), fchmod(2), fchmodat(2), chown(2),
// fchown(2), lchown(2), fchownat(2), umask(2).
#include <sys/stat.h>
#include <sys/syscall.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// A path-based attribute change relative to `dirfd` (an empty path with
// AT_EMPTY_PATH changes dirfd's file, O_PATH or not).
Result<void> SetAttrAt(Task& t, int dirfd, UserPath path, int flags,
                       const vfs::AttrChange& change) {
  AtTarget at = TRY(ResolveAt(t, dirfd, path, flags));
  if (at.file) return t.kernel().vfs().SetAttr(*at.file, FileCreds(t), change);
  return t.kernel().vfs().SetAttr(at.ctx, at.path,
                                  !(flags & AT_SYMLINK_NOFOLLOW), change);
}

Result<void> SetAttrFd(Task& t, Fd fd, const vfs::AttrChange& change) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  return t.kernel().vfs().SetAttr(*f, FileCreds(t), change);
}

// Chmod implements Linux syscall chmod(2).
Result<void> Chmod(Task& t, UserPath path, unsigned mode) {
  return SetAttrAt(t, AT_FDCWD, path, 0, {.mode = mode & 07777});
}

// Fchmod implements Linux syscall fchmod(2).
Result<void> Fchmod(Task& t, Fd fd, unsigned mode) {
  return SetAttrFd(t, fd, {.mode = mode & 07777});
}

// Fchmodat implements Linux syscall fchmodat(2) (which has no flags).
Result<void> Fchmodat(Task& t, Fd dirfd, UserPath path, unsigned mode) {
  return SetAttrAt(t, dirfd.value, path, 0, {.mode = mode & 07777});
}

// (uid_t)-1 and (gid_t)-1 leave the id alone.
vfs::AttrChange ChownChange(uint32_t uid, uint32_t gid) {
  vfs::AttrChange c;
  if (uid != static_cast<uint32_t>(-1)) c.uid = uid;
  if (gid != static_cast<uint32_t>(-1)) c.gid = gid;
  return c;
}

// Chown implements Linux syscall chown(2).
Result<void> Chown(Task& t, UserPath path, uint32_t uid, uint32_t gid) {
  return SetAttrAt(t, AT_FDCWD, path, 0, ChownChange(uid, gid));
}

// Lchown implements Linux syscall lchown(2).
Result<void> Lchown(Task& t, UserPath path, uint32_t uid, uint32_t gid) {
  return SetAttrAt(t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
                   ChownChange(uid, gid));
}

// Fchown implements Linux syscall fchown(2).
Result<void> Fchown(Task& t, Fd fd, uint32_t uid, uint32_t gid) {
  return SetAttrFd(t, fd, ChownChange(uid, gid));
}

// Fchownat implements Linux syscall fchownat(2).
Result<void> Fchownat(Task& t, Fd dirfd, UserPath path, uint32_t uid,
                      uint32_t gid, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  return SetAttrAt(t, dirfd.value, path, flags, ChownChange(uid, gid));
}

// Umask implements Linux syscall umask(2).
Result<unsigned> Umask(Task& t, unsigned mask) {
  return t.fs().set_umask(mask & 0777);
}

}  // namespace

void RegisterAttr(Registrar& r) {
  r.Full<&Chmod>(SYS_chmod).Show(SYS_chmod, 1, ArgKind::kOctal);
  r.Partial<&Fchmod>(SYS_fchmod, "pipes, sockets and host stdio: EPERM")
      .Show(SYS_fchmod, 1, ArgKind::kOctal);
  r.Full<&Fchmodat>(SYS_fchmodat).Show(SYS_fchmodat, 2, ArgKind::kOctal);
  r.Full<&Chown>(SYS_chown);
  r.Full<&Lchown>(SYS_lchown);
  r.Partial<&Fchown>(SYS_fchown, "pipes, sockets and host stdio: EPERM");
  r.Full<&Fchownat>(SYS_fchownat);
  r.Full<&Umask>(SYS_umask).Show(SYS_umask, 0, ArgKind::kOctal);
}

}  // namespace syscalls
