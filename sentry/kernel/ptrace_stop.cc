// The tracee's side of ptrace: where a traced task stops for its tracer
// (signal delivery, syscall entry and exit, events, group stops), and
// single-stepping. Everything here runs on the tracee's own host thread.
#include <linux/ptrace.h>
#include <signal.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {
namespace {

constexpr uint64_t kTrapFlag = 0x100;  // X86_EFLAGS_TF
constexpr int kEventStop = PTRACE_EVENT_STOP << 8;

}  // namespace

bool Task::PtraceStop(int code, PtraceStopKind kind, siginfo_t* info,
                      uint64_t msg, int* sig, bool at_exit) {
  if (!ptraced()) return false;
  // The platform gives the FP state only on this thread: the tracer reads
  // and changes this copy.
  std::vector<uint8_t> fp;
  if (!context_->GetFpState(&fp)) fp.clear();
  Ptrace& p = kernel_.ptrace();
  std::shared_ptr<ThreadGroup> tracer_tg;
  std::shared_ptr<waiter::Queue> events;
  {
    absl::MutexLock lock(&p.mu_);
    TaskPtrace& tp = ptrace_;
    if (!tp.tracer_tid) return false;
    tp.stopped = tp.waitable = true;
    tp.code = code;
    tp.kind = kind;
    tp.has_siginfo = info != nullptr;
    tp.siginfo = info ? *info : siginfo_t{};
    if (kind == PtraceStopKind::kEvent) tp.event_msg = msg;
    // Linux (5.3) says which syscall stop this is in the event message
    // (PTRACE_EVENTMSG_SYSCALL_ENTRY/EXIT).
    if (kind == PtraceStopKind::kSyscallEnter) tp.event_msg = 1;
    if (kind == PtraceStopKind::kSyscallExit) tp.event_msg = 2;
    tp.fp = std::move(fp);
    tp.fp_dirty = tp.listening = false;
    tp.resume_sig = 0;
    ptrace_resumed_.store(false);
    tracer_tg = tp.tracer_tg;
    events = tp.tracer_events;
  }
  // Linux's do_notify_parent_cldstop(CLD_TRAPPED) to the tracer.
  if (!(tracer_tg->GetSigaction(SIGCHLD).flags & SA_NOCLDSTOP)) {
    siginfo_t chld{};
    chld.si_signo = SIGCHLD;
    chld.si_code = CLD_TRAPPED;
    chld.si_pid = tid_;
    chld.si_uid = creds().ruid;
    chld.si_status = code & 0x7f;
    tracer_tg->SendSignal(chld);
  }
  events->Notify(~0ull);

  state_.store('t', std::memory_order_relaxed);
  for (;;) {
    if (ptrace_resumed_.load()) break;
    if (!at_exit && exiting()) break;
    bool listening;
    {
      absl::MutexLock lock(&p.mu_);
      if (!ptrace_.tracer_tid) break;  // detached meanwhile
      listening = ptrace_.listening;
    }
    // PTRACE_LISTEN after the group stop ended (SIGCONT): out at once.
    if (listening && !tg_->signals().group_stopped()) break;
    // Only a resume, a detach or an exit end the stop (or, under
    // PTRACE_LISTEN, the end of the group stop): pending signals wait
    // (they are delivered after it).
    Block(absl::InfiniteFuture(), &ptrace_resumed_,
          /*pending_interrupts=*/false);
  }
  state_.store('R', std::memory_order_relaxed);

  std::vector<uint8_t> new_fp;
  int resume_sig;
  {
    absl::MutexLock lock(&p.mu_);
    TaskPtrace& tp = ptrace_;
    // A listening tracee whose stop ended re-traps with
    // PTRACE_EVENT_STOP (Linux's JOBCTL_TRAP_NOTIFY).
    if (tp.listening) tp.interrupt = SIGTRAP | kEventStop;
    tp.stopped = tp.waitable = tp.listening = false;
    resume_sig = tp.resume_sig;
    tp.resume_sig = 0;
    if (tp.fp_dirty) new_fp = std::move(tp.fp);
    tp.fp.clear();
    tp.fp_dirty = false;
    if (info && tp.has_siginfo) *info = tp.siginfo;
  }
  if (!new_fp.empty()) (void)context_->SetFpState(new_fp);
  if (sig) *sig = resume_sig;
  return true;
}

void Task::PtraceEvent(int event, uint64_t msg) {
  if (!ptraced()) return;
  {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    if (!(ptrace_.options & (1u << event))) return;
  }
  PtraceStop(SIGTRAP | (event << 8), PtraceStopKind::kEvent, nullptr, msg,
             nullptr);
}

void Task::PtraceExec(int old_tid) {
  if (!ptraced()) return;
  bool event, seized;
  {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    event = ptrace_.options & PTRACE_O_TRACEEXEC;
    seized = ptrace_.seized;
  }
  if (event) {
    PtraceEvent(PTRACE_EVENT_EXEC, old_tid);
  } else if (!seized) {
    // Linux's send_sig(SIGTRAP, current, 0): delivered after the call
    // returns, so the tracer sees the new image stopped.
    SendSignal(
        MakeSigInfoFrom(SIGTRAP, SI_USER, tg_->pid(), creds().ruid));
  }
}

