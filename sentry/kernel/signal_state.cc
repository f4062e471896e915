#include "sentry/kernel/signal_state.h"

#include <sys/epoll.h>

#include <algorithm>

#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timer_signal.h"

namespace kernel {

DefaultAction DefaultActionOf(int sig) {
  switch (sig) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
      return DefaultAction::kCore;
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
      return DefaultAction::kIgnore;
    case SIGCONT:
      return DefaultAction::kContinue;
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return DefaultAction::kStop;
    default:
      // Everything else, real-time signals included, terminates.
      return DefaultAction::kTerminate;
  }
}

bool IgnoredBy(const KernelSigaction& act, int sig) {
  if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) return true;
  if (act.handler != reinterpret_cast<uint64_t>(SIG_DFL)) return false;
  DefaultAction d = DefaultActionOf(sig);
  // SIGCONT's default is "ignore" once its side effect (continuing) has
  // happened at send time.
  return d == DefaultAction::kIgnore || d == DefaultAction::kContinue;
}

siginfo_t MakeSigInfo(int sig, int code) {
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = code;
  return info;
}

siginfo_t MakeSigInfoFrom(int sig, int code, int pid, uint32_t uid) {
  siginfo_t info = MakeSigInfo(sig, code);
  info.si_pid = pid;
  info.si_uid = uid;
  return info;
}

bool PendingQueue::Enqueue(const siginfo_t& info) {
  const int sig = info.si_signo;
  if (!ValidSignal(sig)) return false;
  const bool realtime = sig >= SIGRTMIN;
  // A POSIX timer's signal queues even when its standard signal is
  // pending (Linux's preallocated timer sigqueue); the timer learns it.
  const bool timer = IsTimerSignal(info);
  if (!realtime && !timer && (set_ & SigBit(sig))) return false;
  entries_.push_back(info);
  set_ |= SigBit(sig);
  if (realtime) ++realtime_;
  if (timer) TimerSignalQueued(info);
  return true;
}

std::optional<siginfo_t> PendingQueue::Dequeue(SigSet allowed) {
  SigSet ready = set_ & allowed;
  if (!ready) return std::nullopt;
  if (ready & kSynchronousSignals) ready &= kSynchronousSignals;
  const int sig = __builtin_ctzll(ready) + 1;
  auto it =
      std::find_if(entries_.begin(), entries_.end(),
                   [sig](const siginfo_t& i) { return i.si_signo == sig; });
  siginfo_t info = *it;  // set_ says it is there
  it = entries_.erase(it);
  TimerSignalTaken(&info);  // a POSIX timer's: si_overrun, rearm
  if (sig >= SIGRTMIN) --realtime_;
  if (std::none_of(it, entries_.end(),
                   [sig](const siginfo_t& i) { return i.si_signo == sig; }))
    set_ &= ~SigBit(sig);
  return info;
}

void PendingQueue::Discard(SigSet signals) {
  if (!(set_ & signals)) return;
  std::erase_if(entries_, [&](const siginfo_t& i) {
    if (!(SigBit(i.si_signo) & signals)) return false;
    if (i.si_signo >= SIGRTMIN) --realtime_;
    siginfo_t gone = i;
    TimerSignalTaken(&gone);  // a POSIX timer may queue again
    return true;
  });
  set_ &= ~signals;
}

bool AltStack::OnStack(uint64_t rsp) const {
  if (flags & kSsAutodisarm) return false;
  return Contains(rsp);
}

int AltStack::ReportedFlags(uint64_t rsp) const {
  int mode = size == 0 ? SS_DISABLE : (OnStack(rsp) ? SS_ONSTACK : 0);
  return mode | (flags & kSsAutodisarm);
}

base::Result<void> AltStack::Set(uint64_t new_sp, int new_flags,
                                 uint64_t new_size, uint64_t rsp) {
  if (OnStack(rsp)) return base::Err(EPERM);
  const int mode = new_flags & ~kSsAutodisarm;
  if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
    return base::Err(EINVAL);
  if (mode == SS_DISABLE) {
    new_sp = 0;
    new_size = 0;
  } else if (new_size < kMinSigStackSize) {
    return base::Err(ENOMEM);
  }
  // Linux keeps the flags as given (SS_ONSTACK included) and reports only
  // kSsAutodisarm back from them.
  sp = new_sp;
  size = new_size;
  flags = new_flags;
  return {};
}

void SignalState::AddTask(Task* t) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(t);
  // A thread started while a stop is under way joins it before it runs
  // (Linux gives a new thread JOBCTL_STOP_PENDING); once the stop is
  // complete it just sleeps in it.
  if (stop_signal_ && stop_waiting_ > 0) ++stop_waiting_;
}

