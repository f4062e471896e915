// Task: one application thread, run by one sentry host thread for its whole
// life (that host thread is also the ptrace tracer of its stub thread).
//
// The task loop (task_run.cc) delivers pending signals, switches into the
// app through the platform and handles what comes back: syscalls through
// the kernel's table, faults and CPU signals as synchronous signals,
// interrupts by looking at signals and exit requests again.
//
// Lock order: Task::mu_ is a leaf.
#ifndef SENTRY_KERNEL_TASK_H_
#define SENTRY_KERNEL_TASK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "platform/platform.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/fs_context.h"
#include "sentry/kernel/namespaces.h"
#include "sentry/kernel/ptrace.h"
#include "sentry/kernel/sched_params.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/vfs.h"
#include "sentry/waiter/waiter.h"

namespace kernel {

class Kernel;

class Task {
 public:
  Task(Kernel& kernel, std::shared_ptr<ThreadGroup> tg, int tid,
       std::shared_ptr<FdTable> fds, std::shared_ptr<FsContext> fs);
  ~Task();

  Kernel& kernel() const { return kernel_; }
  ThreadGroup& thread_group() const { return *tg_; }
  int tid() const { return tid_; }
  // The thread's credentials (credentials.h), as Linux's task->cred: the
  // setuid family, setgroups and capset change the calling thread only
  // (glibc's wrappers make every thread call them), clone copies the
  // creator's, and every permission check uses the caller's. Any thread
  // may read them.
  Credentials creds() const;
  // Installs the calling thread's new credentials (its own thread, or
  // before it starts). A leader's are also its process's
  // (ThreadGroup::creds: what /proc/<pid> and process-directed checks see).
  void set_creds(Credentials c);
  mm::MemoryManager& mm() const { return *mm_; }
  FdTable& fds() const { return *fds_; }
  // The task gets a table of its own, a copy of the one it may share
  // (CLONE_FILES) with others: close_range(CLOSE_RANGE_UNSHARE). Its own
  // thread only.
  void UnshareFds();
  FsContext& fs() const { return *fs_; }
  platform::Registers& regs() { return regs_; }
  // CPU time (cpu_time.h): user in app code, system in the sentry.
  TaskCpu& cpu() const { return *cpu_; }
  const std::shared_ptr<TaskCpu>& cpu_ptr() const { return cpu_; }

  // execve(2) (task_exec.cc). What to run: `file` from OpenExecutable;
  // `filename` is Linux's bprm->filename (AT_EXECFN, the name comm and a
  // script's interpreter get: "/dev/fd/N[/path]" for execveat from a
  // dirfd); `path_inaccessible` when that names a close-on-exec fd (a
  // script then fails with ENOENT, as its interpreter could not open it);
  // `comm_from_file` (execveat of the fd itself): comm is the name of the
  // file run in the end, not "N" (Linux >= 6.14).
  struct ExecArgs {
    std::shared_ptr<vfs::FileDescription> file;
    std::string filename;
    bool path_inaccessible = false;
    bool comm_from_file = false;
    std::vector<std::string> argv, envp;
  };
  // Opens `path` (relative to `dirfd`; with AT_EMPTY_PATH, "" is dirfd
  // itself; AT_SYMLINK_NOFOLLOW: a final symlink is ELOOP) for reading by
  // the kernel, if it is a regular file the caller may execute (EACCES).
  base::Result<std::shared_ptr<vfs::FileDescription>> OpenExecutable(
      int dirfd, const std::string& path, int flags);
  // Replaces this task's image (execve(2)). Must run on the task's host
  // thread. On failure `*why` says what is wrong in words for the user.
  base::Result<void> Exec(ExecArgs args, std::string* why);
  // The same for `path` relative to the cwd (the container's first exec).
  base::Result<void> Exec(const std::string& path,
                          std::vector<std::string> argv,
                          std::vector<std::string> envp, std::string* why);

  // The task loop; returns when the task has exited. On the host thread.
  void Run();

