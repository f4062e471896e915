// ProcessTree: who is whose parent, process groups and sessions, zombies,
// and wait(2). The sandbox is one pid namespace; its init is pid 1.
//
// One mutex guards the whole tree (Linux's tasklist_lock): lookups are
// short, and relations between processes change together.
//
// Lock order: ProcessTree::mu_ before waiter::Queue::mu_ and Task::mu_
// (exit wakes the parent's waiters under it); never under Kernel::mu_.
#ifndef SENTRY_KERNEL_PROCESS_TREE_H_
#define SENTRY_KERNEL_PROCESS_TREE_H_

#include <sys/resource.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/waiter/waiter.h"

namespace kernel {

// What wait(2) reports about a child.
struct WaitEvent {
  int pid = 0;
  uint32_t uid = 0;
  enum class Kind { kExited, kStopped, kContinued } kind = Kind::kExited;
  ExitStatus status;  // kExited: how; kStopped: status.signal is the stop signal
  // The child's CPU time with its waited-for children's (wait4's rusage).
  CpuTimes usage;
  // The wait(2) status word.
  int WaitStatus() const;
};

struct WaitOptions {
  // Which children: pid > 0 that one, -1 any, 0 the caller's group, < -1
  // group -pid (wait4's encoding).
  int selector = -1;
  bool exited = true;     // WEXITED (always for wait4)
  bool stopped = false;   // WUNTRACED / WSTOPPED
  bool continued = false; // WCONTINUED
  bool consume = true;    // false for WNOWAIT
};

// What a new task counts against at clone(2). `pids` is the sandbox's
// pids limit (a pids cgroup's pids.max: every task, threads and zombies
// included). `nproc` is the caller's RLIMIT_NPROC, which counts the tasks
// whose real uid is `uid`; RLIM_INFINITY when it does not apply (Linux
// exempts uid 0, CAP_SYS_RESOURCE and CAP_SYS_ADMIN).
struct TaskLimits {
  size_t pids = 0;
  uint32_t uid = 0;
  uint64_t nproc = RLIM_INFINITY;
};

class ProcessTree {
 public:
  static constexpr int kMaxPid = 4194304;

  // Registers init (pid 1, its own group and session, no parent).
  void AddInit(std::shared_ptr<ThreadGroup> init);
  // Allocates a pid and registers `make(pid)` as a child of `parent` (or of
  // parent's parent with CLONE_PARENT): same group and session. EAGAIN when
  // a new task would exceed `limits`.
  base::Result<std::shared_ptr<ThreadGroup>> AddChild(
      int parent, bool clone_parent, int exit_signal, const TaskLimits& limits,
      const std::function<std::shared_ptr<ThreadGroup>(int pid, int ppid)>&
          make);

  // Thread ids come from the same space as pids (CLONE_THREAD).
  base::Result<int> AddThread(const TaskLimits& limits);
  // EAGAIN if a new task would exceed `limits` now: lets clone(2) fail
  // before it copies anything (AddChild/AddThread check again).
  base::Result<void> CheckLimits(const TaskLimits& limits);
  void RemoveThread(int tid);

  std::shared_ptr<ThreadGroup> Find(int pid);
  int Parent(int pid);
  // Live (not zombie) processes: all, or those in process group `pgid`.
  std::vector<std::shared_ptr<ThreadGroup>> Live();
  std::vector<std::shared_ptr<ThreadGroup>> Group(int pgid);
  size_t Count();

  // The process ended: it becomes a zombie until its parent waits for it;
  // its children go to init. Returns the parent (to signal), or null.
  std::shared_ptr<ThreadGroup> Exited(int pid, ExitStatus status,
                                      int* exit_signal);
  // Job control: a child stopped or continued (reported to WUNTRACED /
  // WCONTINUED waiters).
  // Job control: record an unreported stop / continue for wait(2), wake
  // the parent's waiters, and return the parent (null if none).
  std::shared_ptr<ThreadGroup> Stopped(int pid, int signal);
  std::shared_ptr<ThreadGroup> Continued(int pid);
  // A zombie nobody will wait for (its parent ignores SIGCHLD): drop it.
  void Reap(int pid);

  // One wait(2) attempt by `waiter_pid`: an event, nothing yet (nullopt),
  // or ECHILD when no child matches at all.
  base::Result<std::optional<WaitEvent>> TryWait(int waiter_pid,
                                                 const WaitOptions& opts);
  // Where a process's wait(2) callers block, woken on any child event.
  std::shared_ptr<waiter::Queue> ChildEvents(int pid);

  int Pgid(int pid);
  int Sid(int pid);
  // setpgid(2), setsid(2) with Linux's checks; `caller` is the calling pid.
  base::Result<void> SetPgid(int caller, int pid, int pgid);
  base::Result<int> SetSid(int caller);
  // The process called execve (setpgid on it from the parent is EACCES).
  void MarkExeced(int pid);

 private:
  struct Node {
    std::shared_ptr<ThreadGroup> tg;
    int ppid = 0;
    std::set<int> children;
    int pgid = 0, sid = 0;
    bool zombie = false;
    bool execed = false;
    int exit_signal = 0;
    ExitStatus status;
    std::optional<int> stop_signal;  // unreported stop
    bool continued = false;          // unreported continue
    std::shared_ptr<waiter::Queue> child_events =
        std::make_shared<waiter::Queue>();
  };
  Node* FindLocked(int pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Result<int> NextIdLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // EAGAIN if one more task would go past `limits`.
  base::Result<void> CheckLimitsLocked(const TaskLimits& limits)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Matches(const Node& waiter, int child_pid, const Node& child,
               int selector) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int, Node> nodes_ ABSL_GUARDED_BY(mu_);
  std::set<int> thread_ids_ ABSL_GUARDED_BY(mu_);  // non-leader threads
  int last_pid_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_PROCESS_TREE_H_