void SignalState::RemoveTask(Task* t) {
  absl::MutexLock lock(&mu_);
  std::erase(tasks_, t);
  // A task that ends instead of joining a stop no longer holds it up.
  if (stop_signal_ && t->signals_.stop_seq != stop_seq_) {
    t->signals_.stop_seq = stop_seq_;
    if (stop_waiting_ > 0 && --stop_waiting_ == 0) {
      // Complete now: a stopped task wakes to report it.
      stop_report_ = stop_signal_;
      if (!tasks_.empty()) tasks_.front()->Interrupt();
    }
  }
  // Shared signals this task would have taken go to another one.
  for (SigSet s = shared_.set(); s; s &= s - 1)
    WakeForLocked(__builtin_ctzll(s) + 1, nullptr);
}

bool SignalState::WantsLocked(Task& t, int sig) {
  if (t.exiting()) return false;
  if (sig == SIGKILL) return true;
  return !(t.signal_mask & SigBit(sig));
}

void SignalState::WakeForLocked(int sig, Task* preferred) {
  if (preferred) {
    if (WantsLocked(*preferred, sig)) preferred->Interrupt();
    return;
  }
  for (Task* t : tasks_) {
    if (WantsLocked(*t, sig)) {
      t->Interrupt();
      return;
    }
  }
  // Every task blocks it: it stays pending until one unblocks it.
}

Task* SignalState::NextRunningLocked(int sig) {
  const size_t n = tasks_.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t at = (cpu_signal_next_ + i) % n;
    Task* t = tasks_[at];
    if (WantsLocked(*t, sig) && t->cpu().running()) {
      cpu_signal_next_ = at + 1;
      return t;
    }
  }
  return nullptr;
}

std::vector<siginfo_t> SignalState::Queued(Task* task, uint64_t off,
                                           size_t max) {
  absl::MutexLock lock(&mu_);
  const std::vector<siginfo_t>& all =
      (task ? task->signals_.pending : shared_).entries();
  std::vector<siginfo_t> out;
  for (uint64_t i = off; i < all.size() && out.size() < max; ++i) {
    out.push_back(all[i]);
    TimerSignalPeeked(&out.back());
  }
  return out;
}

void SignalState::SendCpuTimerSignal(const siginfo_t& info) {
  if (!ValidSignal(info.si_signo)) return;
  absl::MutexLock lock(&mu_);
  // Nobody running takes it (nullptr): any thread may.
  (void)SendLocked(info, nullptr, NextRunningLocked(info.si_signo));
}

base::Result<void> SignalState::Send(const siginfo_t& info, Task* task) {
  if (!ValidSignal(info.si_signo)) return base::Err(EINVAL);
  absl::MutexLock lock(&mu_);
  return SendLocked(info, task, task);
}

base::Result<void> SignalState::SendLocked(const siginfo_t& info, Task* task,
                                           Task* wake) {
  const int sig = info.si_signo;
  if (tg_.exiting()) return {};

  // Side effects at send time, whatever the mask (Linux's prepare_signal).
  if (SigBit(sig) & kStopSignals) {
    shared_.Discard(SigBit(SIGCONT));
    for (Task* t : tasks_) t->signals_.pending.Discard(SigBit(SIGCONT));
  } else if (sig == SIGCONT) {
    shared_.Discard(kStopSignals);
    for (Task* t : tasks_) t->signals_.pending.Discard(kStopSignals);
    if (stop_signal_) {
      // A stop the parent heard of gets a CLD_CONTINUED, reported by the
      // first task to run. (Linux also sends CLD_STOPPED for a stop that
      // was still under way; here the parent hears nothing of that one.)
      if (stop_waiting_ == 0) continued_report_ = true;
      stop_signal_ = 0;
      stop_waiting_ = 0;
      for (Task* t : tasks_) t->Interrupt();
    }
  }

  // An ignored signal is dropped unless it is blocked (the app may still
  // change its mind) or awaited by sigtimedwait. For a process-directed
  // signal Linux looks at the main thread; the first task stands in.
  Task* mask_of = task ? task : (tasks_.empty() ? nullptr : tasks_.front());
  const bool blocked =
      mask_of &&
      ((mask_of->signal_mask | mask_of->signals_.real_blocked) & SigBit(sig));
  // A tracer sees even ignored signals (Linux's sig_ignored): a traced
  // task stops for them, and drops them only after that.
  const bool traced = mask_of && mask_of->ptraced() && sig != SIGKILL;
  if (!blocked && !traced && IgnoredBy(tg_.GetSigaction(sig), sig)) return {};
  // A container's init takes from inside only the signals it handles,
  // SIGKILL and SIGSTOP included (Linux's sig_task_ignored for a pid
  // namespace's init); the host's reach it. A blocked one is queued (for
  // sigwait, as tini's) and dropped at delivery.
  if (!blocked && !traced && tg_.unkillable() && !FromHost(info) &&
      tg_.GetSigaction(sig).handler == reinterpret_cast<uint64_t>(SIG_DFL))
    return {};

  if (sig == SIGKILL) {
    // Cannot be blocked, caught or ignored: the process ends now, and
    // every task (stopped ones included) leaves its loop.
    tg_.BeginExit(ExitStatus{.signal = SIGKILL});
    for (Task* t : tasks_) t->Interrupt();
    return {};
  }
  PendingQueue& q = task ? task->signals_.pending : shared_;
  if (sig >= SIGRTMIN &&
      q.queued_realtime() >= tg_.GetRlimit(RLIMIT_SIGPENDING).rlim_cur) {
    // Linux (per user, here per queue): sigqueue fails; kill(2) still
    // makes the signal pending, without a new instance.
    if (info.si_code != SI_USER) return base::Err(EAGAIN);
    if (q.set() & SigBit(sig)) return {};
  }
  if (!q.Enqueue(info)) return {};
  // signalfd readers (whatever they block) learn of it, as Linux's
  // signalfd_notify.
  signalfd_queue_->Notify(EPOLLIN | EPOLLRDNORM);
  WakeForLocked(sig, wake);
  return {};
}

