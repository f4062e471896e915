// The stat family, access(2) and readlink(2).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "sentry/vfs/file_attrs.h"
#include "sentry/vfs/node.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

// Stats `path` relative to `dirfd`; an empty path means `dirfd` itself
// when AT_EMPTY_PATH is given.
Result<struct stat> StatAt(Task& t, int dirfd, UserPath path, int flags) {
  std::string p = TRY(CopyInPath(t, path));
  if (p.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    if (dirfd == AT_FDCWD) {
      vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
      return t.kernel().vfs().Stat(ctx, ctx.start, true);
    }
    FilePtr f = TRY(t.fds().Get(dirfd));
    return f->Stat();
  }
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  return t.kernel().vfs().Stat(ctx, p, !(flags & AT_SYMLINK_NOFOLLOW));
}

// Stat implements Linux syscall stat(2).
Result<void> Stat(Task& t, UserPath path, UserPtr<struct stat> buf) {
  struct stat st = TRY(StatAt(t, AT_FDCWD, path, 0));
  return t.mm().CopyOutObj(buf, st);
}

// Lstat implements Linux syscall lstat(2).
Result<void> Lstat(Task& t, UserPath path, UserPtr<struct stat> buf) {
  struct stat st = TRY(StatAt(t, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW));
  return t.mm().CopyOutObj(buf, st);
}

// Fstat implements Linux syscall fstat(2).
Result<void> Fstat(Task& t, Fd fd, UserPtr<struct stat> buf) {
  FilePtr f = TRY(GetFile(t, fd));
  struct stat st = TRY(f->Stat());
  return t.mm().CopyOutObj(buf, st);
}

// Newfstatat implements Linux syscall newfstatat(2).
Result<void> Newfstatat(Task& t, Fd dirfd, UserPath path,
                        UserPtr<struct stat> buf, int flags) {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
    return Err(EINVAL);
  struct stat st = TRY(StatAt(t, dirfd.value, path, flags));
  return t.mm().CopyOutObj(buf, st);
}

struct statx_timestamp ToStatxTime(const timespec& ts) {
  struct statx_timestamp out{};
  out.tv_sec = ts.tv_sec;
  out.tv_nsec = static_cast<uint32_t>(ts.tv_nsec);
  return out;
}

