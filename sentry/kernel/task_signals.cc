// Signal delivery: sending, the per-return-to-app delivery step, handler
// frames and rt_sigreturn(2). The frame layout is in signal_frame.h, the
// pending sets and masks in signal_state.h; the syscall restart rules are
// in task_syscall.cc (RestartSyscall).
#include <string.h>
#include <sys/syscall.h>

#include <map>
#include <string>

#include "absl/strings/str_format.h"
#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/task.h"

namespace kernel {
namespace {

// The FP frame helper for the platform's XSAVE size (fixed per platform).
const FpFrames& Frames(size_t fp_size) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* frames = new std::map<size_t, std::unique_ptr<FpFrames>>;
  absl::MutexLock lock(&mu);
  auto& f = (*frames)[fp_size];
  if (!f) f = std::make_unique<FpFrames>(fp_size);
  return *f;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// strace's "--- SIGSEGV {si_signo=SIGSEGV, si_code=1, si_addr=0x10} ---".
std::string DescribeSignal(const siginfo_t& info) {
  std::string s = "--- " + SignalName(info.si_signo) +
                  " {si_signo=" + SignalName(info.si_signo) +
                  ", si_code=" + std::to_string(info.si_code);
  if (info.si_code <= 0 || info.si_code == SI_KERNEL) {
    s += ", si_pid=" + std::to_string(info.si_pid) +
         ", si_uid=" + std::to_string(info.si_uid);
  } else {
    char addr[32];
    snprintf(addr, sizeof(addr), "%p", info.si_addr);
    s += std::string(", si_addr=") + addr;
  }
  return s + "} ---";
}

// The trap number and error code Linux records for a CPU signal
// (ptrace does not show the page-fault error code: present and user only).
TrapContext TrapContextOf(const siginfo_t& info) {
  constexpr uint64_t kUserBit = 4, kPresentBit = 1;
  const uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
  switch (info.si_signo) {
    case SIGSEGV:
      if (info.si_code == SEGV_MAPERR) return {14, kUserBit, addr};
      if (info.si_code == SEGV_ACCERR)
        return {14, kUserBit | kPresentBit, addr};
      return {13, 0, 0};  // #GP
    case SIGBUS:
      return {14, kUserBit | kPresentBit, addr};
    case SIGILL:
      return {6, 0, 0};  // #UD
    case SIGFPE:
      return {info.si_code == FPE_INTDIV ? 0u : 19u, 0, 0};  // #DE / #XM
    case SIGTRAP:
      return {info.si_code == TRAP_TRACE ? 1u : 3u, 0, 0};  // #DB / #BP
    default:
      return {};
  }
}

}  // namespace

void ThreadGroup::SendSignal(const siginfo_t& info) {
  (void)signals_.Send(info, nullptr);
}

void Task::SendSignal(const siginfo_t& info) {
  (void)tg_->signals().Send(info, this);
}

void SendSigpipe(Task& t) {
  t.SendSignal(MakeSigInfoFrom(SIGPIPE, SI_USER, t.thread_group().pid(),
                               t.creds().ruid));
}

bool Task::SignalPending() { return tg_->signals().Pending(*this); }

void Task::SetSignalMask(SigSet mask) { tg_->signals().SetMask(*this, mask); }

void Task::ForceSignal(const siginfo_t& info, bool to_default) {
  const int sig = info.si_signo;
  SignalState& ss = tg_->signals();
  {
    absl::MutexLock lock(&ss.mu_);
    KernelSigaction act = tg_->GetSigaction(sig);
    const bool blocked = signal_mask & SigBit(sig);
    const bool ignored = act.handler == reinterpret_cast<uint64_t>(SIG_IGN);
    // A fault the app cannot handle kills it (Linux's force_sig_info).
    if (blocked || ignored || to_default) {
      act.handler = reinterpret_cast<uint64_t>(SIG_DFL);
      tg_->SetSigaction(sig, act);
      signal_mask &= ~SigBit(sig);
    }
    // Even a container's init dies of it.
    if (act.handler == reinterpret_cast<uint64_t>(SIG_DFL))
      tg_->set_unkillable(false);
    signals_.pending.Enqueue(info);
  }
  if (info.si_code > 0) signals_.trap = TrapContextOf(info);
}

void Task::DieOfSignal(int sig) {
  const bool core = DefaultActionOf(sig) == DefaultAction::kCore;
  LOG(Info) << "task " << tid_ << ": killed by " << SignalName(sig)
            << " at rip 0x" << std::hex << regs_.rip;
  if (kernel_.strace()) {
    base::WriteLogLine(absl::StrFormat("[%4d] +++ killed by %s%s +++", tid_,
                                       SignalName(sig),
                                       core ? " (core dumped)" : ""));
  }
  ExitGroup(ExitStatus{.signal = sig, .core_dumped = core});
}

void Task::WaitWhileStopped() {
  SignalState& ss = tg_->signals();
  for (;;) {
    if (exiting()) return;
    const SignalState::StopState state = ss.JoinStop(*this);
    if (state.report_due) ReportJobControlDue();
    if (!state.stopped) return;
    if (ptraced()) {
      // A tracee tells its tracer of the group stop, which may resume it
      // (ptrace_stop.cc).
      int sig;
      {
        absl::MutexLock lock(&ss.mu_);
        sig = ss.stop_signal_;
      }
      if (sig && PtraceGroupStop(signals_.stop_seq, sig)) return;
    }
    // Stopped: pending signals wait for SIGCONT, so only an Interrupt
    // (SIGCONT, SIGKILL, any new signal, exit) ends this sleep, and the
    // loop looks again. Not a busy wait. /proc shows T meanwhile.
    state_.store('T', std::memory_order_relaxed);
    Block(absl::InfiniteFuture(), nullptr, /*pending_interrupts=*/false);
    state_.store('R', std::memory_order_relaxed);
  }
}

void Task::ReportJobControlDue() {
  SignalState& ss = tg_->signals();
  absl::MutexLock lock(&ss.report_mu());
  int stop_signal;
  bool continued;
  ss.TakeJobControlReports(&stop_signal, &continued);
  ProcessTree& tree = kernel_.processes();
  if (stop_signal)
    tree.StoppedOrContinued(tg_->pid(), CLD_STOPPED, stop_signal);
  if (continued) tree.StoppedOrContinued(tg_->pid(), CLD_CONTINUED, SIGCONT);
}

void Task::DeliverSignals() {
  {
    // Interrupts so far are answered here: a later one sets it again.
    absl::MutexLock lock(&mu_);
    interrupted_ = false;
  }
  SignalState& ss = tg_->signals();
  for (;;) {
    WaitWhileStopped();
    if (exiting()) return;
    const bool traced = ptraced();
    if (traced) PtraceInterruptStop();  // PTRACE_INTERRUPT (ptrace_stop.cc)
    siginfo_t info;
    KernelSigaction act;
    // Dequeues, takes the action and resets SA_RESETHAND atomically with
    // respect to rt_sigaction(2).
    auto take_action = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ss.mu_) {
      act = tg_->GetSigaction(info.si_signo);
      if (act.handler > 1 && (act.flags & SA_RESETHAND)) {
        KernelSigaction dfl = act;
        dfl.handler = reinterpret_cast<uint64_t>(SIG_DFL);
        tg_->SetSigaction(info.si_signo, dfl);
      }
    };
    {
      absl::MutexLock lock(&ss.mu_);
      auto next = signals_.pending.Dequeue(~signal_mask);
      if (!next) next = ss.shared_.Dequeue(~signal_mask);
      if (!next) break;
      info = *next;
      if (!traced || info.si_signo == SIGKILL) take_action();
    }
    if (traced && info.si_signo != SIGKILL) {
      // Signal-delivery-stop: the tracer sees the signal and says which
      // to deliver, if any.
      if (PtraceSignal(&info)) {
        if (exiting()) return;
        if (info.si_signo == 0) continue;
      }
      absl::MutexLock lock(&ss.mu_);
      take_action();
    }
    const int sig = info.si_signo;
    if (kernel_.strace())
      base::WriteLogLine(
          absl::StrFormat("[%4d] %s", tid_, DescribeSignal(info)));
    if (act.handler == reinterpret_cast<uint64_t>(SIG_IGN)) continue;
    if (act.handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
      // A container's init: one queued while blocked, or before the
      // handler went, is dropped now (Linux's get_signal).
      if (tg_->unkillable() && !FromHost(info) && sig != SIGKILL) continue;
      switch (DefaultActionOf(sig)) {
        case DefaultAction::kIgnore:
        case DefaultAction::kContinue:
          continue;
        case DefaultAction::kStop:
          // The terminal's stop signals would leave an orphaned group
          // stopped with nobody to continue it: Linux discards them.
          if (sig != SIGSTOP && kernel_.processes().OrphanedGroupOf(tg_->pid()))
            continue;
          ss.BeginStop(*this, sig);
          continue;  // WaitWhileStopped joins the stop
        case DefaultAction::kTerminate:
        case DefaultAction::kCore:
          DieOfSignal(sig);
          return;
      }
    }
    RestartSyscall(&act);
    if (!SetupSignalFrame(info, act)) {
      // Linux's force_sigsegv: a SIGSEGV that cannot be handled kills.
      ForceSignal(MakeSigInfo(SIGSEGV, SI_KERNEL), sig == SIGSEGV);
      continue;
    }
  }
  // No handler runs: an interrupted syscall restarts, and sigsuspend's
  // mask goes back.
  RestartSyscall(nullptr);
  if (signals_.saved_mask) {
    SetSignalMask(*signals_.saved_mask);
    signals_.saved_mask.reset();
  }
}

