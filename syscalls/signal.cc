// Signals: rt_sigaction(2), rt_sigprocmask(2), rt_sigpending(2),
// rt_sigsuspend(2), pause(2), rt_sigtimedwait(2), kill(2), tkill(2),
// tgkill(2), rt_sigqueueinfo(2), rt_tgsigqueueinfo(2), sigaltstack(2),
// rt_sigreturn(2), restart_syscall(2). Delivery is the kernel's
// (sentry/kernel/task_signals.cc).
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>

#include <climits>
#include <functional>

#include "sentry/kernel/signal_state.h"
#include "syscalls/common.h"
#include "syscalls/kill_permission.h"

namespace syscalls {

// Linux's check_kill_permission: the caller's own process; CAP_KILL, or
// the sender's real or effective uid is the target's real or saved uid
// (kill_ok_by_cred); SIGCONT also within the caller's session. The
// caller's credentials are its thread's; the target's are those of the
// thread named (`them`), its leader's for a process.
bool MayKill(Task& t, kernel::ThreadGroup& target,
             const kernel::Credentials& them, int sig) {
  kernel::ThreadGroup& self = t.thread_group();
  if (&target == &self) return true;
  const kernel::Credentials me = t.creds();
  if (me.HasCap(CAP_KILL)) return true;
  if (me.euid == them.ruid || me.euid == them.suid || me.ruid == them.ruid ||
      me.ruid == them.suid)
    return true;
  auto& tree = t.kernel().processes();
  return sig == SIGCONT && tree.Sid(target.pid()) == tree.Sid(self.pid());
}

namespace {

using kernel::KernelSigaction;
using kernel::SigBit;
using kernel::SigSet;
using kernel::ValidSignal;

constexpr size_t kSigsetSize = sizeof(SigSet);
// The flags rt_sigaction keeps (Linux's UAPI_SA_FLAGS); others read back
// as 0, so apps can probe for support.
constexpr uint64_t kSaExposeTagbits = 0x800;
constexpr uint64_t kUapiSaFlags =
    SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | kSaExposeTagbits |
    kernel::kSaRestorer | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND;

// The process `pid` names, for kill(2) and rt_sigqueueinfo(2): a zombie
// too (signals to it go nowhere, as its process is exiting), and the
// process of a thread when `pid` is a thread's id (Linux's
// kill_pid_info: the signal is for the thread group).
Result<std::shared_ptr<kernel::ThreadGroup>> FindProcess(Task& t, int pid) {
  auto tg = t.kernel().processes().FindByTid(pid);
  if (!tg) return Err(ESRCH);
  return tg;
}

// Runs `send` on thread `tid` (in process `tgid` unless 0), for
// tkill/tgkill, while the kernel keeps that task alive. A leader that
// has exited keeps its id until its process is reaped: a signal for it is
// accepted and goes nowhere (Linux queues it on the zombie, which never
// takes it).
Result<void> WithThread(Task& t, int tgid, int tid, int sig,
                        const std::function<Result<void>(Task&)>& send) {
  Result<void> r = Err(ESRCH);
  t.kernel().WithTask(
      tid,
      [&](Task& target) {
        if (tgid > 0 && target.thread_group().pid() != tgid) return;
        if (!MayKill(t, target.thread_group(), target.creds(), sig)) {
          r = Err(EPERM);
          return;
        }
        r = target.finished ? Result<void>{} : send(target);
      },
      /*exited_leaders=*/true);
  return r;
}

Result<void> CheckSignal(int sig) {
  if (sig != 0 && !ValidSignal(sig)) return Err(EINVAL);
  return {};
}

// RtSigaction implements Linux syscall rt_sigaction(2).
Result<void> RtSigaction(Task& t, int sig, UserPtr<KernelSigaction> act,
                         UserPtr<KernelSigaction> oldact, size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  KernelSigaction a;
  if (!act.IsNull()) a = TRY(t.mm().CopyInObj(act));
  if (!ValidSignal(sig)) return Err(EINVAL);
  if (!act.IsNull() && (sig == SIGKILL || sig == SIGSTOP)) return Err(EINVAL);
  kernel::SignalState& ss = t.thread_group().signals();
  KernelSigaction old = ss.GetAction(sig);
  if (!act.IsNull()) {
    a.flags &= kUapiSaFlags;
    old = ss.SetAction(sig, a);
  }
  old.flags &= kUapiSaFlags;
  if (!oldact.IsNull()) TRY(t.mm().CopyOutObj(oldact, old));
  return {};
}

// RtSigprocmask implements Linux syscall rt_sigprocmask(2).
Result<void> RtSigprocmask(Task& t, int how, UserPtr<SigSet> set,
                           UserPtr<SigSet> oldset, size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  const SigSet old = t.signal_mask;
  if (!set.IsNull()) {
    SigSet s = TRY(t.mm().CopyInObj(set));
    switch (how) {
      case SIG_BLOCK:
        t.SetSignalMask(old | s);
        break;
      case SIG_UNBLOCK:
        t.SetSignalMask(old & ~s);
        break;
      case SIG_SETMASK:
        t.SetSignalMask(s);
        break;
      default:
        return Err(EINVAL);
    }
  }
  if (!oldset.IsNull()) TRY(t.mm().CopyOutObj(oldset, old));
  return {};
}

// RtSigpending implements Linux syscall rt_sigpending(2).
Result<void> RtSigpending(Task& t, UserPtr<uint8_t> set, size_t sigsetsize) {
  if (sigsetsize > kSigsetSize) return Err(EINVAL);
  SigSet pending = t.thread_group().signals().PendingBlocked(t);
  return t.mm().CopyOut(set.addr, &pending, sigsetsize);
}

// Sleeps until a signal the task does not block is pending.
void WaitForSignal(Task& t) {
  while (!t.SignalPending() && !t.exiting()) t.Block(absl::InfiniteFuture());
}

// RtSigsuspend implements Linux syscall rt_sigsuspend(2).
Result<void> RtSigsuspend(Task& t, UserPtr<SigSet> mask, size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  SigSet m = TRY(t.mm().CopyInObj(mask));
  // Delivery puts the old mask in the handler's frame (or back at once if
  // no handler runs).
  t.signal_state().saved_mask = t.signal_mask;
  t.SetSignalMask(m);
  WaitForSignal(t);
  return Err(base::kERESTARTNOHAND);
}

// Pause implements Linux syscall pause(2).
Result<void> Pause(Task& t) {
  WaitForSignal(t);
  return Err(base::kERESTARTNOHAND);
}

// RtSigtimedwait implements Linux syscall rt_sigtimedwait(2).
Result<int> RtSigtimedwait(Task& t, UserPtr<SigSet> uset,
                           UserPtr<siginfo_t> uinfo, UserPtr<timespec> uts,
                           size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  const SigSet set = TRY(t.mm().CopyInObj(uset)) & ~kernel::kUnblockable;
  absl::Time deadline = absl::InfiniteFuture();
  if (!uts.IsNull()) {
    timespec ts = TRY(t.mm().CopyInObj(uts));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
      return Err(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  kernel::SignalState& ss = t.thread_group().signals();
  auto info = ss.Dequeue(t, set);
  bool interrupted = false;
  if (!info && deadline > absl::Now()) {
    // Wait with the awaited signals unblocked, so that they wake us.
    ss.BeginSigwait(t, set);
    while (!t.SignalPending() && !t.exiting()) {
      if (t.Block(deadline) == Task::WakeReason::kTimeout) break;
    }
    interrupted = t.SignalPending();
    ss.EndSigwait(t);
    info = ss.Dequeue(t, set);
  }
  if (!info) return Err(interrupted ? EINTR : EAGAIN);
  if (!uinfo.IsNull()) TRY(t.mm().CopyOutObj(uinfo, *info));
  return info->si_signo;
}

// Kill implements Linux syscall kill(2).
Result<void> Kill(Task& t, int pid, int sig) {
  kernel::ThreadGroup& self = t.thread_group();
  const siginfo_t info =
      kernel::MakeSigInfoFrom(sig, SI_USER, self.pid(), t.creds().ruid);
  if (pid > 0) {
    // Linux finds the process before it looks at the signal.
    auto target = TRY(FindProcess(t, pid));
    TRY(CheckSignal(sig));
    if (!MayKill(t, *target, target->creds(), sig)) return Err(EPERM);
    if (sig) target->SendSignal(info);
    return {};
  }
  TRY(CheckSignal(sig));
  if (pid == INT_MIN) return Err(ESRCH);
  // 0: the caller's group; -1: every process but init and the caller;
  // < -1: group -pid. Success if any process could be signalled.
  auto& tree = t.kernel().processes();
  // Zombies count (Linux finds them until they are reaped): signalling
  // them succeeds and does nothing.
  auto targets =
      pid == -1 ? tree.Live(/*zombies=*/true)
                : tree.Group(pid == 0 ? tree.Pgid(self.pid()) : -pid,
                             /*zombies=*/true);
  bool any = false, denied = false;
  for (auto& tg : targets) {
    if (pid == -1 && (tg->pid() == 1 || tg.get() == &self)) continue;
    if (!MayKill(t, *tg, tg->creds(), sig)) {
      denied = true;
      continue;
    }
    any = true;
    if (sig) tg->SendSignal(info);
  }
  if (any) return {};
  return Err(denied ? EPERM : ESRCH);
}

// Sends a thread-directed signal as tkill/tgkill do.
Result<void> SendToThread(Task& t, int tgid, int tid, int sig) {
  TRY(CheckSignal(sig));
  kernel::ThreadGroup& self = t.thread_group();
  const siginfo_t info =
      kernel::MakeSigInfoFrom(sig, SI_TKILL, self.pid(), t.creds().ruid);
  return WithThread(t, tgid, tid, sig, [&](Task& target) -> Result<void> {
    if (sig) target.SendSignal(info);
    return {};
  });
}

// Tkill implements Linux syscall tkill(2).
Result<void> Tkill(Task& t, int tid, int sig) {
  if (tid <= 0) return Err(EINVAL);
  return SendToThread(t, 0, tid, sig);
}

// Tgkill implements Linux syscall tgkill(2).
Result<void> Tgkill(Task& t, int tgid, int tid, int sig) {
  if (tgid <= 0 || tid <= 0) return Err(EINVAL);
  return SendToThread(t, tgid, tid, sig);
}

// A sender-supplied siginfo. Only to oneself may a process claim to be
// the kernel (si_code >= 0) or tkill (SI_TKILL).
Result<void> CheckForgery(Task& t, int target_tid, const siginfo_t& info) {
  if ((info.si_code >= 0 || info.si_code == SI_TKILL) && target_tid != t.tid())
    return Err(EPERM);
  return {};
}

// RtSigqueueinfo implements Linux syscall rt_sigqueueinfo(2).
Result<void> RtSigqueueinfo(Task& t, int pid, int sig,
                            UserPtr<siginfo_t> uinfo) {
  siginfo_t info = TRY(t.mm().CopyInObj(uinfo));
  info.si_signo = sig;
  TRY(CheckForgery(t, pid, info));
  auto target = TRY(FindProcess(t, pid));
  TRY(CheckSignal(sig));
  if (!MayKill(t, *target, target->creds(), sig)) return Err(EPERM);
  if (sig == 0) return {};
  return target->signals().Send(info, nullptr);  // EAGAIN: queue full
}

// RtTgsigqueueinfo implements Linux syscall rt_tgsigqueueinfo(2).
Result<void> RtTgsigqueueinfo(Task& t, int tgid, int tid, int sig,
                              UserPtr<siginfo_t> uinfo) {
  siginfo_t info = TRY(t.mm().CopyInObj(uinfo));
  info.si_signo = sig;
  if (tgid <= 0 || tid <= 0) return Err(EINVAL);
  TRY(CheckForgery(t, tid, info));
  TRY(CheckSignal(sig));
  return WithThread(t, tgid, tid, sig, [&](Task& target) -> Result<void> {
    if (sig == 0) return {};
    return target.thread_group().signals().Send(info, &target);
  });
}

// Sigaltstack implements Linux syscall sigaltstack(2).
Result<void> Sigaltstack(Task& t, UserPtr<stack_t> uss, UserPtr<stack_t> uoss) {
  kernel::AltStack& alt = t.signal_state().altstack;
  const uint64_t rsp = t.regs().rsp;
  stack_t old{.ss_sp = reinterpret_cast<void*>(alt.sp),
              .ss_flags = alt.ReportedFlags(rsp),
              .ss_size = alt.size};
  if (!uss.IsNull()) {
    stack_t ss = TRY(t.mm().CopyInObj(uss));
    TRY(alt.Set(reinterpret_cast<uint64_t>(ss.ss_sp), ss.ss_flags, ss.ss_size,
                rsp));
  }
  if (!uoss.IsNull()) TRY(t.mm().CopyOutObj(uoss, old));
  return {};
}

// RtSigreturn implements Linux syscall rt_sigreturn(2).
Result<uint64_t> RtSigreturn(Task& t) { return t.SigReturn(); }

// RestartSyscall implements Linux syscall restart_syscall(2).
Result<uint64_t> RestartSyscall(Task& t) {
  kernel::RestartFn fn = std::move(t.signal_state().restart);
  t.signal_state().restart = nullptr;
  if (!fn) return Err(EINTR);
  return fn(t);
}

}  // namespace

void RegisterSignal(Registrar& r) {
  r.Full<&RtSigaction>(SYS_rt_sigaction);
  r.Full<&RtSigprocmask>(SYS_rt_sigprocmask);
  r.Full<&RtSigpending>(SYS_rt_sigpending);
  r.Full<&RtSigsuspend>(SYS_rt_sigsuspend);
  r.Full<&Pause>(SYS_pause);
  r.Full<&RtSigtimedwait>(SYS_rt_sigtimedwait);
  const char* kQueued =
      "RLIMIT_SIGPENDING bounds each pending queue, not each user";
  r.Full<&Kill>(SYS_kill);
  r.Full<&Tkill>(SYS_tkill);
  r.Full<&Tgkill>(SYS_tgkill);
  r.Partial<&RtSigqueueinfo>(SYS_rt_sigqueueinfo, kQueued);
  r.Partial<&RtTgsigqueueinfo>(SYS_rt_tgsigqueueinfo, kQueued);
  r.Full<&Sigaltstack>(SYS_sigaltstack);
  r.Full<&RtSigreturn>(SYS_rt_sigreturn);
  r.Full<&RestartSyscall>(SYS_restart_syscall);
}

}  // namespace syscalls