void SignalState::SetMask(Task& t, SigSet mask) {
  absl::MutexLock lock(&mu_);
  const SigSet newly_blocked = mask & ~kUnblockable & ~t.signal_mask;
  t.signal_mask = mask & ~kUnblockable;
  // Shared signals this task now blocks may be taken by another one
  // (Linux's retarget_shared_pending).
  for (SigSet s = shared_.set() & newly_blocked; s; s &= s - 1) {
    int sig = __builtin_ctzll(s) + 1;
    for (Task* other : tasks_) {
      if (other != &t && WantsLocked(*other, sig)) {
        other->Interrupt();
        break;
      }
    }
  }
}

bool SignalState::Pending(Task& t) {
  absl::MutexLock lock(&mu_);
  // A stop the task has yet to join counts (as Linux's TIF_SIGPENDING):
  // waits that sleep until a signal is pending must leave to join it.
  if (stop_signal_ && t.signals_.stop_seq != stop_seq_) return true;
  return ((t.signals_.pending.set() | shared_.set()) & ~t.signal_mask) != 0;
}

SigSet SignalState::PendingBlocked(Task& t) {
  absl::MutexLock lock(&mu_);
  return (t.signals_.pending.set() | shared_.set()) & t.signal_mask;
}

SigSet SignalState::PendingFor(Task& t) {
  absl::MutexLock lock(&mu_);
  return t.signals_.pending.set() | shared_.set();
}

std::optional<siginfo_t> SignalState::Dequeue(Task& t, SigSet allowed) {
  absl::MutexLock lock(&mu_);
  if (auto info = t.signals_.pending.Dequeue(allowed)) return info;
  return shared_.Dequeue(allowed);
}

void SignalState::BeginSigwait(Task& t, SigSet waited) {
  absl::MutexLock lock(&mu_);
  t.signals_.real_blocked = t.signal_mask;
  t.signal_mask &= ~waited;
}

void SignalState::EndSigwait(Task& t) {
  absl::MutexLock lock(&mu_);
  t.signal_mask = t.signals_.real_blocked;
  t.signals_.real_blocked = 0;
}

KernelSigaction SignalState::SetAction(int sig, const KernelSigaction& act) {
  absl::MutexLock lock(&mu_);
  KernelSigaction old = tg_.GetSigaction(sig);
  KernelSigaction a = act;
  a.mask &= ~kUnblockable;
  tg_.SetSigaction(sig, a);
  if (IgnoredBy(a, sig)) {
    shared_.Discard(SigBit(sig));
    for (Task* t : tasks_) t->signals_.pending.Discard(SigBit(sig));
  }
  return old;
}

KernelSigaction SignalState::GetAction(int sig) const {
  return tg_.GetSigaction(sig);
}

void SignalState::BeginStop(Task& t, int sig) {
  absl::MutexLock lock(&mu_);
  if (stop_signal_ || tg_.exiting()) return;  // the caller joins the stop
  stop_signal_ = sig;
  ++stop_seq_;
  stop_waiting_ = 0;
  for (Task* other : tasks_) {
    if (other->exiting()) {
      other->signals_.stop_seq = stop_seq_;  // will leave, not join
      continue;
    }
    ++stop_waiting_;
    // Out of app code or a blocking syscall (which restarts after the
    // stop, as no handler runs), into WaitWhileStopped.
    if (other != &t) other->Interrupt();
  }
}

SignalState::StopState SignalState::JoinStop(Task& t) {
  absl::MutexLock lock(&mu_);
  if (stop_signal_ && t.signals_.stop_seq != stop_seq_) {
    t.signals_.stop_seq = stop_seq_;
    if (stop_waiting_ > 0 && --stop_waiting_ == 0) stop_report_ = stop_signal_;
  }
  return {.stopped = stop_signal_ != 0,
          .report_due = stop_report_ != 0 || continued_report_};
}

bool SignalState::group_stopped() const {
  absl::MutexLock lock(&mu_);
  return stop_signal_ != 0 && stop_waiting_ == 0;
}

void SignalState::TakeJobControlReports(int* stop_signal, bool* continued) {
  absl::MutexLock lock(&mu_);
  *stop_signal = stop_report_;
  *continued = continued_report_;
  stop_report_ = 0;
  continued_report_ = false;
}

}  // namespace kernel