// The file statx(2) describes, as an open description: dirfd's own (an
// empty path with AT_EMPTY_PATH), else an O_PATH description of the path,
// which keeps the node for the fields stat(2) lacks.
Result<FilePtr> StatxTarget(Task& t, int dirfd, UserPath path, int flags) {
  std::string p = TRY(CopyInPath(t, path));
  if (p.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    if (dirfd != AT_FDCWD) return t.fds().Get(dirfd);
    vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
    return t.kernel().vfs().Open(ctx, ctx.start, O_PATH, 0);
  }
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  const int nofollow = (flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0;
  return t.kernel().vfs().Open(ctx, p, O_PATH | nofollow, 0);
}

// Statx implements Linux syscall statx(2).
Result<void> Statx(Task& t, Fd dirfd, UserPath path, int flags, unsigned mask,
                   UserPtr<struct statx> buf) {
  constexpr int kValid = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH |
                         AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE;
  if (flags & ~kValid) return Err(EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return Err(EINVAL);
  if (mask & STATX__RESERVED) return Err(EINVAL);
  // Nothing is cached on behalf of a remote server, so the sync flags
  // change nothing.
  FilePtr f = TRY(StatxTarget(t, dirfd.value, path, flags));
  const struct stat st = TRY(f->Stat());
  const vfs::StatxExtras x = vfs::GetStatxExtras(*f, t.kernel().vfs().Mounts(t.ns.mnt.get()));
  struct statx sx{};
  // Every basic field is known, and the mount id, whatever was asked (as
  // Linux); the birth time only where the filesystem records it and only
  // when asked (as Linux's tmpfs). STATX_MNT_ID_UNIQUE, DIOALIGN and
  // SUBVOL are never filled: their bits stay clear.
  sx.stx_mask = STATX_BASIC_STATS | STATX_MNT_ID;
  if (x.btime && (mask & STATX_BTIME)) {
    sx.stx_mask |= STATX_BTIME;
    sx.stx_btime = ToStatxTime(*x.btime);
  }
  sx.stx_attributes = x.attributes;
  sx.stx_attributes_mask = x.attributes_mask;
  sx.stx_mnt_id = x.mnt_id;
  sx.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  sx.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  sx.stx_uid = st.st_uid;
  sx.stx_gid = st.st_gid;
  sx.stx_mode = static_cast<uint16_t>(st.st_mode);
  sx.stx_ino = st.st_ino;
  sx.stx_size = st.st_size;
  sx.stx_blocks = st.st_blocks;
  sx.stx_atime = ToStatxTime(st.st_atim);
  sx.stx_mtime = ToStatxTime(st.st_mtim);
  sx.stx_ctime = ToStatxTime(st.st_ctim);
  sx.stx_rdev_major = major(st.st_rdev);
  sx.stx_rdev_minor = minor(st.st_rdev);
  sx.stx_dev_major = major(st.st_dev);
  sx.stx_dev_minor = minor(st.st_dev);
  return t.mm().CopyOutObj(buf, sx);
}

Result<void> AccessAt(Task& t, int dirfd, UserPath path, int mode,
                      int flags) {
  if (mode & ~(R_OK | W_OK | X_OK)) return Err(EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return Err(EINVAL);
  std::string p = TRY(CopyInPath(t, path));
  if (p.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    // The file dirfd refers to, whatever its type: check it by its path.
    if (dirfd == AT_FDCWD) {
      p = t.fs().cwd();
    } else {
      FilePtr f = TRY(t.fds().Get(dirfd));
      p = f->path();
    }
    dirfd = AT_FDCWD;
  }
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  kernel::Credentials c = t.creds();
  bool effective = flags & AT_EACCESS;
  return t.kernel().vfs().Access(ctx, p, mode, !(flags & AT_SYMLINK_NOFOLLOW),
                                 effective ? c.euid : c.ruid,
                                 effective ? c.egid : c.rgid);
}

// Access implements Linux syscall access(2).
Result<void> Access(Task& t, UserPath path, int mode) {
  return AccessAt(t, AT_FDCWD, path, mode, 0);
}

// Faccessat implements Linux syscall faccessat(2).
Result<void> Faccessat(Task& t, Fd dirfd, UserPath path, int mode) {
  return AccessAt(t, dirfd.value, path, mode, 0);
}

// Faccessat2 implements Linux syscall faccessat2(2).
Result<void> Faccessat2(Task& t, Fd dirfd, UserPath path, int mode,
                        int flags) {
  return AccessAt(t, dirfd.value, path, mode, flags);
}

Result<size_t> ReadlinkAt(Task& t, int dirfd, UserPath path,
                          UserPtr<char> buf, int size) {
  if (size <= 0) return Err(EINVAL);
  std::string p = TRY(CopyInPath(t, path));
  std::string target;
  if (p.empty()) {
    // The link dirfd is open on (O_PATH | O_NOFOLLOW); anything else that
    // an empty path names is ENOENT, as Linux.
    if (dirfd == AT_FDCWD) return Err(ENOENT);
    FilePtr f = TRY(t.fds().Get(dirfd));
    if (!S_ISLNK(TRY(f->Stat()).st_mode)) return Err(ENOENT);
    auto* nd = dynamic_cast<vfs::NodeDescription*>(f.get());
    if (nd && nd->node()) {
      target = TRY(nd->node()->Readlink());
    } else {
      // Found again by its path (stable outside tmpfs, whose files all
      // know their node).
      vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
      ctx.root = "/";
      target = TRY(t.kernel().vfs().Readlink(ctx, f->path()));
    }
  } else {
    vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
    target = TRY(t.kernel().vfs().Readlink(ctx, p));
  }
  size_t n = target.size() < static_cast<size_t>(size) ? target.size()
                                                       : static_cast<size_t>(size);
  TRY(t.mm().CopyOut(buf.addr, target.data(), n));
  return n;
}

// Readlink implements Linux syscall readlink(2).
Result<size_t> Readlink(Task& t, UserPath path, UserPtr<char> buf, int size) {
  return ReadlinkAt(t, AT_FDCWD, path, buf, size);
}

// Readlinkat implements Linux syscall readlinkat(2).
Result<size_t> Readlinkat(Task& t, Fd dirfd, UserPath path, UserPtr<char> buf,
                          int size) {
  return ReadlinkAt(t, dirfd.value, path, buf, size);
}

}  // namespace

void RegisterStat(Registrar& r) {
  r.Full<&Stat>(SYS_stat);
  r.Full<&Lstat>(SYS_lstat);
  r.Full<&Fstat>(SYS_fstat);
  r.Full<&Newfstatat>(SYS_newfstatat);
  r.Partial<&Statx>(SYS_statx,
                    "btime on tmpfs and the overlay's upper files only (the "
                    "gofer does not pass the host's); attributes MOUNT_ROOT, "
                    "and NODUMP on tmpfs (IMMUTABLE and APPEND cannot be "
                    "set); stx_mnt_id as mountinfo, 0 for pipes and "
                    "sockets; no STATX_MNT_ID_UNIQUE, DIOALIGN or SUBVOL");
  r.Full<&Access>(SYS_access);
  r.Full<&Faccessat>(SYS_faccessat);
  r.Full<&Faccessat2>(SYS_faccessat2);
  r.Full<&Readlink>(SYS_readlink).Show(SYS_readlink, 1, ArgKind::kOutBuf);
  r.Full<&Readlinkat>(SYS_readlinkat).Show(SYS_readlinkat, 2, ArgKind::kOutBuf);
}

}  // namespace syscalls