bool Task::SetupSignalFrame(const siginfo_t& info, const KernelSigaction& act) {
  // x86-64 handlers return through the restorer; without one there is no
  // return address, and Linux refuses to build the frame.
  if (!(act.flags & kSaRestorer)) return false;
  const FpFrames& fp = Frames(kernel_.platform().FpStateSize());
  AltStack& alt = signals_.altstack;
  auto layout =
      LayoutFrame(regs_.rsp, act.flags & SA_ONSTACK, alt, fp.frame_size());
  if (!layout) return false;

  std::vector<uint8_t> state;
  if (fp.xsave() && !context_->GetFpState(&state)) state.clear();
  std::vector<uint8_t> image = fp.FrameImage(state);
  if (!mm_->CopyOut(layout->fpstate, image.data(), image.size())) return false;

  const SigSet saved = signals_.saved_mask.value_or(signal_mask);
  RtSigframe f{};
  f.pretcode = act.restorer;
  f.uc.flags =
      (fp.xsave() ? kUcFpXstate : 0) | kUcSigcontextSs | kUcStrictRestoreSs;
  f.uc.stack = {.sp = alt.sp, .flags = alt.flags, .pad = 0, .size = alt.size};
  f.uc.mcontext = SaveSigContext(regs_, layout->fpstate, saved, signals_.trap);
  f.uc.sigmask = saved;
  // Linux leaves the siginfo area alone unless the handler asked for it.
  size_t n = offsetof(RtSigframe, info);
  if (act.flags & SA_SIGINFO) {
    f.info = info;
    n = sizeof(f);
  }
  if (!mm_->CopyOut(layout->frame, &f, n)) return false;

  regs_.rdi = static_cast<uint64_t>(info.si_signo);
  regs_.rsi = layout->frame + offsetof(RtSigframe, info);
  regs_.rdx = layout->frame + offsetof(RtSigframe, uc);
  regs_.rax = 0;  // for handlers declared without a prototype
  regs_.rip = act.handler;
  regs_.rsp = layout->frame;
  regs_.cs = kUserCs;
  regs_.ss = kUserDs;
  regs_.eflags &= ~kHandlerClearEflags;
  // The handler starts with a clean FPU, as on Linux.
  if (fp.xsave()) (void)context_->SetFpState(fp.InitImage());

  SigSet mask = signal_mask | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= SigBit(info.si_signo);
  signals_.saved_mask.reset();
  SetSignalMask(mask);
  if (alt.flags & kSsAutodisarm) alt.Reset();
  signals_.trap = {};
  return true;
}

