// ThreadGroup: a process. Holds what its threads share: pid, limits,
// signal dispositions, credentials, the exit status.
//
// Lock order: ThreadGroup::mu_ is a leaf, but for TaskCpu::mu_ (CpuTime
// samples the live threads under it).
#ifndef SENTRY_KERNEL_THREAD_GROUP_H_
#define SENTRY_KERNEL_THREAD_GROUP_H_

#include <sys/resource.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/result.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/cpu_limit.h"
#include "sentry/kernel/cpu_time.h"
#include "sentry/kernel/itimer.h"
#include "sentry/kernel/posix_timer.h"
#include "sentry/kernel/signal_state.h"

namespace kernel {

class Task;

// How a process ended, as wait(2) reports it.
struct ExitStatus {
  int code = 0;    // exit(2) status when signal == 0
  int signal = 0;  // the terminating signal, or 0
  bool core_dumped = false;
  // The shell convention runsc do uses: code, or 128 + signal.
  int ShellStatus() const { return signal ? 128 + signal : code; }
};

class ThreadGroup {
 public:
  ThreadGroup(int pid, int ppid, Credentials creds);
  ~ThreadGroup();

  int pid() const { return pid_; }
  // fork: the child starts with the parent's limits, dispositions and
  // executable.
  void CopyFrom(const ThreadGroup& parent);
  // clone(2) with CLONE_SIGHAND but not CLONE_THREAD: this new process
  // and `parent` share one table of dispositions (Linux's sighand_struct).
  void ShareHandlers(const ThreadGroup& parent);
  // Another process shares the table (unshare(2) refuses CLONE_SIGHAND).
  bool HandlersShared() const;
  // execve: handled signals go back to their default action (ignored ones
  // stay ignored). A shared table is left to the others (Linux's
  // unshare_sighand).
  void ResetHandlersForExec();
  int ppid() const { return ppid_; }
  // A container's init under runsc create/run, like the init of a Linux
  // pid namespace (SIGNAL_UNKILLABLE): signals from inside the sandbox
  // whose action is the default one are dropped (signal_state.cc). Cleared
  // when a fault it cannot handle must kill it, as Linux's force_sig does.
  bool unkillable() const { return unkillable_.load(std::memory_order_relaxed); }
  void set_unkillable(bool on) {
    unkillable_.store(on, std::memory_order_relaxed);
  }

  rlimit GetRlimit(int resource) const;
  // Sets a limit; RLIMIT_CPU re-arms its enforcement (cpu_limit.h).
  void SetRlimit(int resource, rlimit value);
  // Sets `resource` to `next` only if it is still `expected`.
  bool ReplaceRlimit(int resource, rlimit expected, rlimit next);

  // Dispositions. Once the process runs, change them through
  // signals().SetAction (rt_sigaction), which keeps pending sets in step.
  KernelSigaction GetSigaction(int sig) const;
  void SetSigaction(int sig, const KernelSigaction& act);

  // Signals (signal_state.h): SendSignal queues a process-directed signal
  // (kill(2), SIGCHLD, runsc kill) and wakes a thread that takes it.
  SignalState& signals() { return signals_; }
  void SendSignal(const siginfo_t& info);  // task_signals.cc

  Credentials creds() const;
  void set_creds(Credentials c);

  // The process's live threads (Task is defined in task.h).
  void AddThread(Task* t);
  // Returns true if `t` was the last live thread: the process is ending.
  // The thread's CPU time stays with the process.
  bool RemoveThread(Task* t);
  std::vector<Task*> Threads() const;
  // Calls fn on each live thread, under the lock that keeps it alive.
  void ForEachThread(const std::function<void(Task*)>& fn) const;

  std::string exe_path() const;
  void set_exe_path(std::string path);

  // The first call decides the status; later calls (other threads dying)
  // do not change it. Returns true if this call began the exit.
  bool BeginExit(ExitStatus status);
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }
  ExitStatus exit_status() const;

