// open(2), openat(2), openat2(2), creat(2), close(2), the dup family,
// fcntl(2).
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "sentry/pipe/pipe.h"
#include "sentry/vfs/tmpfs.h"
#include "syscalls/common.h"
#include "syscalls/fcntl_lock.h"

namespace syscalls {
namespace {

// Flags Linux accepts and keeps; anything else is silently dropped, as
// Linux does for unknown open flags.
constexpr int kValidOpenFlags =
    O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
    O_DSYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME |
    O_CLOEXEC | O_SYNC | O_PATH | __O_TMPFILE | FASYNC;

// open(2) of a FIFO without O_NONBLOCK while its other side is missing
// waits until an end of that side is opened (Linux's wait_for_partner),
// interruptibly: a signal drops the new end and restarts the call.
Result<void> WaitForFifoPartner(Task& t, vfs::FileDescription& f) {
  if (!pipes::FifoMustWait(f)) return {};
  Task::WaitEntry entry(t, pipes::kFifoOpenEvent);
  f.EventRegister(&entry);
  Result<void> r;
  while (pipes::FifoMustWait(f)) {
    if (t.Block(absl::InfiniteFuture(), &entry.ready) ==
        Task::WakeReason::kInterrupted) {
      r = Err(base::kERESTARTSYS);
      break;
    }
    entry.ready.store(false);
  }
  f.EventUnregister(&entry);
  return r;
}

// Opens `p` from ctx and installs the new file; `flags` are checked.
Result<int> OpenIn(Task& t, const vfs::PathContext& ctx, const std::string& p,
                   int flags, mode_t mode) {
  mode &= ~t.fs().umask() & 07777;
  FilePtr f = TRY(t.kernel().vfs().Open(ctx, p, flags, mode));
  TRY(WaitForFifoPartner(t, *f));
  return t.fds().Install(std::move(f), flags & O_CLOEXEC, 0, NofileLimit(t));
}

Result<int> DoOpenAt(Task& t, int dirfd, UserPath path, int flags,
                     mode_t mode) {
  std::string p = TRY(CopyInPath(t, path));
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  flags &= kValidOpenFlags;
  // O_LARGEFILE is implied on 64-bit, and Linux reports it in F_GETFL.
  flags |= O_LARGEFILE;
  return OpenIn(t, ctx, p, flags, mode);
}

// Linux's build_open_how checks, which openat2 makes strict: unknown
// flags are EINVAL rather than dropped.
Result<void> CheckOpenHow(const open_how& how) {
  constexpr uint64_t kValidResolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |
                                     RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
                                     RESOLVE_IN_ROOT | RESOLVE_CACHED;
  constexpr uint64_t kPathFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if (how.flags & ~static_cast<uint64_t>(kValidOpenFlags)) return Err(EINVAL);
  if (how.resolve & ~kValidResolve) return Err(EINVAL);
  if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
    return Err(EINVAL);
  const bool creates =
      (how.flags & O_CREAT) || (how.flags & __O_TMPFILE) == __O_TMPFILE;
  if (creates ? (how.mode & ~07777ull) != 0 : how.mode != 0)
    return Err(EINVAL);
  if ((how.flags & O_PATH) && (how.flags & ~kPathFlags)) return Err(EINVAL);
  if ((how.resolve & RESOLVE_CACHED) &&
      (how.flags & (O_TRUNC | O_CREAT | __O_TMPFILE)))
    return Err(EAGAIN);
  return {};
}

// Open implements Linux syscall open(2).
Result<int> Open(Task& t, UserPath path, int flags, unsigned mode) {
  return DoOpenAt(t, AT_FDCWD, path, flags, mode);
}

// Openat implements Linux syscall openat(2).
Result<int> Openat(Task& t, Fd dirfd, UserPath path, int flags,
                   unsigned mode) {
  return DoOpenAt(t, dirfd.value, path, flags, mode);
}

// Openat2 implements Linux syscall openat2(2).
Result<int> Openat2(Task& t, Fd dirfd, UserPath path, UserPtr<open_how> uhow,
                    size_t size) {
  constexpr size_t kOpenHowSizeVer0 = 24;  // Linux's OPEN_HOW_SIZE_VER0
  const open_how how =
      TRY(CopyInExtensible<open_how>(t, uhow.addr, size, kOpenHowSizeVer0));
  TRY(CheckOpenHow(how));
  std::string p = TRY(CopyInPath(t, path));
  // A scoped walk starts at dirfd even for an absolute path.
  const bool scoped = how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  vfs::PathContext ctx = TRY(scoped ? t.PathContextAt(dirfd.value)
                                    : PathContextFor(t, dirfd.value, p));
  ctx.resolve = how.resolve;
  int flags = static_cast<int>(how.flags);
  if (!(flags & O_PATH)) flags |= O_LARGEFILE;
  return OpenIn(t, ctx, p, flags, static_cast<mode_t>(how.mode));
}

// Creat implements Linux syscall creat(2).
Result<int> Creat(Task& t, UserPath path, unsigned mode) {
  return DoOpenAt(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

// Close implements Linux syscall close(2).
Result<void> Close(Task& t, Fd fd) {
  TRY(t.fds().Remove(fd.value));
  return {};
}

// CloseRange implements Linux syscall close_range(2).
Result<void> CloseRange(Task& t, unsigned first, unsigned last,
                        unsigned flags) {
  constexpr unsigned kCloexec = 1u << 2;  // CLOSE_RANGE_CLOEXEC
  constexpr unsigned kUnshare = 1u << 1;  // CLOSE_RANGE_UNSHARE
  if (flags & ~(kCloexec | kUnshare)) return Err(EINVAL);
  if (first > last) return Err(EINVAL);
  int lo = first > INT_MAX ? INT_MAX : static_cast<int>(first);
  int hi = last > INT_MAX ? INT_MAX : static_cast<int>(last);
  // A table shared with clone(CLONE_FILES) tasks is copied first: the
  // change is the caller's alone.
  if (flags & kUnshare) t.UnshareFds();
  if (flags & kCloexec) {
    for (int fd : t.fds().Fds())
      if (fd >= lo && fd <= hi) (void)t.fds().SetCloexec(fd, true);
    return {};
  }
  t.fds().RemoveRange(lo, hi);
  return {};
}

// Dup implements Linux syscall dup(2).
Result<int> Dup(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  return t.fds().Install(std::move(f), false, 0, NofileLimit(t));
}

Result<int> DoDup3(Task& t, Fd oldfd, Fd newfd, int flags) {
  if (flags & ~O_CLOEXEC) return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, oldfd));
  TRY(t.fds().InstallAt(newfd.value, std::move(f), flags & O_CLOEXEC,
                        NofileLimit(t)));
  return newfd.value;
}

// Dup2 implements Linux syscall dup2(2).
Result<int> Dup2(Task& t, Fd oldfd, Fd newfd) {
  if (oldfd.value == newfd.value) {
    TRY(GetFile(t, oldfd));
    return newfd.value;
  }
  return DoDup3(t, oldfd, newfd, 0);
}

// Dup3 implements Linux syscall dup3(2).
Result<int> Dup3(Task& t, Fd oldfd, Fd newfd, int flags) {
  if (oldfd.value == newfd.value) return Err(EINVAL);
  return DoDup3(t, oldfd, newfd, flags);
}

// F_GETPIPE_SZ and F_SETPIPE_SZ, as Linux's pipe_fcntl (`arg` is an
// unsigned int there).
Result<int64_t> PipeFcntl(Task& t, vfs::FileDescription& f, int cmd,
                          unsigned arg) {
  pipes::Pipe* pipe = pipes::PipeOf(f);
  if (!pipe) return Err(EBADF);
  if (cmd == F_GETPIPE_SZ) return pipe->Capacity();
  const size_t size = pipes::RoundPipeSize(arg);
  if (size == 0) return Err(EINVAL);
  // Growing past /proc/sys/fs/pipe-max-size takes CAP_SYS_RESOURCE;
  // shrinking is always allowed.
  if (size > pipe->Capacity() && size > pipes::kPipeMaxSize &&
      !t.creds().HasCap(CAP_SYS_RESOURCE))
    return Err(EPERM);
  return TRY(pipe->SetCapacity(size));
}

// Fcntl implements Linux syscall fcntl(2).
Result<int64_t> Fcntl(Task& t, Fd fd, int cmd, uint64_t arg) {
  FilePtr f = TRY(GetFile(t, fd));
  // An O_PATH descriptor answers only these, as Linux's check_fcntl_cmd.
  if (f->is_path() && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC &&
      cmd != F_GETFD && cmd != F_SETFD && cmd != F_GETFL)
    return Err(EBADF);
  if (IsLockCommand(cmd)) return FcntlLock(t, fd, std::move(f), cmd, arg);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int min = static_cast<int>(arg);
      if (min < 0) return Err(EINVAL);
      return t.fds().Install(std::move(f), cmd == F_DUPFD_CLOEXEC, min,
                             NofileLimit(t));
    }
    case F_GETFD:
      return TRY(t.fds().GetCloexec(fd.value)) ? FD_CLOEXEC : 0;
    case F_SETFD:
      TRY(t.fds().SetCloexec(fd.value, arg & FD_CLOEXEC));
      return 0;
    case F_GETFL:
      return f->flags() & ~O_CLOEXEC;
    case F_SETFL:
      f->SetStatusFlags(static_cast<int>(arg));
      return 0;
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
      return PipeFcntl(t, *f, cmd, static_cast<unsigned>(arg));
    case F_ADD_SEALS: {
      // As Linux's memfd_add_seals: write access, valid bits, a file
      // that takes seals (tmpfs), then not sealed against sealing.
      if (!f->writable()) return Err(EPERM);
      const unsigned seals = static_cast<unsigned>(arg);
      if (seals & ~vfs::kAllSeals) return Err(EINVAL);
      TRY(vfs::TmpfsAddSeals(*f, seals));
      return 0;
    }
    case F_GET_SEALS:
      return TRY(vfs::TmpfsGetSeals(*f));
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterOpen(Registrar& r) {
  r.Full<&Open>(SYS_open).Show(SYS_open, 1, ArgKind::kOpenFlags)
      .Show(SYS_open, 2, ArgKind::kOctal);
  r.Full<&Openat>(SYS_openat).Show(SYS_openat, 2, ArgKind::kOpenFlags)
      .Show(SYS_openat, 3, ArgKind::kOctal);
  r.Partial<&Openat2>(SYS_openat2,
                      "RESOLVE_CACHED opens as if every lookup were cached");
  r.Full<&Creat>(SYS_creat).Show(SYS_creat, 1, ArgKind::kOctal);
  r.Full<&Close>(SYS_close);
  r.Full<&CloseRange>(SYS_close_range);
  r.Full<&Dup>(SYS_dup);
  r.Full<&Dup2>(SYS_dup2);
  r.Full<&Dup3>(SYS_dup3);
  // As a filesystem without export operations; glibc and programs that
  // probe (systemd, mount tools) fall back to paths.
  r.Error(SYS_name_to_handle_at, EOPNOTSUPP,
          "no file handles: every filesystem answers as one without export "
          "operations");
  r.Partial<&Fcntl>(SYS_fcntl,
                    "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, "
                    "F_SETFL, F_GETPIPE_SZ, F_SETPIPE_SZ (no per-user "
                    "pipe-user-pages limits), F_ADD_SEALS, F_GET_SEALS "
                    "(tmpfs files), F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, "
                    "F_OFD_SETLK, F_OFD_SETLKW (record locks; no mandatory "
                    "locking); no leases, F_NOTIFY, F_SETOWN/F_SETSIG");
}

}  // namespace syscalls