  // fork(2), vfork(2), clone(2), clone3(2) (task_clone.cc): creates the
  // child and starts it; returns its pid.
  struct CloneArgs {
    uint64_t flags = 0;  // CLONE_* without the exit signal
    int exit_signal = 0;
    uint64_t stack = 0;  // child's rsp, or 0 for the parent's
    uint64_t parent_tid = 0;
    uint64_t child_tid = 0;
    uint64_t tls = 0;
    int set_tid = 0;  // clone3's set_tid[0] (1 .. pid_max-1), or 0
  };
  base::Result<int> Clone(const CloneArgs& args);
  // unshare(2) (task_clone.cc): CLONE_FILES, CLONE_FS and the UTS and IPC
  // namespaces; the rest as Linux's check_unshare_flags allows. Own thread.
  base::Result<void> Unshare(uint64_t flags);
  // The end of a task, on its host thread after the loop (task_exit.cc):
  // releases its memory and files, makes the process a zombie, tells the
  // parent.
  void Exited();

  // exit_group(2) and fatal signals: the whole process ends with `status`.
  void ExitGroup(ExitStatus status);
  // exit(2): this thread ends (the process too, when it is the last).
  void ExitThread(int code);
  bool exiting() const;

  // Sleeps until `*woken` becomes true (if given), the deadline passes, or
  // the task is interrupted (a signal for it, exit), and says which. A
  // signal already pending interrupts at once, unless `pending_interrupts`
  // is false: then only a new Interrupt() or exit does (for waits that
  // signals do not end, such as a stop or a vfork parent's wait).
  enum class WakeReason { kWoken, kTimeout, kInterrupted };
  WakeReason Block(absl::Time deadline,
                   const std::atomic<bool>* woken = nullptr,
                   bool pending_interrupts = true);
  // Sleeps until `deadline`: EINTR if interrupted first.
  base::Result<void> BlockUntil(absl::Time deadline);
  // Makes a blocked task re-check why it blocks (after setting its flag).
  void Wake();
  // The task whose host thread this is (null on the sentry's own
  // threads): for the files whose readiness and reads depend on who asks,
  // as Linux's `current` (signalfd).
  static Task* Current();

  // A waiter::Entry that wakes this task: register it on the queues of the
  // files a syscall waits for, then Block(deadline, &entry.ready).
  class WaitEntry : public waiter::Entry {
   public:
    WaitEntry(Task& task, uint64_t mask) : Entry(mask), task_(task) {}
    void Notify(uint64_t events) override {
      ready.store(true);
      task_.Wake();
    }
    std::atomic<bool> ready{false};

   private:
    Task& task_;
  };
  // Wakes a blocked task and kicks a running one out of app code.
  void Interrupt();
  // Only kicks it out of app code (Kernel::Pause): a blocked task stays
  // blocked, and no syscall sees EINTR.
  void KickOutOfApp();

  // ---- Signals (signal_state.h, task_signals.cc) ----
  // Sends a thread-directed signal (tgkill(2), SIGPIPE). Any thread.
  void SendSignal(const siginfo_t& info);
  // A signal raised by this task's own code (a fault, a bad frame): if it
  // is blocked or ignored, or `to_default`, SIG_DFL applies (Linux's
  // force_sig). The task's thread only.
  void ForceSignal(const siginfo_t& info, bool to_default = false);
  // An unblocked signal is pending: a blocking syscall must stop and
  // return a restart code (base::kERESTARTSYS ...).
  bool SignalPending();
  // Replaces signal_mask (SIGKILL and SIGSTOP stay unblocked).
  void SetSignalMask(SigSet mask);
  // rt_sigreturn(2): restores the frame below rsp; returns the app's rax.
  uint64_t SigReturn();
  // The task's thread only, except as signal_state.h says.
  TaskSignals& signal_state() { return signals_; }
  // ---- end signals ----

  // Where *at() syscalls start: the cwd for AT_FDCWD, else the directory
  // the fd refers to (ENOTDIR if it is not one, EBADF if not open).
  base::Result<vfs::PathContext> PathContextAt(int dirfd) const;

  // comm (PR_SET_NAME, execve, /proc/<pid>/comm): at most 15 bytes are
  // kept. Any thread may read or set it.
  std::string comm() const { return comm_->get(); }
  void set_comm(std::string_view name) { comm_->set(name); }
  // The name on its own, so that a /proc/<pid>/comm writer can hold it
  // without holding the task. Its lock is a leaf.
  class Comm {
   public:
    std::string get() const {
      absl::MutexLock lock(&mu_);
      return name_;
    }
    void set(std::string_view name) {
      absl::MutexLock lock(&mu_);
      name_ = std::string(name.substr(0, 15));
    }

   private:
    mutable absl::Mutex mu_;
    std::string name_ ABSL_GUARDED_BY(mu_);
  };
  const std::shared_ptr<Comm>& comm_cell() const { return comm_; }