  // PR_SET_DUMPABLE (Linux keeps it in the mm): 0, 1 (the default), or 2
  // (suid_dumpable's SUID_DUMP_ROOT). Inherited by fork (ProcessTree).
  int dumpable() const { return dumpable_.load(std::memory_order_relaxed); }
  void set_dumpable(int v) { dumpable_.store(v, std::memory_order_relaxed); }
  // Yama's PR_SET_PTRACER: the process that may attach besides ancestors
  // (0: none, -1: any). Not inherited by fork.
  std::atomic<int> ptracer{0};

  // When the process was made (fork), for /proc/<pid>/stat.
  absl::Time start_time() const { return start_time_; }

  // /proc/<pid>/oom_score_adj: recorded only (nothing is killed for
  // memory); inherited by fork. SetOomScoreAdj: -1000..1000 (EINVAL), not
  // below the minimum without CAP_SYS_RESOURCE (EACCES), as Linux.
  int oom_score_adj() const {
    return oom_score_adj_.load(std::memory_order_relaxed);
  }
  base::Result<void> SetOomScoreAdj(int value, bool privileged);

  // CPU time (cpu_time.h): of the live and exited threads (RUSAGE_SELF),
  // and of the children waited for, with theirs (RUSAGE_CHILDREN, added
  // when wait(2) reaps one).
  CpuTimes CpuTime() const;
  CpuTimes ChildrenCpuTime() const;
  void AddChildrenCpuTime(const CpuTimes& t);
  // What CPU clocks and timers read (it outlives nothing).
  const std::shared_ptr<ProcessCpu>& cpu_clock() const { return cpu_clock_; }

  // Timers: setitimer(2)'s (ITIMER_REAL, _VIRTUAL, _PROF) and
  // timer_create(2)'s. StopTimers when the process exits: its timers end
  // and its cpu_clock() reads as gone.
  Itimer& itimer(int which) { return itimers_.at(which); }
  PosixTimers& posix_timers() { return posix_timers_; }
  void StopTimers();

 private:
  const int pid_;
  std::atomic<bool> unkillable_{false};
  const int ppid_;
  std::atomic<bool> exiting_{false};
  std::atomic<int> dumpable_{1};
  const absl::Time start_time_ = absl::Now();
  std::atomic<int> oom_score_adj_{0};
  std::atomic<int> oom_score_adj_min_{0};  // written under mu_
  SignalState signals_{*this};
  const std::shared_ptr<ProcessCpu> cpu_clock_ =
      std::make_shared<ProcessCpu>(this);

  mutable absl::Mutex mu_;
  std::array<rlimit, RLIM_NLIMITS> rlimits_ ABSL_GUARDED_BY(mu_);
  // Dispositions: the pointer under mu_, the table under its own lock
  // (a leaf, taken under mu_), as processes may share it.
  struct Handlers {
    absl::Mutex mu;
    std::array<KernelSigaction, kNumSignals + 1> actions ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<Handlers> sighand_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<Handlers>();
  Credentials creds_ ABSL_GUARDED_BY(mu_);
  std::string exe_path_ ABSL_GUARDED_BY(mu_);
  std::vector<Task*> threads_ ABSL_GUARDED_BY(mu_);
  ExitStatus exit_status_ ABSL_GUARDED_BY(mu_);
  CpuTimes exited_cpu_ ABSL_GUARDED_BY(mu_);    // of threads gone
  CpuTimes children_cpu_ ABSL_GUARDED_BY(mu_);  // of children reaped

  // Last: destroyed first, while what their rings use still exists.
  std::array<Itimer, 3> itimers_{Itimer(*this, ITIMER_REAL),
                                 Itimer(*this, ITIMER_VIRTUAL),
                                 Itimer(*this, ITIMER_PROF)};
  PosixTimers posix_timers_{*this};
  CpuLimit cpu_limit_{*this};
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_THREAD_GROUP_H_
