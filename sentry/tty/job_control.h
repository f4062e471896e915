// Terminals and job control: the controlling terminal of a session, its
// foreground process group, and the signals Linux's tty layer sends
// (drivers/tty/tty_jobctrl.c).
#ifndef SENTRY_TTY_JOB_CONTROL_H_
#define SENTRY_TTY_JOB_CONTROL_H_

#include <memory>

#include "base/result.h"
#include "sentry/tty/terminal.h"

namespace kernel {
class Kernel;
class Task;
}  // namespace kernel

namespace tty {

// The calling task's controlling terminal, or null.
std::shared_ptr<Terminal> ControllingTerminal(kernel::Task& t);
// Sends `s.sigs` to every process of group `s.pgrp` (SI_KERNEL, as
// kill_pgrp with a privileged sender); nothing if `s.pgrp` is 0.
void SendSignals(kernel::Kernel& k, const Signals& s);

// Linux's __tty_check_change for `sig` (SIGTTIN before a read, SIGTTOU
// before a write with TOSTOP and before changing the terminal): a task of
// a background group of the terminal's session gets EIO (SIGTTIN ignored
// or blocked, or an orphaned group) or sends `sig` to its group and gets
// ERESTARTSYS; SIGTTOU ignored or blocked lets it go on.
base::Result<void> CheckChange(kernel::Task& t, Terminal& term, int sig);

// TIOCSCTTY: makes `term` the controlling terminal of the caller's session
// (the caller must lead it and have none); `force` (arg 1, with
// CAP_SYS_ADMIN) steals it from another session.
base::Result<void> SetControlling(kernel::Task& t,
                                  const std::shared_ptr<Terminal>& term,
                                  bool force, bool readable);
// TIOCNOTTY: a session leader gives the terminal up (SIGHUP and SIGCONT
// to the foreground group).
base::Result<void> GiveUp(kernel::Task& t, Terminal& term);
// TIOCGPGRP, TIOCSPGRP, TIOCGSID; `master` when asked on the master side
// (which need not be the caller's terminal for the getters).
base::Result<int> GetPgrp(kernel::Task& t, Terminal& term, bool master);
base::Result<void> SetPgrp(kernel::Task& t, Terminal& term, int pgrp);
base::Result<int> GetSid(kernel::Task& t, Terminal& term, bool master);

// Process `pid` ended; if it led its session, the session's terminal
// sends SIGHUP to its foreground group and controls nothing any more
// (Linux's disassociate_ctty(1) in do_exit).
void SessionLeaderExited(kernel::Kernel& k, int pid);

// The master went away: the session leader gets SIGHUP and SIGCONT and
// the session loses its terminal (Linux's tty_vhangup of the replica).
void Hangup(kernel::Kernel& k, Terminal& term);

}  // namespace tty

#endif  // SENTRY_TTY_JOB_CONTROL_H_
