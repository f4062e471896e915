// ioctl(2): the generic requests here, the rest by the file.
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

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
    default:
      return f->Ioctl(t, cmd, arg);
  }
}

}  // namespace

void RegisterIoctl(Registrar& r) {
  r.Partial<&Ioctl>(SYS_ioctl,
                    "FIOCLEX, FIONCLEX, FIONBIO; sandbox pseudo-terminals: "
                    "termios, window size, job control, FIONREAD, TIOCOUTQ, "
                    "TCFLSH, TIOCPKT, TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER (no "
                    "TIOCSTI); TCGETS and TIOCGWINSZ on host terminals; "
                    "others ENOTTY");
}

}  // namespace syscalls
