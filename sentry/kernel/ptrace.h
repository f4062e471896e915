// ptrace(2) inside the sandbox: one sandboxed task traces another. Nothing
// here touches the host's ptrace (the ptrace platform's own use of it is
// unrelated).
//
// A tracee is a Task whose TaskPtrace names a tracer thread. The tracee
// stops on its own host thread (ptrace_stop.cc: signal delivery, syscall
// entry and exit, events, group stops) and sleeps there until its tracer
// resumes it; while it sleeps its registers, FP state and memory are the
// tracer's to read and change (ptrace.cc, ptrace_regs.cc). The tracer hears
// of stops through wait(2) (Ptrace::TryWait, before ProcessTree's) and
// SIGCHLD with CLD_TRAPPED.
//
// Lock order: Kernel::mu_ -> Ptrace::mu_ -> ProcessTree::mu_,
// SignalState::mu_, waiter::Queue::mu_, Task::mu_, Task::view_mu_. Every
// TaskPtrace is guarded by Ptrace::mu_; a tracee's registers and FP state
// are the tracer's only while TaskPtrace::stopped (the tracee then touches
// neither until it has taken the lock again).
#ifndef SENTRY_KERNEL_PTRACE_H_
#define SENTRY_KERNEL_PTRACE_H_

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/kernel/process_tree.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/waiter/waiter.h"

namespace kernel {

class ProcessTree;
class Task;
class ThreadGroup;

// How a tracee runs after a ptrace stop.
enum class PtraceResume { kCont, kSyscall, kSingleStep };

// What kind of stop a tracee is in (PTRACE_GET_SYSCALL_INFO, LISTEN).
enum class PtraceStopKind { kSignal, kSyscallEnter, kSyscallExit, kEvent,
                            kGroup };

// A task's ptrace state; guarded by Ptrace::mu_.
struct TaskPtrace {
  int tracer_tid = 0;  // 0: not traced
  int tracer_pid = 0;
  std::shared_ptr<ThreadGroup> tracer_tg;
  std::shared_ptr<waiter::Queue> tracer_events;  // the tracer's wait queue
  bool seized = false;
  uint32_t options = 0;

  // The stop, while `stopped`. `code` is the wait status's stop byte and
  // event (status >> 8); `waitable` until a wait(2) consumes it.
  bool stopped = false;
  bool waitable = false;
  int code = 0;
  PtraceStopKind kind = PtraceStopKind::kSignal;
  bool has_siginfo = false;
  siginfo_t siginfo{};
  uint64_t event_msg = 0;
  // The tracee's FP state at the stop (the platform reads it only on the
  // tracee's thread); `fp_dirty` when the tracer changed it.
  std::vector<uint8_t> fp;
  bool fp_dirty = false;
  // PTRACE_LISTEN: stopped, but a new signal or the end of the group stop
  // ends the stop.
  bool listening = false;
  // PTRACE_INTERRUPT (seized tracees) and a seized child's first stop:
  // the stop's code, due at the next chance (0: none).
  int interrupt = 0;
  // The group stop (SignalState's stop_seq) already reported as a stop.
  uint64_t group_stop_seq = 0;

  // Set by the tracer when it resumes the tracee.
  int resume_sig = 0;
};

class Ptrace {
 public:
  // PTRACE_TRACEME: `t`'s parent thread becomes its tracer (EPERM if
  // traced already).
  base::Result<void> TraceMe(Task& t);
  // PTRACE_ATTACH / PTRACE_SEIZE of thread `tid` by `tracer`, with the
  // permission checks (credentials, dumpable, Yama scope 1).
  base::Result<void> Attach(Task& tracer, int tid, bool seize,
                            uint32_t options);

  // Runs `fn` on tracee `tid` of `tracer` under the lock: ESRCH unless it
  // is traced by that very thread and (when `need_stop`) in a ptrace stop.
  base::Result<void> WithTracee(
      Task& tracer, int tid, bool need_stop,
      const std::function<base::Result<void>(Task&, TaskPtrace&)>& fn);

