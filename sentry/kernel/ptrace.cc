// The tracer's side of ptrace: attaching, resuming, detaching, wait(2)
// for tracees, and what happens when either side exits.
#include "sentry/kernel/ptrace.h"

#include <linux/capability.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

constexpr int kEventStop = PTRACE_EVENT_STOP << 8;

// Whether process `ancestor` is `pid` or one of its ancestors.
bool IsAncestor(ProcessTree& tree, int ancestor, int pid) {
  // A chain longer than the pid space would be a cycle; never loop.
  for (int i = 0; pid > 0 && i < ProcessTree::kMaxPid; ++i) {
    if (pid == ancestor) return true;
    pid = tree.Parent(pid);
  }
  return false;
}

}  // namespace

int WaitStatusOf(const ExitStatus& s) {
  if (s.signal) return s.signal | (s.core_dumped ? 0x80 : 0);
  return (s.code & 0xff) << 8;
}

Result<void> PtraceMayAttach(Task& tracer, ThreadGroup& target,
                             const Credentials* target_creds) {
  ThreadGroup& self = tracer.thread_group();
  if (&self == &target) return {};
  return PtraceMayAttach(tracer.kernel().processes(), self, tracer.creds(),
                         target,
                         target_creds ? *target_creds : target.creds());
}

Result<void> PtraceMayAttach(ProcessTree& tree, ThreadGroup& self,
                             const Credentials& me, ThreadGroup& target,
                             const Credentials& them) {
  if (&self == &target) return {};
  if (!PtraceMayRead(me, them, target.dumpable() == 1))
    return Err(EPERM);
  if (kYamaPtraceScope == 0 || me.HasCap(CAP_SYS_PTRACE)) return {};
  // Yama's scope 1: only descendants, or a process that named us (or an
  // ancestor of ours) with PR_SET_PTRACER.
  if (IsAncestor(tree, self.pid(), target.pid())) return {};
  const int declared = target.ptracer.load();
  if (declared == -1) return {};
  if (declared > 0 && IsAncestor(tree, declared, self.pid())) return {};
  return Err(EPERM);
}

Result<void> Ptrace::AttachLocked(Task& tracer, Task& tracee, bool seize,
                                  uint32_t options,
                                  std::shared_ptr<ThreadGroup> tracer_tg,
                                  std::shared_ptr<waiter::Queue> events) {
  if (tracee.exiting() || tracee.finished) return Err(EPERM);
  TaskPtrace& tp = tracee.ptrace_;
  if (tp.tracer_tid) return Err(EPERM);
  tp = TaskPtrace{};
  tp.tracer_tid = tracer.tid();
  tp.tracer_pid = tracer.thread_group().pid();
  tp.tracer_tg = std::move(tracer_tg);
  if (!tp.tracer_tg) return Err(ESRCH);
  tp.tracer_events = std::move(events);
  tp.seized = seize;
  tp.options = options;
  tracee.ptrace_mode_.store(PtraceResume::kCont);
  tracees_.insert(&tracee);
  tracee.ptraced_.store(true, std::memory_order_release);
  return {};
}

Result<void> Ptrace::TraceMe(Task& t) {
  ProcessTree& tree = t.kernel().processes();
  const int pid = t.thread_group().pid();
  const int parent_tid = tree.ParentThread(pid);
  const int ppid = tree.Parent(pid);
  if (!parent_tid || !ppid) return Err(EPERM);
  // Looked up first: the tree's lock is never taken under the kernel's.
  auto events = tree.ChildEvents(ppid);
  auto parent_tg = tree.Find(ppid);
  Result<void> r = Err(EPERM);
  t.kernel().WithTask(parent_tid, [&](Task& parent) {
    absl::MutexLock lock(&mu_);
    r = AttachLocked(parent, t, false, 0, parent_tg, events);
  });
  return r;
}

int Ptrace::TracerPid(Task& t) {
  absl::MutexLock lock(&mu_);
  return t.ptrace_.tracer_tid ? t.ptrace_.tracer_pid : 0;
}

Result<void> Ptrace::Attach(Task& tracer, int tid, bool seize,
                            uint32_t options) {
  if (tid <= 0) return Err(ESRCH);
  ProcessTree& tree = tracer.kernel().processes();
  std::shared_ptr<ThreadGroup> target = tree.FindByTid(tid);
  if (!target) return Err(ESRCH);
  // Not ourselves, not init.
  if (target.get() == &tracer.thread_group() || target->pid() == 1)
    return Err(EPERM);
  std::optional<Credentials> tracee_creds;
  tracer.kernel().WithTask(tid, [&](Task& t) { tracee_creds = t.creds(); });
  TRY(PtraceMayAttach(tracer, *target,
                      tracee_creds ? &*tracee_creds : nullptr));
  auto events = tree.ChildEvents(tracer.thread_group().pid());
  auto tracer_tg = tree.Find(tracer.thread_group().pid());
  Result<void> r = Err(ESRCH);
  tracer.kernel().WithTask(tid, [&](Task& tracee) {
    absl::MutexLock lock(&mu_);
    r = AttachLocked(tracer, tracee, seize, options, tracer_tg, events);
    if (!r || seize) return;
    // PTRACE_ATTACH stops the tracee with SIGSTOP, from the tracer.
    tracee.thread_group().SendSignal(MakeSigInfoFrom(
        SIGSTOP, SI_USER, tracer.thread_group().pid(),
        tracer.creds().ruid));
    // A task sleeping in a group stop reports it to its new tracer.
    tracee.Interrupt();
  });
  return r;
}