void Task::PtraceSyscall() {
  const bool sysgood = [&] {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    return (ptrace_.options & PTRACE_O_TRACESYSGOOD) != 0;
  }();
  const int code = SIGTRAP | (sysgood ? 0x80 : 0);
  bool run = true;
  if (ptrace_mode_.load() == PtraceResume::kSyscall) {
    // The tracer sees the call with rax = -ENOSYS and may change the
    // number (orig_rax: -1 skips it, leaving rax as it set it) and the
    // arguments.
    regs_.rax = static_cast<uint64_t>(-int64_t{ENOSYS});
    PtraceStop(code, PtraceStopKind::kSyscallEnter, nullptr, 0, nullptr);
    if (exiting()) return;
    run = regs_.orig_rax != ~uint64_t{0};
  }
  if (run) HandleSyscall();
  if (exiting() || !ptraced()) return;
  switch (ptrace_mode_.load()) {
    case PtraceResume::kSyscall:
      PtraceStop(code, PtraceStopKind::kSyscallExit, nullptr, 0, nullptr);
      break;
    case PtraceResume::kSingleStep:
      // Linux's user_single_step_report: stepping over a syscall ends
      // after it with a SIGTRAP.
      ForceSignal(MakeSigInfo(SIGTRAP, TRAP_BRKPT));
      break;
    case PtraceResume::kCont:
      break;
  }
}

bool Task::PtraceSignal(siginfo_t* info) {
  int sig = 0;
  const int orig = info->si_signo;
  if (!PtraceStop(orig, PtraceStopKind::kSignal, info, 0, &sig)) return false;
  if (exiting() || sig == 0) {
    info->si_signo = 0;  // the tracer discarded it
    return true;
  }
  if (sig != info->si_signo) {
    // Linux's ptrace_signal: another signal than the siginfo's comes
    // from the tracer.
    int tracer_pid;
    uint32_t uid = 0;
    {
      absl::MutexLock lock(&kernel_.ptrace().mu_);
      tracer_pid = ptrace_.tracer_pid;
      if (ptrace_.tracer_tg) uid = ptrace_.tracer_tg->creds().ruid;
    }
    *info = MakeSigInfoFrom(sig, SI_USER, tracer_pid, uid);
  }
  if (signal_mask & SigBit(sig)) {
    // Blocked: it waits in the queue, as any blocked signal.
    SendSignal(*info);
    info->si_signo = 0;
  }
  return true;
}

bool Task::PtraceGroupStop(uint64_t seq, int sig) {
  bool seized;
  {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    if (!ptrace_.tracer_tid) return false;
    if (ptrace_.group_stop_seq == seq) return true;  // told; runs on
    ptrace_.group_stop_seq = seq;
    ptrace_.interrupt = 0;  // this stop answers a PTRACE_INTERRUPT too
    seized = ptrace_.seized;
  }
  return PtraceStop(sig | (seized ? kEventStop : 0), PtraceStopKind::kGroup,
                    nullptr, 0, nullptr);
}

void Task::PtraceInterruptStop() {
  int code;
  {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    code = std::exchange(ptrace_.interrupt, 0);
  }
  if (code)
    PtraceStop(code, PtraceStopKind::kEvent, nullptr, 0, nullptr);
}

void Task::PtraceBeforeSwitch() {
  if (ptraced() && ptrace_mode_.load() == PtraceResume::kSingleStep) {
    if (!(regs_.eflags & kTrapFlag)) {
      regs_.eflags |= kTrapFlag;
      ptrace_forced_tf_ = true;
    }
  } else if (ptrace_forced_tf_) {
    regs_.eflags &= ~kTrapFlag;
    ptrace_forced_tf_ = false;
  }
}

void Task::PtraceExitEvent() {
  if (!ptraced()) return;
  bool event;
  {
    absl::MutexLock lock(&kernel_.ptrace().mu_);
    event = ptrace_.options & PTRACE_O_TRACEEXIT;
  }
  if (!event) return;
  const ExitStatus s = tg_->exiting() ? tg_->exit_status()
                                      : ExitStatus{.code = exit_code_};
  // SIGKILL ends a task without a last stop here, so that no tracer can
  // keep a killed task (or a sandbox shutting down) waiting.
  if (s.signal == SIGKILL) return;
  // PTRACE_GETEVENTMSG gives the wait status; the registers are still
  // there to look at.
  PtraceStop(SIGTRAP | (PTRACE_EVENT_EXIT << 8), PtraceStopKind::kEvent,
             nullptr, static_cast<uint64_t>(WaitStatusOf(s)), nullptr,
             /*at_exit=*/true);
}

}  // namespace kernel