  // Resumes the stopped tracee (PTRACE_CONT, SYSCALL, SINGLESTEP, and
  // DETACH when `detach`), with signal `sig` (0: none).
  base::Result<void> Resume(Task& tracer, int tid, PtraceResume how, int sig,
                            bool detach);
  base::Result<void> Kill(Task& tracer, int tid);
  base::Result<void> Interrupt(Task& tracer, int tid);
  base::Result<void> Listen(Task& tracer, int tid);

  // The user area and register sets of a stopped tracee (ptrace_regs.cc);
  // call inside WithTracee. Offsets and sizes as Linux's x86-64.
  static user_regs_struct GetRegs(Task& t);
  static base::Result<void> SetRegs(Task& t, const user_regs_struct& r);
  static base::Result<uint64_t> PeekUser(Task& t, uint64_t off);
  static base::Result<void> PokeUser(Task& t, uint64_t off, uint64_t v);
  // NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE: the whole set (EINVAL for
  // another type, ENODEV without FP state).
  static base::Result<std::vector<uint8_t>> GetRegset(Task& t, int type);
  // Sets the first `data.size()` bytes of the set.
  static base::Result<void> SetRegset(Task& t, int type,
                                      const std::vector<uint8_t>& data);

  // wait(2) by process `waiter_pid`: a tracee's stop or exit it may report.
  // `*any` becomes true if some tracee matches at all (no ECHILD then).
  std::optional<WaitEvent> TryWait(ProcessTree& tree, int waiter_pid,
                                   const WaitOptions& opts, bool* any);

  // Clone: whether the new task is traced too (the event to report, 0 for
  // none, -1 for attached without an event).
  int CloneEvent(Task& parent, uint64_t flags, int exit_signal);
  // Makes `child` (not yet running) a tracee of `parent`'s tracer.
  // False if the parent is no longer traced; true: a seized tracer gets
  // PTRACE_EVENT_STOP first, any other a SIGSTOP the caller queues.
  bool AttachChild(Task& parent, Task& child);

  // The task's last thread is ending: as a tracer, its tracees are
  // detached (or killed, PTRACE_O_EXITKILL); as a tracee, its tracer hears
  // of the exit unless it is its process's real parent (the zombie tells).
  void TaskExited(Task& t, bool process_ends, ExitStatus status);

  // The process id of `t`'s tracer, 0 if none (/proc's TracerPid).
  int TracerPid(Task& t);

 private:
  friend class Task;
  Task* FindLocked(int tracer_tid, int tid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DetachLocked(Task& tracee, int sig) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Result<void> AttachLocked(Task& tracer, Task& tracee, bool seize,
                                  uint32_t options,
                                  std::shared_ptr<ThreadGroup> tracer_tg,
                                  std::shared_ptr<waiter::Queue> events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A tracee's exit, for a tracer that is not its parent.
  struct Exit {
    int tracer_pid, tracer_tid, tid, pid;
    uint32_t uid;
    ExitStatus status;
  };

  absl::Mutex mu_;
  std::set<Task*> tracees_ ABSL_GUARDED_BY(mu_);
  std::vector<Exit> exits_ ABSL_GUARDED_BY(mu_);
};

// The wait status word of an exit.
int WaitStatusOf(const ExitStatus& s);

// Linux's ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) with Yama's
// scope: may `tracer` attach to (or read the memory of) process `target`?
// EPERM if not. The tracer's credentials are its thread's; the target's
// those of the thread named (`target_creds`), else its leader's.
base::Result<void> PtraceMayAttach(Task& tracer, ThreadGroup& target,
                                   const Credentials* target_creds = nullptr);
// The same for a tracer known by its process and credentials (a file
// opened by another thread: /proc/<pid>/mem).
base::Result<void> PtraceMayAttach(ProcessTree& tree, ThreadGroup& self,
                                   const Credentials& me, ThreadGroup& target,
                                   const Credentials& them);

// The Yama ptrace_scope the sandbox enforces (/proc/sys/kernel/yama).
inline constexpr int kYamaPtraceScope = 1;

}  // namespace kernel

#endif  // SENTRY_KERNEL_PTRACE_H_