Task* Ptrace::FindLocked(int tracer_tid, int tid) {
  for (Task* t : tracees_)
    if (t->tid() == tid && t->ptrace_.tracer_tid == tracer_tid) return t;
  return nullptr;
}

Result<void> Ptrace::WithTracee(
    Task& tracer, int tid,
    bool need_stop, const std::function<Result<void>(Task&, TaskPtrace&)>& fn) {
  absl::MutexLock lock(&mu_);
  Task* t = FindLocked(tracer.tid(), tid);
  if (!t || (need_stop && !t->ptrace_.stopped)) return Err(ESRCH);
  return fn(*t, t->ptrace_);
}

void Ptrace::DetachLocked(Task& tracee, int sig) {
  TaskPtrace& tp = tracee.ptrace_;
  const bool stopped = tp.stopped;
  std::vector<uint8_t> fp = std::move(tp.fp);
  const bool fp_dirty = tp.fp_dirty;
  tp = TaskPtrace{};
  // A stopped tracee still applies what the tracer changed.
  tp.stopped = stopped;
  tp.fp = std::move(fp);
  tp.fp_dirty = fp_dirty;
  tp.resume_sig = sig;
  tracees_.erase(&tracee);
  tracee.ptraced_.store(false, std::memory_order_release);
  tracee.ptrace_mode_.store(PtraceResume::kCont);
  if (stopped) {
    tracee.ptrace_resumed_.store(true);
    tracee.Wake();
  }
}

Result<void> Ptrace::Resume(Task& tracer, int tid, PtraceResume how, int sig,
                            bool detach) {
  if (sig < 0 || sig > kNumSignals) return Err(EIO);
  return WithTracee(tracer, tid, true, [&](Task& t, TaskPtrace& tp) {
    if (detach) {
      DetachLocked(t, sig);
      return Result<void>{};
    }
    tp.resume_sig = sig;
    tp.waitable = false;
    t.ptrace_mode_.store(how);
    t.ptrace_resumed_.store(true);
    t.Wake();
    return Result<void>{};
  });
}

Result<void> Ptrace::Kill(Task& tracer, int tid) {
  return WithTracee(tracer, tid, false, [&](Task& t, TaskPtrace&) {
    t.thread_group().SendSignal(MakeSigInfo(SIGKILL, SI_KERNEL));
    return Result<void>{};
  });
}

Result<void> Ptrace::Interrupt(Task& tracer, int tid) {
  return WithTracee(tracer, tid, false, [&](Task& t, TaskPtrace& tp) {
    if (!tp.seized) return Result<void>(Err(EIO));
    if (tp.stopped && !tp.listening) return Result<void>{};
    if (tp.listening) {
      // A listening tracee re-reports its stop.
      tp.waitable = true;
      tp.tracer_events->Notify(~0ull);
      return Result<void>{};
    }
    tp.interrupt = SIGTRAP | kEventStop;
    t.Interrupt();
    return Result<void>{};
  });
}

Result<void> Ptrace::Listen(Task& tracer, int tid) {
  return WithTracee(tracer, tid, true, [&](Task& t, TaskPtrace& tp) {
    // Only a seized tracee in a PTRACE_EVENT_STOP may listen.
    if (!tp.seized || (tp.code >> 8) != PTRACE_EVENT_STOP)
      return Result<void>(Err(EIO));
    tp.listening = true;
    tp.waitable = false;
    t.Interrupt();  // it leaves at once if the group stop has ended
    return Result<void>{};
  });
}

