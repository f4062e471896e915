// Signal state: what is pending, what is blocked, and the alternate stack.
//
// Per process, SignalState (ThreadGroup::signals()): the shared pending
// queue (kill(2) and other process-directed signals), the tasks that can
// take them, and job-control stop state. Dispositions stay in ThreadGroup
// (Get/SetSigaction) but are changed only under SignalState::mu_ once the
// process runs, so "dequeue, look at the action, reset SA_RESETHAND" is
// atomic with respect to rt_sigaction(2).
//
// Per thread, TaskSignals (Task::signal_state()): the thread's own pending
// queue (tgkill(2), faults), sigtimedwait's temporary mask, and, touched
// only by the task's own thread, the alternate stack, sigsuspend's saved
// mask, the restart block and the last fault's trap context.
//
// SignalState::mu_ is the process's "signal lock" (Linux's siglock). It
// guards the shared queue, every task's TaskSignals::pending and
// real_blocked, and writes of Task::signal_mask (the owning thread may read
// its own mask without it).
//
// Lock order: ProcessTree::mu_ -> SignalState::mu_ -> ThreadGroup::mu_,
// Task::mu_ (leaves). Sending a signal takes SignalState::mu_ and then
// Task::mu_ of the task it wakes; never send with Task::mu_ or
// ThreadGroup::mu_ held.
#ifndef SENTRY_KERNEL_SIGNAL_STATE_H_
#define SENTRY_KERNEL_SIGNAL_STATE_H_

#include <signal.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/waiter/waiter.h"

namespace kernel {

class Task;
class ThreadGroup;

inline constexpr int kNumSignals = 64;
// The kernel's sigset_t: bit (sig - 1) for each signal.
using SigSet = uint64_t;
constexpr SigSet SigBit(int sig) { return uint64_t{1} << (sig - 1); }
constexpr bool ValidSignal(int sig) { return sig >= 1 && sig <= kNumSignals; }
inline constexpr SigSet kUnblockable = SigBit(SIGKILL) | SigBit(SIGSTOP);
// Signals the CPU raises: dequeued before any other (Linux's
// SYNCHRONOUS_MASK).
inline constexpr SigSet kSynchronousSignals = SigBit(SIGSEGV) | SigBit(SIGBUS) |
                                              SigBit(SIGILL) | SigBit(SIGTRAP) |
                                              SigBit(SIGFPE) | SigBit(SIGSYS);
inline constexpr SigSet kStopSignals =
    SigBit(SIGSTOP) | SigBit(SIGTSTP) | SigBit(SIGTTIN) | SigBit(SIGTTOU);

// The kernel's struct sigaction layout (rt_sigaction(2) ABI).
struct KernelSigaction {
  uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or an address
  uint64_t flags = 0;
  uint64_t restorer = 0;
  uint64_t mask = 0;
};

// What SIG_DFL does (signal(7)).
enum class DefaultAction { kTerminate, kCore, kStop, kIgnore, kContinue };
DefaultAction DefaultActionOf(int sig);
// SIG_IGN, or SIG_DFL of a signal whose default is to ignore it.
bool IgnoredBy(const KernelSigaction& act, int sig);
// A signal from outside the sandbox (runsc kill, runsc do's forwarding,
// Kernel::SignalProcessFromHost): SI_USER from pid 0, which no process
// in the sandbox can be.
inline bool FromHost(const siginfo_t& info) {
  return info.si_code == SI_USER && info.si_pid == 0;
}

// A siginfo_t with si_signo and si_code set, the rest zero.
siginfo_t MakeSigInfo(int sig, int code);
// What kill(2) (SI_USER), tkill(2) (SI_TKILL) and the kernel on behalf of
// a process (send_sig: SI_USER) fill in: the sender's pid and real uid.
siginfo_t MakeSigInfoFrom(int sig, int code, int pid, uint32_t uid);

// A queue of pending signals. Standard signals coalesce (one instance
// each); real-time signals queue every instance, in order.
class PendingQueue {
 public:
  SigSet set() const { return set_; }
  // Queued real-time instances (what RLIMIT_SIGPENDING bounds).
  size_t queued_realtime() const { return realtime_; }
  // False if a standard signal was already pending (the new one is lost).
  bool Enqueue(const siginfo_t& info);
  // Removes the next signal of `allowed`: the lowest synchronous signal
  // first, then the lowest number (Linux's next_signal); instances of one
  // signal come out in the order they went in.
  std::optional<siginfo_t> Dequeue(SigSet allowed);
  void Discard(SigSet signals);
  // The queued signals in arrival order (PTRACE_PEEKSIGINFO).
  const std::vector<siginfo_t>& entries() const { return entries_; }

