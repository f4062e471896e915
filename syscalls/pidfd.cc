// pidfd_open(2), pidfd_send_signal(2), pidfd_getfd(2). The file is
// sentry/event's (pidfd.h); CLONE_PIDFD is clone.cc's, waitid(P_PIDFD)
// wait.cc's.
#include <signal.h>
#include <sys/syscall.h>

#include "sentry/event/pidfd.h"
#include "sentry/kernel/proc_view.h"
#include "sentry/kernel/ptrace.h"
#include "syscalls/common.h"
#include "syscalls/kill_permission.h"
#include "syscalls/pidfd.h"

namespace syscalls {

Result<int> InstallPidfd(Task& t, std::shared_ptr<kernel::ThreadGroup> tg,
                         int flags) {
  auto f = event::PidFd::Create(t.kernel(), std::move(tg), flags);
  // Always close-on-exec, as Linux's pidfd_create.
  return t.fds().Install(std::move(f), /*cloexec=*/true, 0, NofileLimit(t));
}

namespace {

// The pidfd behind `fd`: EBADF for another file too.
Result<event::PidFd*> PidfdOf(const FilePtr& f) {
  auto* p = dynamic_cast<event::PidFd*>(f.get());
  if (p == nullptr) return Err(EBADF);
  return p;
}

// PidfdOpen implements Linux syscall pidfd_open(2).
Result<int> PidfdOpen(Task& t, int pid, unsigned flags) {
  // PIDFD_THREAD (O_EXCL, Linux 6.9) is not supported.
  if (flags & ~O_NONBLOCK) return Err(EINVAL);
  if (pid <= 0) return Err(EINVAL);
  auto tg = t.kernel().processes().FindByTid(pid);
  if (!tg) return Err(ESRCH);
  // A thread's id names no process (Linux 6.x: ENOENT).
  if (tg->pid() != pid) return Err(ENOENT);
  return InstallPidfd(t, std::move(tg), flags);
}

// PidfdSendSignal implements Linux syscall pidfd_send_signal(2).
Result<int> PidfdSendSignal(Task& t, int pidfd, int sig,
                            UserPtr<siginfo_t> uinfo, unsigned flags) {
  // PIDFD_SIGNAL_THREAD_GROUP (Linux 6.9) is a process pidfd's default.
  // TODO(pidfd): PIDFD_SIGNAL_THREAD and PIDFD_SIGNAL_PROCESS_GROUP.
  constexpr unsigned kSignalThreadGroup = 1u << 1;
  if (flags & ~kSignalThreadGroup) return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, Fd{pidfd}));
  event::PidFd* p = TRY(PidfdOf(f));
  kernel::ThreadGroup& self = t.thread_group();
  siginfo_t info =
      kernel::MakeSigInfoFrom(sig, SI_USER, self.pid(), t.creds().ruid);
  auto target = p->Process();
  if (!uinfo.IsNull()) {
    info = TRY(t.mm().CopyInObj(uinfo));
    if (info.si_signo != sig) return Err(EINVAL);
    // Only to itself may a process send what the kernel or kill(2) would.
    if ((!target || target.get() != &self) &&
        (info.si_code >= 0 || info.si_code == SI_TKILL))
      return Err(EPERM);
  }
  if (sig != 0 && !kernel::ValidSignal(sig)) return Err(EINVAL);
  if (!target) return Err(ESRCH);
  if (!MayKill(t, *target, target->creds(), sig)) return Err(EPERM);
  if (sig) target->SendSignal(info);
  return 0;
}

// PidfdGetfd implements Linux syscall pidfd_getfd(2).
Result<int> PidfdGetfd(Task& t, int pidfd, int targetfd, unsigned flags) {
  if (flags) return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, Fd{pidfd}));
  event::PidFd* p = TRY(PidfdOf(f));
  auto target = p->Process();
  if (!target) return Err(ESRCH);
  TRY(kernel::PtraceMayAttach(t, *target));
  // (The process's fd table, as /proc/<pid>/fd sees it.)
  auto file = kernel::ProcView(t.kernel()).Fd(p->pid(), targetfd);
  if (!file) return Err(EBADF);
  return t.fds().Install(std::move(file), /*cloexec=*/true, 0,
                         NofileLimit(t));
}

}  // namespace

void RegisterPidfd(Registrar& r) {
  r.Partial<&PidfdOpen>(SYS_pidfd_open, "no PIDFD_THREAD (EINVAL)");
  r.Partial<&PidfdSendSignal>(
      SYS_pidfd_send_signal,
      "PIDFD_SIGNAL_THREAD and PIDFD_SIGNAL_PROCESS_GROUP are EINVAL");
  r.Full<&PidfdGetfd>(SYS_pidfd_getfd);
}

}  // namespace syscalls