  // What procfs reads of a task from another thread (under
  // Kernel::WithTask): the task's own thread replaces these (execve,
  // unshare, exit) under view_mu_, and reads them without it.
  struct Shared {
    std::shared_ptr<mm::MemoryManager> mm;  // null once exited
    std::shared_ptr<FdTable> fds;
    std::shared_ptr<FsContext> fs;
    Namespaces ns;
  };
  Shared SharedState() const;
  // When the task was created, and Linux's state letter: 'S' while it
  // sleeps in Block, 'T' while stopped, else 'R'.
  absl::Time start_time() const { return start_time_; }
  char state() const { return state_.load(std::memory_order_relaxed); }

  // Thread state, touched only by the task's own thread for now.
  // PR_SET_PDEATHSIG: sent to this task's process when its parent thread
  // exits (read by that thread, task_exit.cc).
  std::atomic<int> pdeath_signal{0};
  bool no_new_privs = false;
  // personality(2): per thread as on Linux, copied by clone; execve keeps
  // it but READ_IMPLIES_EXEC (set-id execs, which would drop
  // PER_CLEAR_ON_SETID, do not exist yet).
  uint32_t personality = 0;
  // The UTS, IPC and mount namespaces (namespaces.h): inherited by clone,
  // replaced by clone's and unshare's CLONE_NEW* flags.
  Namespaces ns;
  // Scheduling policy and nice (any thread may change them: own lock).
  SchedState sched;
  // Blocked signals: written under the process's signal lock
  // (SetSignalMask), read freely by the task's own thread.
  uint64_t signal_mask = 0;
  uint64_t clear_child_tid = 0;
  // set_robust_list(2)'s head: read by get_robust_list(2) of other tasks.
  std::atomic<uint64_t> robust_list_head{0};
  uint64_t robust_list_len = 0;
  // vfork: set by the child when it execs or exits; the parent waits on it.
  std::shared_ptr<std::atomic<bool>> vfork_done;
  int vfork_parent = 0;  // the tid to wake
  // Lets a vfork parent go on (the child exec'd or is exiting).
  void ReleaseVforkParent();

  // ---- ptrace (ptrace.h; tracee side in ptrace_stop.cc) ----
  // Whether a tracer traces this task (a hint outside Ptrace::mu_).
  bool ptraced() const { return ptraced_.load(std::memory_order_acquire); }
  // The ptrace event `event` (PTRACE_EVENT_*) stops the task if its tracer
  // asked for it (PTRACE_O_TRACE*), with `msg` for PTRACE_GETEVENTMSG.
  void PtraceEvent(int event, uint64_t msg);
  // The end of execve(2): PTRACE_EVENT_EXEC, or SIGTRAP without
  // PTRACE_O_TRACEEXEC (not for seized tracees). `old_tid`: the id the
  // task had before (a non-leader takes over the leader's).
  void PtraceExec(int old_tid);
  // ---- end ptrace ----

  // Kernel bookkeeping: the host thread, and whether it has finished and
  // the process been reaped (then the Task can be deleted).
  std::thread host_thread;
  std::atomic<bool> finished{false};