 private:
  // Arrival order. Short in practice (one entry per standard signal);
  // a vector allocates nothing while empty, which is the common case.
  std::vector<siginfo_t> entries_;
  SigSet set_ = 0;
  size_t realtime_ = 0;
};

// Not in glibc's headers.
inline constexpr uint64_t kSaRestorer = 0x04000000;  // SA_RESTORER
inline constexpr int kSsAutodisarm = int(1u << 31);  // SS_AUTODISARM

// The kernel's MINSIGSTKSZ (glibc's macro may call sysconf instead).
inline constexpr uint64_t kMinSigStackSize = 2048;

// sigaltstack(2) state, as Linux's sas_ss_sp/size/flags.
struct AltStack {
  uint64_t sp = 0;
  uint64_t size = 0;
  int flags = SS_DISABLE;  // SS_DISABLE, or 0 / kSsAutodisarm when set

  // __on_sig_stack: rsp lies in (sp, sp + size].
  bool Contains(uint64_t rsp) const { return rsp > sp && rsp - sp <= size; }
  // on_sig_stack: never with kSsAutodisarm (by construction the app cannot
  // be on it then, unless it set it up while on it).
  bool OnStack(uint64_t rsp) const;
  // The ss_flags sigaltstack reports: SS_DISABLE, SS_ONSTACK or 0, plus
  // kSsAutodisarm if set.
  int ReportedFlags(uint64_t rsp) const;
  // sigaltstack(2)'s change, as do_sigaltstack: EPERM while on the stack
  // (at `rsp`), EINVAL for a bad mode, ENOMEM below MINSIGSTKSZ.
  base::Result<void> Set(uint64_t new_sp, int new_flags, uint64_t new_size,
                         uint64_t rsp);
  void Reset() { *this = AltStack{}; }
};

// The trap that raised the last synchronous signal, for sigcontext's
// trapno, err and cr2.
struct TrapContext {
  uint64_t trapno = 0;
  uint64_t err = 0;
  uint64_t cr2 = 0;
};

// restart_syscall(2): what an interrupted call does when restarted with
// ERESTART_RESTARTBLOCK (nanosleep: sleep on to the original deadline).
using RestartFn = std::function<base::Result<uint64_t>(Task&)>;

struct TaskSignals {
  // Guarded by the process's SignalState::mu_.
  PendingQueue pending;
  // While in rt_sigtimedwait: the mask it replaced (Linux's real_blocked);
  // signals blocked there are queued even when ignored. Zero otherwise.
  SigSet real_blocked = 0;
  // The last group stop this task joined (SignalState::stop_seq_).
  uint64_t stop_seq = 0;

  // The task's own thread only.
  std::optional<SigSet> saved_mask;  // restored after sigsuspend's signal
  AltStack altstack;
  RestartFn restart;  // empty: restart_syscall fails with EINTR
  TrapContext trap;
};

class SignalState {
 public:
  explicit SignalState(ThreadGroup& tg) : tg_(tg) {}

  // The tasks that take this process's signals: each task from the start
  // of its loop to its end (task_run.cc).
  void AddTask(Task* t);
  void RemoveTask(Task* t);

  // Queues `info` for the process (task == nullptr) or one of its tasks,
  // then wakes a task that can take it. Ignored signals are dropped, stop
  // and continue signals take their side effects now, SIGKILL ends the
  // process at once. EAGAIN: a real-time signal (not from kill(2)) over
  // RLIMIT_SIGPENDING queued ones, which only sigqueue reports.
  base::Result<void> Send(const siginfo_t& info, Task* task);
  // A process-directed signal of the process's CPU clock (ITIMER_PROF and
  // ITIMER_VIRTUAL, RLIMIT_CPU's SIGXCPU): Linux sends it to the thread
  // whose tick found the timer expired, so threads that use CPU take turns.
  // Here it goes, by turns, to a thread that is running (in app code or
  // in the sentry) and does not block it; to any taker if none is.
  void SendCpuTimerSignal(const siginfo_t& info);

  // Copies of the signals queued for the process (task == nullptr) or for
  // `task`, in arrival order, from the `off`th, at most `max` of them
  // (PTRACE_PEEKSIGINFO): nothing is taken.
  std::vector<siginfo_t> Queued(Task* task, uint64_t off, size_t max);

  // The mask changed (rt_sigprocmask, sigsuspend, sigreturn, delivery).
  // Wakes another task for shared signals this one now blocks.
  void SetMask(Task& t, SigSet mask);
  // A signal the task does not block is pending for it, or a group stop
  // it has yet to join.
  bool Pending(Task& t);
  // Pending signals the task blocks (rt_sigpending(2)).
  SigSet PendingBlocked(Task& t);
  // Every signal pending for the task or its process, blocked or not
  // (signalfd's readiness).
  SigSet PendingFor(Task& t);
  // Removes the next signal in `allowed` from the task's queue, then the
  // process's.
  std::optional<siginfo_t> Dequeue(Task& t, SigSet allowed);

