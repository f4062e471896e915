// File times: utimensat(2), futimesat(2), utimes(2), utime(2).
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <utime.h>

#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// Sets atime and mtime (UTIME_NOW / UTIME_OMIT allowed) of `path` at
// `dirfd`, or of dirfd's file when `path` is NULL, as Linux's do_utimes.
Result<void> DoUtimes(Task& t, int dirfd, UserPath path,
                      const timespec times[2], int flags) {
  for (int i = 0; i < 2; ++i) {
    const long ns = times[i].tv_nsec;
    if ((ns < 0 || ns > 999'999'999) && ns != UTIME_NOW && ns != UTIME_OMIT) {
      return Err(EINVAL);
    }
  }
  vfs::AttrChange change{.atime = times[0], .mtime = times[1]};
  if (path.addr == 0 && dirfd != AT_FDCWD) {
    if (flags != 0) return Err(EINVAL);
    FilePtr f = TRY(GetFile(t, Fd{dirfd}));
    if (f->is_path()) return Err(EBADF);
    return t.kernel().vfs().SetAttr(*f, FileCreds(t), change);
  }
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Err(EINVAL);
  AtTarget at = TRY(ResolveAt(t, dirfd, path, flags));
  if (at.file) return t.kernel().vfs().SetAttr(*at.file, FileCreds(t), change);
  return t.kernel().vfs().SetAttr(at.ctx, at.path,
                                  !(flags & AT_SYMLINK_NOFOLLOW), change);
}

constexpr timespec kNow = {0, UTIME_NOW};

// Utimensat implements Linux syscall utimensat(2).
Result<void> Utimensat(Task& t, Fd dirfd, UserPath path,
                       UserPtr<timespec> times, int flags) {
  timespec ts[2] = {kNow, kNow};
  if (times.addr != 0) {
    TRY(t.mm().CopyIn(times.addr, ts, sizeof ts));
    // Nothing to change: Linux does not even look at the path.
    if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT) return {};
  }
  return DoUtimes(t, dirfd.value, path, ts, flags);
}

// Microsecond times of futimesat/utimes; NULL means now.
Result<void> DoFutimesat(Task& t, int dirfd, UserPath path,
                         UserPtr<timeval> times) {
  timespec ts[2] = {kNow, kNow};
  if (times.addr != 0) {
    timeval tv[2];
    TRY(t.mm().CopyIn(times.addr, tv, sizeof tv));
    for (int i = 0; i < 2; ++i) {
      if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1'000'000) return Err(EINVAL);
      ts[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
    }
  }
  return DoUtimes(t, dirfd, path, ts, 0);
}

// Futimesat implements Linux syscall futimesat(2).
Result<void> Futimesat(Task& t, Fd dirfd, UserPath path,
                       UserPtr<timeval> times) {
  return DoFutimesat(t, dirfd.value, path, times);
}

// Utimes implements Linux syscall utimes(2).
Result<void> Utimes(Task& t, UserPath path, UserPtr<timeval> times) {
  return DoFutimesat(t, AT_FDCWD, path, times);
}

// Utime implements Linux syscall utime(2).
Result<void> Utime(Task& t, UserPath path, UserPtr<utimbuf> times) {
  timespec ts[2] = {kNow, kNow};
  if (times.addr != 0) {
    utimbuf buf = TRY(t.mm().CopyInObj(times));
    ts[0] = {buf.actime, 0};
    ts[1] = {buf.modtime, 0};
  }
  return DoUtimes(t, AT_FDCWD, path, ts, 0);
}

}  // namespace

void RegisterUtimes(Registrar& r) {
  r.Full<&Utimensat>(SYS_utimensat);
  r.Full<&Futimesat>(SYS_futimesat);
  r.Full<&Utimes>(SYS_utimes);
  r.Full<&Utime>(SYS_utime);
}

}  // namespace syscalls