 private:
  void HandleSyscall();            // task_syscall.cc
  // Runs syscall `nr` through the table (with --strace), as the handlers
  // see it: regs_ as they are now. task_syscall.cc.
  base::Result<uint64_t> InvokeSyscall(uint64_t nr, const SyscallArgs& args);
  // A fault at `fault_addr` that is a call into a vsyscall entry point:
  // served, or SIGSEGV forced, and true; false if it is not one
  // (task_vsyscall.cc).
  bool EmulateVsyscall(uint64_t fault_addr);
  // execve's de_thread (task_exec.cc): EAGAIN if another exec or an exit
  // of the process got there first.
  base::Result<void> KillOtherThreads();
  void HandleFault(const platform::Trap& trap);
  // The last fault retried as possibly stale (another thread resolved it
  // first): its address and the memory manager's change count then. The
  // same fault again with no change in between is real.
  uint64_t stale_fault_addr_ = 0;
  uint64_t stale_fault_changes_ = 0;
  // Signals: delivery before each Switch (task_signals.cc), and Linux's
  // syscall restart rules for the handler `act` (null: none runs) in
  // task_syscall.cc.
  friend class SignalState;
  friend class Kernel;  // TakeOverLeader changes tid_
  friend class Ptrace;  // a tracer reads and changes a stopped tracee
  // ptrace stops (ptrace_stop.cc). Stops the task for its tracer with the
  // wait status byte and event `code` and sleeps until the tracer resumes
  // it, it is detached, or it exits (unless `at_exit`: then only resume or
  // detach end the stop). False if not traced. `*info` (if given) is the
  // siginfo shown to the tracer and, after, what it set instead; `*sig`
  // the signal the tracer resumed with.
  bool PtraceStop(int code, PtraceStopKind kind, siginfo_t* info,
                  uint64_t msg, int* sig, bool at_exit = false);
  // A syscall of a traced task: the entry and exit stops around it.
  void PtraceSyscall();
  // Signal-delivery-stop of `*info` (not SIGKILL): false if not traced;
  // else `*info` is the signal to deliver (si_signo 0: none).
  bool PtraceSignal(siginfo_t* info);
  // A group stop of a traced task: reported once as a ptrace stop; true
  // if the task then runs on (Linux lets the tracer resume it).
  bool PtraceGroupStop(uint64_t seq, int sig);
  // PTRACE_INTERRUPT, and a seized child's first stop.
  void PtraceInterruptStop();
  // Before Switch: single-stepping sets the trap flag, else a flag set
  // for a step is cleared. After a trap: a step over a syscall is a
  // SIGTRAP too.
  void PtraceBeforeSwitch();
  // PTRACE_EVENT_EXIT (task_exit.cc, before anything goes).
  void PtraceExitEvent();
  TaskPtrace ptrace_;  // guarded by kernel().ptrace()'s lock
  std::atomic<bool> ptraced_{false};
  std::atomic<bool> ptrace_resumed_{false};
  std::atomic<PtraceResume> ptrace_mode_{PtraceResume::kCont};
  // The trap flag is set for PTRACE_SINGLESTEP, not by the app: cleared
  // when the task runs on without stepping, hidden from the tracer.
  bool ptrace_forced_tf_ = false;
  void DeliverSignals();
  bool SetupSignalFrame(const siginfo_t& info, const KernelSigaction& act);
  void DieOfSignal(int sig);
  // Joins a group stop and sleeps in it until SIGCONT or exit; makes the
  // parent reports that are due.
  void WaitWhileStopped();
  // Tells the parent of a stop or continue that is due (wait(2), SIGCHLD
  // with CLD_STOPPED or CLD_CONTINUED unless it set SA_NOCLDSTOP).
  void ReportJobControlDue();
  void RestartSyscall(const KernelSigaction* act);

  // Who walks a path, for /proc/self and /proc/thread-self.
  class ProcessView : public vfs::ProcessView {
   public:
    explicit ProcessView(const Task& task) : task_(task) {}
    int pid() const override;
    int tid() const override;
    const vfs::KernelView* kernel() const override;
    Task* task() const override { return const_cast<Task*>(&task_); }

   private:
    const Task& task_;
  };

  Kernel& kernel_;
  const std::shared_ptr<ThreadGroup> tg_;
  // Changes only when a non-leader thread execs and takes over the
  // leader's id (Kernel::TakeOverLeader), under Kernel::mu_ and the
  // ThreadGroup's lock, which readers on other threads hold.
  int tid_;
  std::shared_ptr<FdTable> fds_;
  std::shared_ptr<FsContext> fs_;
  std::shared_ptr<mm::MemoryManager> mm_;
  std::unique_ptr<platform::Context> context_;
  platform::Registers regs_{};
  std::atomic<bool> thread_exited_{false};
  int exit_code_ = 0;  // exit(2)'s status, for the last thread
  TaskSignals signals_;
  const std::shared_ptr<TaskCpu> cpu_ = std::make_shared<TaskCpu>();
  const ProcessView process_view_{*this};
  const absl::Time start_time_ = absl::Now();
  std::atomic<char> state_{'R'};
  // Guards the replacement of mm_, fds_, fs_ and ns (see Shared). A
  // leaf, taken under Kernel::mu_ or ThreadGroup::mu_.
  mutable absl::Mutex view_mu_;
  const std::shared_ptr<Comm> comm_ = std::make_shared<Comm>();

  // A leaf.
  mutable absl::Mutex creds_mu_;
  Credentials creds_ ABSL_GUARDED_BY(creds_mu_);

  mutable absl::Mutex mu_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_TASK_H_
