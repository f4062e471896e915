// The ioctls of a pseudo-terminal, as Linux's tty_ioctl, tty_mode_ioctl
// and pty_unix98_ioctl answer them.
#include <sys/ioctl.h>

#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/task.h"
#include "sentry/tty/devpts.h"
#include "sentry/tty/job_control.h"
#include "sentry/tty/pty.h"

namespace tty {
namespace {

using base::Err;
using base::Result;

// The termios2 requests (<asm/ioctls.h> defines them with a struct that
// clashes with glibc's termios).
constexpr uint32_t kTcgets2 = 0x802C542A;
constexpr uint32_t kTcsets2 = 0x402C542B;
constexpr uint32_t kTcsetsw2 = 0x402C542C;
constexpr uint32_t kTcsetsf2 = 0x402C542D;

template <class T>
Result<T> In(kernel::Task& t, uint64_t arg) {
  T v;
  TRY(t.mm().CopyIn(arg, &v, sizeof v));
  return v;
}

template <class T>
Result<uint64_t> Out(kernel::Task& t, uint64_t arg, const T& v) {
  TRY(t.mm().CopyOut(arg, &v, sizeof v));
  return 0;
}

// TCSETS, TCSETSW, TCSETSF and their termios2 forms: a background caller
// is stopped first (SIGTTOU); the F forms flush the input. A pty has no
// output to drain, so W is the plain form.
Result<uint64_t> SetTermios(kernel::Task& t, Terminal& term, bool master,
                            uint64_t arg, bool termios2, bool flush) {
  KernelTermios n;
  if (termios2) {
    n = TRY(In<KernelTermios2>(t, arg)).t;
  } else {
    n = TRY(In<KernelTermios>(t, arg));
  }
  TRY(CheckChange(t, term, SIGTTOU));
  if (flush) TRY(term.Flush(master, TCIFLUSH));
  // A pty's hardware settings are fixed (pty_set_termios keeps CS8 etc.
  // only in spirit): keep what the app asks, as Linux does.
  term.SetTermios(n);
  return 0;
}

}  // namespace

Result<uint64_t> TerminalIoctl(kernel::Task& t,
                               const std::shared_ptr<Terminal>& term,
                               bool master, vfs::FileDescription& f,
                               uint32_t cmd, uint64_t arg) {
  // After a hangup a replica answers only what hung_up_tty_ioctl does.
  if (!master && term->hung_up()) {
    if (cmd == TIOCSPGRP) return Err(ENOTTY);
    return Err(EIO);
  }
  switch (cmd) {
    case TCGETS:
      return Out(t, arg, term->GetTermios());
    case kTcgets2: {
      KernelTermios2 t2{.t = term->GetTermios(), .c_ispeed = 38400,
                        .c_ospeed = 38400};
      return Out(t, arg, t2);
    }
    case TCSETS:
    case TCSETSW:
      return SetTermios(t, *term, master, arg, false, false);
    case TCSETSF:
      return SetTermios(t, *term, master, arg, false, true);
    case kTcsets2:
    case kTcsetsw2:
      return SetTermios(t, *term, master, arg, true, false);
    case kTcsetsf2:
      return SetTermios(t, *term, master, arg, true, true);
    case TIOCGWINSZ:
      return Out(t, arg, term->GetWinsize());
    case TIOCSWINSZ: {
      const auto ws = TRY(In<struct winsize>(t, arg));
      Signals s;
      term->SetWinsize(ws, &s);
      SendSignals(t.kernel(), s);
      return 0;
    }
    case FIONREAD: {
      const int n = static_cast<int>(master ? term->MasterInputQueued()
                                            : term->ReplicaInputQueued());
      return Out(t, arg, n);
    }
    case TIOCOUTQ: {
      // What this end wrote that the other has not read.
      const int n = static_cast<int>(master ? term->ReplicaInputQueued()
                                            : term->MasterInputQueued());
      return Out(t, arg, n);
    }
    case TCFLSH:
      TRY(CheckChange(t, *term, SIGTTOU));
      TRY(term->Flush(master, static_cast<int>(arg)));
      return 0;
    case TCSBRK:
    case TCSBRKP:
    case TCXONC:
      return 0;  // no line to send a break on; output is never stopped
    case TIOCGETD:
      return Out(t, arg, int{0});  // N_TTY
    case TIOCSETD: {
      const int ldisc = TRY(In<int>(t, arg));
      if (ldisc != 0) return Err(EINVAL);
      return 0;
    }
    case TIOCSCTTY:
      TRY(SetControlling(t, term, arg == 1, f.readable()));
      return 0;
    case TIOCNOTTY:
      // The master is never anyone's controlling terminal.
      if (master) return Err(ENOTTY);
      TRY(GiveUp(t, *term));
      return 0;
    case TIOCGPGRP:
      return Out(t, arg, TRY(GetPgrp(t, *term, master)));
    case TIOCSPGRP:
      TRY(SetPgrp(t, *term, TRY(In<int>(t, arg))));
      return 0;
    case TIOCGSID:
      return Out(t, arg, TRY(GetSid(t, *term, master)));
    default:
      break;
  }
  if (!master) {
    // ptm_open_peer refuses anything but a master with EIO.
    return Err(cmd == TIOCGPTPEER ? EIO : ENOTTY);
  }
  switch (cmd) {
    case TIOCGPTN:
      return Out(t, arg, static_cast<unsigned>(term->index()));
    case TIOCSPTLCK:
      term->SetLocked(TRY(In<int>(t, arg)) != 0);
      return 0;
    case TIOCGPTLCK:
      return Out(t, arg, int{term->locked()});
    case TIOCPKT:
      term->SetPacketMode(TRY(In<int>(t, arg)) != 0);
      return 0;
    case TIOCGPKT:
      return Out(t, arg, int{term->packet_mode()});
    case TIOCGPTPEER: {
      // Opens the replica without a path walk (so a changed /dev/pts
      // cannot swap it), as ptm_open_peer.
      const int flags = static_cast<int>(arg);
      if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC))
        return Err(EINVAL);
      auto replica = TRY(NewReplica(
          term, &t.kernel(), flags & (O_ACCMODE | O_NONBLOCK),
          term->ReplicaStat(kDevptsMinor, term->index() + 3),
          "/dev/pts/" + std::to_string(term->index())));
      return TRY(t.fds().Install(
          std::move(replica), flags & O_CLOEXEC, 0,
          t.thread_group().GetRlimit(RLIMIT_NOFILE).rlim_cur));
    }
    default:
      return Err(ENOTTY);
  }
}

}  // namespace tty