uint64_t Task::SigReturn() {
  // The handler's `ret` popped pretcode: the frame starts 8 bytes below.
  const uint64_t frame = regs_.rsp - 8;
  auto bad_frame = [this] {
    LOG(Info) << "task " << tid_ << ": bad rt_sigreturn frame";
    ForceSignal(MakeSigInfo(SIGSEGV, SI_KERNEL));
    return 0;
  };
  RtSigframe f;
  if (!mm_->CopyIn(frame, &f, offsetof(RtSigframe, info))) return bad_frame();
  SetSignalMask(f.uc.sigmask);
  RestoreSigContext(f.uc.mcontext, &regs_);
  signals_.restart = nullptr;  // a pending restart_syscall now gets EINTR

  const FpFrames& fp = Frames(kernel_.platform().FpStateSize());
  auto image = fp.RestoreImage(f.uc.mcontext.fpstate,
                               [this](uint64_t addr, void* dst, size_t len) {
                                 return mm_->CopyIn(addr, dst, len);
                               });
  if (!image) return bad_frame();
  if (!image->empty()) {
    auto set = context_->SetFpState(*image);
    if (!set && set.error().value != ENOSYS) return bad_frame();
  }
  // Like restore_altstack: errors (say, now on the stack) are ignored.
  (void)signals_.altstack.Set(f.uc.stack.sp, f.uc.stack.flags, f.uc.stack.size,
                              regs_.rsp);
  return regs_.rax;
}

}  // namespace kernel