  // rt_sigtimedwait(2) waits with `waited` unblocked (and remembers the
  // real mask, under which ignored signals are still queued); EndSigwait
  // puts the mask back.
  void BeginSigwait(Task& t, SigSet waited);
  void EndSigwait(Task& t);

  // rt_sigaction(2): replaces the action of `sig` (1..64, not SIGKILL or
  // SIGSTOP), returning the old one. Discards pending instances that
  // become ignored, as POSIX requires.
  KernelSigaction SetAction(int sig, const KernelSigaction& act);
  KernelSigaction GetAction(int sig) const;

  // Job control: a group stop, as Linux's. The task that takes a stop
  // signal with its default action begins the stop; every task of the
  // process then joins it (in Task::WaitWhileStopped, before it returns to
  // app code) and sleeps until SIGCONT or SIGKILL. When the last one has
  // joined, the parent is told once (CLD_STOPPED); when SIGCONT ends a
  // stop that was complete, once more (CLD_CONTINUED).
  //
  // Begins a stop by `sig`, unless one is in effect, and interrupts the
  // other tasks so that they join it.
  void BeginStop(Task& t, int sig);
  struct StopState {
    bool stopped = false;     // a stop is in effect: sleep
    bool report_due = false;  // call TakeJobControlReports
  };
  // Joins the stop in effect (once per stop) and says what to do.
  StopState JoinStop(Task& t);
  // Every task has joined a stop (Linux's SIGNAL_STOP_STOPPED).
  bool group_stopped() const;
  // The parent reports that are due: a CLD_STOPPED (its signal in
  // `*stop_signal`, else 0) and whether a CLD_CONTINUED follows. Call with
  // report_mu() held, and hold it while reporting, so that the parent
  // hears of a stop and the continue after it in that order.
  void TakeJobControlReports(int* stop_signal, bool* continued);
  absl::Mutex& report_mu() ABSL_LOCK_RETURNED(report_mu_) { return report_mu_; }

  // signalfd(2): notified (EPOLLIN, under mu_) whenever a signal becomes
  // pending for the process or one of its tasks, as Linux's
  // sighand->signalfd_wqh. Shared: a signalfd's registration keeps the
  // queue alive after the process is gone.
  const std::shared_ptr<waiter::Queue>& signalfd_queue() const {
    return signalfd_queue_;
  }

 private:
  friend class Task;
  // Picks a task that takes a process-directed `sig` and wakes it.
  void WakeForLocked(int sig, Task* preferred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Send with the lock held; `wake` (if not null) is the task to wake
  // for a process-directed signal.
  base::Result<void> SendLocked(const siginfo_t& info, Task* task, Task* wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The next running task after the last one chosen that takes `sig`.
  Task* NextRunningLocked(int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WantsLocked(Task& t, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ThreadGroup& tg_;
  mutable absl::Mutex mu_;
  PendingQueue shared_ ABSL_GUARDED_BY(mu_);
  std::vector<Task*> tasks_ ABSL_GUARDED_BY(mu_);
  // Where SendCpuTimerSignal's round looks first (an index into tasks_).
  size_t cpu_signal_next_ ABSL_GUARDED_BY(mu_) = 0;
  // Group stop. stop_seq_ counts stops; a task has joined the one in
  // effect when its TaskSignals::stop_seq equals it.
  int stop_signal_ ABSL_GUARDED_BY(mu_) = 0;  // nonzero while stopped
  uint64_t stop_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int stop_waiting_ ABSL_GUARDED_BY(mu_) = 0;  // tasks yet to join
  int stop_report_ ABSL_GUARDED_BY(mu_) = 0;   // CLD_STOPPED due: its signal
  bool continued_report_ ABSL_GUARDED_BY(mu_) = false;
  // Serialises the parent reports (see TakeJobControlReports). Before
  // ProcessTree::mu_ and every SignalState::mu_.
  absl::Mutex report_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  const std::shared_ptr<waiter::Queue> signalfd_queue_ =
      std::make_shared<waiter::Queue>();
};

// SIGPIPE for a write that failed with EPIPE (pipes; sockets unless
// MSG_NOSIGNAL): `return kernel::WithSigpipe(t, f->Write(...));`.
void SendSigpipe(Task& t);
template <class T>
base::Result<T> WithSigpipe(Task& t, base::Result<T> r) {
  if (!r && r.error().value == EPIPE) SendSigpipe(t);
  return r;
}

}  // namespace kernel

#endif  // SENTRY_KERNEL_SIGNAL_STATE_H_
