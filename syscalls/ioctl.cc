// ioctl(2): the generic requests here (Linux's do_vfs_ioctl), the rest by
// the file.
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sentry/vfs/file_attrs.h"
#include "syscalls/fs_util.h"

namespace syscalls {
namespace {

// FIONREAD of a regular file: the bytes from the offset to the end, as an
// int (negative past the end), whatever the filesystem, as Linux.
Result<uint64_t> RegularFionread(Task& t, vfs::FileDescription& f,
                                 uint64_t arg) {
  const struct stat st = TRY(f.Stat());
  const int64_t pos = TRY(f.Seek(0, SEEK_CUR));
  const int n = static_cast<int>(st.st_size - pos);
  TRY(t.mm().CopyOutObj(UserPtr<int>(arg), n));
  return 0;
}

// FIOASYNC: no file in the sentry sends SIGIO yet, so turning O_ASYNC on
// fails as Linux fails it for files without ->fasync (ENOTTY); turning it
// off, or asking for what is set already, succeeds.
Result<uint64_t> Fioasync(Task& t, vfs::FileDescription& f, uint64_t arg) {
  const int on = TRY(t.mm().CopyInObj(UserPtr<int>(arg)));
  const int flags = f.flags();
  if (!on) {
    f.SetStatusFlags(flags & ~O_ASYNC);
    return 0;
  }
  if (flags & O_ASYNC) return 0;
  return Err(ENOTTY);
}

// Ioctl implements Linux syscall ioctl(2).
Result<uint64_t> Ioctl(Task& t, Fd fd, unsigned cmd, uint64_t arg) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  switch (cmd) {
    case FIOCLEX:
      TRY(t.fds().SetCloexec(fd.value, true));
      return 0;
    case FIONCLEX:
      TRY(t.fds().SetCloexec(fd.value, false));
      return 0;
    case FIONBIO: {
      int on = TRY(t.mm().CopyInObj(UserPtr<int>(arg)));
      int flags = f->flags();
      f->SetStatusFlags(on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
      return 0;
    }
    case FIOASYNC:
      return Fioasync(t, *f, arg);
    case FIONREAD: {
      const struct stat st = TRY(f->Stat());
      if (S_ISREG(st.st_mode)) return RegularFionread(t, *f, arg);
      return f->Ioctl(t, cmd, arg);  // pipes, terminals
    }
    case FS_IOC_GETFLAGS: {
      const uint32_t flags = TRY(vfs::GetInodeFlags(*f));
      TRY(t.mm().CopyOutObj(UserPtr<int>(arg), static_cast<int>(flags)));
      return 0;
    }
    case FS_IOC_SETFLAGS: {
      const int flags = TRY(t.mm().CopyInObj(UserPtr<int>(arg)));
      TRY(vfs::SetInodeFlags(*f, FileCreds(t), static_cast<uint32_t>(flags)));
      return 0;
    }
    default:
      return f->Ioctl(t, cmd, arg);
  }
}

}  // namespace

void RegisterIoctl(Registrar& r) {
  r.Partial<&Ioctl>(
      SYS_ioctl,
      "FIOCLEX, FIONCLEX, FIONBIO; FIONREAD (regular files: size - offset; "
      "pipes; terminals); FIOASYNC only off (on is ENOTTY: no SIGIO); "
      "FS_IOC_GETFLAGS/SETFLAGS on tmpfs (NODUMP, NOATIME; IMMUTABLE and "
      "APPEND are EOPNOTSUPP), ENOTTY elsewhere; sandbox pseudo-terminals: "
      "termios, window size, job control, TIOCOUTQ, TCFLSH, TIOCPKT, "
      "TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER (no TIOCSTI); TCGETS and TIOCGWINSZ "
      "on host terminals; others ENOTTY");
}

}  // namespace syscalls
