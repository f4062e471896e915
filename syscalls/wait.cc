// Waiting for children: wait4(2), waitid(2).
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <climits>
#include <cstring>

#include "sentry/event/pidfd.h"
#include "syscalls/common.h"
#include "syscalls/rusage.h"

namespace syscalls {
namespace {

// waitid(2)'s P_PIDFD (Linux 5.4; not in glibc's idtype_t here).
constexpr int kPPidfd = 3;

using kernel::WaitEvent;
using kernel::WaitOptions;

// One wait: returns the event, nullopt for WNOHANG with nothing ready.
Result<std::optional<WaitEvent>> Wait(Task& t, const WaitOptions& opts,
                                      bool nohang) {
  auto& tree = t.kernel().processes();
  const int self = t.thread_group().pid();
  auto events = tree.ChildEvents(self);
  for (;;) {
    // Register before looking, so that an exit in between still wakes us.
    Task::WaitEntry entry(t, ~0ull);
    events->Register(&entry);
    // Tracees first (their stops and exits), then children.
    bool traced = false;
    std::optional<WaitEvent> stop =
        t.kernel().ptrace().TryWait(tree, self, opts, &traced);
    auto r = stop ? Result<std::optional<WaitEvent>>(std::move(stop))
                  : tree.TryWait(self, opts);
    if (!r && r.error().value == ECHILD && traced)
      r = std::optional<WaitEvent>();
    if (!r || r->has_value() || nohang) {
      events->Unregister(&entry);
      if (r && r->has_value() && opts.consume &&
          (*r)->kind == WaitEvent::Kind::kExited && !(*r)->ptrace_only)
        t.kernel().ReleaseProcess((*r)->pid);
      return r;
    }
    Task::WakeReason why = t.Block(absl::InfiniteFuture(), &entry.ready);
    events->Unregister(&entry);
    if (why == Task::WakeReason::kInterrupted) return Err(base::kERESTARTSYS);
  }
}

// The reaped (or stopped, continued) child's CPU time with that of the
// children it waited for, as Linux's getrusage(child, RUSAGE_BOTH).
Result<void> CopyOutRusage(Task& t, UserPtr<struct rusage> ru,
                           const WaitEvent& ev) {
  if (ru.IsNull()) return {};
  return t.mm().CopyOutObj(ru, RusageOf(ev.usage));
}

// Wait4 implements Linux syscall wait4(2).
Result<int> Wait4(Task& t, int pid, UserPtr<int> wstatus, int options,
                  UserPtr<struct rusage> ru) {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE |
                  __WALL))
    return Err(EINVAL);
  if (pid == INT_MIN) return Err(ESRCH);
  WaitOptions opts{.selector = pid,
                   .stopped = (options & WUNTRACED) != 0,
                   .continued = (options & WCONTINUED) != 0,
                   .wclone = (options & __WCLONE) != 0,
                   .wall = (options & __WALL) != 0,
                   .thread = (options & __WNOTHREAD) ? t.tid() : 0};
  auto ev = TRY(Wait(t, opts, options & WNOHANG));
  if (!ev) return 0;
  if (!wstatus.IsNull()) TRY(t.mm().CopyOutObj(wstatus, ev->WaitStatus()));
  TRY(CopyOutRusage(t, ru, *ev));
  return ev->pid;
}

// Waitid implements Linux syscall waitid(2).
Result<void> Waitid(Task& t, int idtype, int id, UserPtr<siginfo_t> infop,
                    int options, UserPtr<struct rusage> ru) {
  if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT |
                  __WNOTHREAD | __WCLONE | __WALL))
    return Err(EINVAL);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return Err(EINVAL);
  WaitOptions opts{.exited = (options & WEXITED) != 0,
                   .stopped = (options & WSTOPPED) != 0,
                   .continued = (options & WCONTINUED) != 0,
                   .consume = !(options & WNOWAIT),
                   .wclone = (options & __WCLONE) != 0,
                   .wall = (options & __WALL) != 0,
                   .thread = (options & __WNOTHREAD) ? t.tid() : 0};
  bool pidfd_nonblock = false;
  switch (idtype) {
    case P_ALL:
      opts.selector = -1;
      break;
    case P_PID:
      if (id <= 0) return Err(EINVAL);
      opts.selector = id;
      break;
    case P_PGID:
      if (id < 0) return Err(EINVAL);
      opts.selector = id == 0 ? 0 : -id;
      break;
    case kPPidfd: {
      // The pidfd's process, as P_PID; a pidfd with O_NONBLOCK makes the
      // wait WNOHANG, and EAGAIN if nothing is there (Linux 5.10).
      if (id < 0) return Err(EINVAL);
      FilePtr f = TRY(GetFile(t, Fd{id}));
      auto* pidfd = dynamic_cast<event::PidFd*>(f.get());
      if (pidfd == nullptr) return Err(EBADF);
      opts.selector = pidfd->pid();
      pidfd_nonblock = f->flags() & O_NONBLOCK;
      break;
    }
    default:
      return Err(EINVAL);
  }
  auto ev = TRY(Wait(t, opts, (options & WNOHANG) || pidfd_nonblock));
  if (!ev && pidfd_nonblock && !(options & WNOHANG)) return Err(EAGAIN);
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  if (ev) {
    info.si_signo = SIGCHLD;
    info.si_pid = ev->pid;
    info.si_uid = ev->uid;
    switch (ev->kind) {
      case WaitEvent::Kind::kExited:
        if (ev->status.signal) {
          info.si_code = ev->status.core_dumped ? CLD_DUMPED : CLD_KILLED;
          info.si_status = ev->status.signal;
        } else {
          info.si_code = CLD_EXITED;
          info.si_status = ev->status.code;
        }
        break;
      case WaitEvent::Kind::kStopped:
        // A ptrace stop is CLD_TRAPPED with the whole stop code.
        info.si_code = ev->trapped ? CLD_TRAPPED : CLD_STOPPED;
        info.si_status = ev->status.signal;
        break;
      case WaitEvent::Kind::kContinued:
        info.si_code = CLD_CONTINUED;
        info.si_status = SIGCONT;
        break;
    }
  }
  if (!infop.IsNull()) TRY(t.mm().CopyOutObj(infop, info));
  // Linux fills rusage only when a child was reported.
  if (ev) TRY(CopyOutRusage(t, ru, *ev));
  return {};
}

}  // namespace

void RegisterWait(Registrar& r) {
  r.Partial<&Wait4>(SYS_wait4,
                    "rusage has ru_utime and ru_stime only (see getrusage)");
  r.Partial<&Waitid>(SYS_waitid,
                     "rusage has ru_utime and ru_stime only");
}

}  // namespace syscalls