std::optional<WaitEvent> Ptrace::TryWait(ProcessTree& tree, int waiter_pid,
                                         const WaitOptions& opts, bool* any) {
  absl::MutexLock lock(&mu_);
  auto selected = [&](int tracer_pid, int tracer_tid, int tid, int pid) {
    if (tracer_pid != waiter_pid) return false;
    if (opts.thread && tracer_tid != opts.thread) return false;
    const int sel = opts.selector;
    if (sel > 0) return tid == sel;
    if (sel == -1) return true;
    const int pgid = tree.Pgid(pid);
    return sel == 0 ? pgid == tree.Pgid(waiter_pid) : pgid == -sel;
  };
  for (auto it = exits_.begin(); it != exits_.end(); ++it) {
    if (!selected(it->tracer_pid, it->tracer_tid, it->tid, it->pid)) continue;
    if (!opts.exited) continue;
    *any = true;
    WaitEvent ev{.pid = it->tid, .uid = it->uid, .ptrace_only = true};
    ev.kind = WaitEvent::Kind::kExited;
    ev.status = it->status;
    if (opts.consume) exits_.erase(it);
    return ev;
  }
  for (Task* t : tracees_) {
    const TaskPtrace& tp = t->ptrace_;
    if (!selected(tp.tracer_pid, tp.tracer_tid, t->tid(),
                  t->thread_group().pid()))
      continue;
    *any = true;
    if (!tp.stopped || !tp.waitable) continue;
    // Linux reports ptrace stops without WUNTRACED/WSTOPPED.
    WaitEvent ev{.pid = t->tid(), .uid = t->creds().ruid};
    ev.kind = WaitEvent::Kind::kStopped;
    ev.status.signal = tp.code;
    ev.trapped = true;
    if (opts.consume) t->ptrace_.waitable = false;
    return ev;
  }
  return std::nullopt;
}

int Ptrace::CloneEvent(Task& parent, uint64_t flags, int exit_signal) {
  if (!parent.ptraced() || (flags & CLONE_UNTRACED)) return 0;
  absl::MutexLock lock(&mu_);
  if (!parent.ptrace_.tracer_tid) return 0;
  const int event = (flags & CLONE_VFORK)       ? PTRACE_EVENT_VFORK
                    : exit_signal != SIGCHLD    ? PTRACE_EVENT_CLONE
                                                : PTRACE_EVENT_FORK;
  if (parent.ptrace_.options & (1u << event)) return event;
  return (flags & CLONE_PTRACE) ? -1 : 0;
}

bool Ptrace::AttachChild(Task& parent, Task& child) {
  absl::MutexLock lock(&mu_);
  const TaskPtrace& pp = parent.ptrace_;
  if (!pp.tracer_tid) return false;
  TaskPtrace& tp = child.ptrace_;
  tp = TaskPtrace{};
  tp.tracer_tid = pp.tracer_tid;
  tp.tracer_pid = pp.tracer_pid;
  tp.tracer_tg = pp.tracer_tg;
  tp.tracer_events = pp.tracer_events;
  tp.seized = pp.seized;
  tp.options = pp.options;
  // Its first stop: PTRACE_EVENT_STOP (with SIGTRAP, as no group stop is
  // under way) for a seized tracer, else SIGSTOP
  // (the caller queues it).
  if (tp.seized) tp.interrupt = SIGTRAP | kEventStop;
  tracees_.insert(&child);
  child.ptraced_.store(true, std::memory_order_release);
  return true;
}

void Ptrace::TaskExited(Task& t, bool process_ends, ExitStatus status) {
  std::vector<int> kill;
  {
    absl::MutexLock lock(&mu_);
    // As a tracer: its tracees are let go (or killed, EXITKILL).
    std::vector<Task*> mine;
    for (Task* tracee : tracees_)
      if (tracee->ptrace_.tracer_tid == t.tid()) mine.push_back(tracee);
    for (Task* tracee : mine) {
      if (tracee->ptrace_.options & PTRACE_O_EXITKILL)
        kill.push_back(tracee->thread_group().pid());
      DetachLocked(*tracee, 0);
    }
    std::erase_if(exits_, [&](const Exit& e) { return e.tracer_tid == t.tid(); });
  }
  ProcessTree& tree = t.kernel().processes();
  for (int pid : kill)
    if (auto tg = tree.Find(pid)) tg->SendSignal(MakeSigInfo(SIGKILL, SI_KERNEL));
  if (!t.ptraced()) return;

  const int pid = t.thread_group().pid();
  // The parent reaps a process that ends: a tracer that is the parent
  // hears of it from the zombie, any other one from a record of its own.
  const int ppid = tree.Parent(pid);
  absl::MutexLock lock(&mu_);
  TaskPtrace& tp = t.ptrace_;
  if (!tp.tracer_tid) return;
  const bool zombie_tells =
      process_ends && t.tid() == pid && ppid == tp.tracer_pid;
  if (!zombie_tells) {
    exits_.push_back(Exit{.tracer_pid = tp.tracer_pid,
                          .tracer_tid = tp.tracer_tid,
                          .tid = t.tid(),
                          .pid = pid,
                          .uid = t.creds().ruid,
                          .status = status});
    // The tracer's exit signal for it, as Linux's do_notify_parent.
    siginfo_t chld{};
    chld.si_signo = SIGCHLD;
    chld.si_pid = t.tid();
    chld.si_uid = t.creds().ruid;
    chld.si_code = status.signal
                       ? (status.core_dumped ? CLD_DUMPED : CLD_KILLED)
                       : CLD_EXITED;
    chld.si_status = status.signal ? status.signal : status.code;
    tp.tracer_tg->SendSignal(chld);
    tp.tracer_events->Notify(~0ull);
  }
  tracees_.erase(&t);
  tp = TaskPtrace{};
  t.ptraced_.store(false, std::memory_order_release);
}

}  // namespace kernel
