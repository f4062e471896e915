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
  // A ptrace stop (waitid's CLD_TRAPPED; status.signal is the stop byte
  // with the event above it) or a tracee's exit told to a tracer that is
  // not its parent: no zombie to release.
  bool trapped = false;
  bool ptrace_only = false;
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
  // Linux's "clone" children report with another exit signal than
  // SIGCHLD (or none): only __WCLONE waits for them, and then only for
  // them; __WALL for every child.
  bool wclone = false;
  bool wall = false;
  // __WNOTHREAD: only the children of this thread (their parent thread,
  // Linux's real_parent); 0: those of every thread of the process.
  int thread = 0;
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

// What an exit did to the children of the thread or process that ended
// (task_exit.cc acts on it once the tree's lock is released).
struct Orphans {
  // Live children whose parent thread died: their death signals
  // (PR_SET_PDEATHSIG) are due.
  std::vector<std::shared_ptr<ThreadGroup>> children;
  // Zombies reaped at once because their new parent ignores SIGCHLD:
  // Kernel::ReleaseProcess is due for each.
  std::vector<int> reaped;
  // Process groups this exit orphans that have a stopped member: each
  // gets SIGHUP, then SIGCONT (POSIX; Linux's kill_orphaned_pgrp).
  std::vector<int> hangup_groups;
};

class ProcessTree {
 public:
  static constexpr int kMaxPid = 4194304;

  // Registers init (pid 1, its own group and session, no parent).
  void AddInit(std::shared_ptr<ThreadGroup> init);
  // Registers `make(pid)` under a new pid with no parent, in a group and
  // session of its own (a process runsc exec starts). EAGAIN past
  // `limits`. Nobody in the sandbox reaps it: Reap does, after its exit.
  base::Result<std::shared_ptr<ThreadGroup>> AddDetached(
      const TaskLimits& limits,
      const std::function<std::shared_ptr<ThreadGroup>(int pid)>& make);
  // Forgets the exited process `pid` of AddDetached.
  void Reap(int pid);
  // Allocates a pid (`want`, clone3's set_tid, if not 0: EEXIST if in use)
  // and registers `make(pid)` as a child of `parent` (or of parent's
  // parent with CLONE_PARENT, reporting with `parent`'s exit signal as
  // Linux does): same group and session. EAGAIN when a new task would
  // exceed `limits`. `parent_tid` is the creating thread (0: the leader):
  // the child's death signal fires when that thread exits.
  base::Result<std::shared_ptr<ThreadGroup>> AddChild(
      int parent, bool clone_parent, int exit_signal, const TaskLimits& limits,
      const std::function<std::shared_ptr<ThreadGroup>(int pid, int ppid)>&
          make,
      int want = 0, int parent_tid = 0);

  // Thread ids come from the same space as pids (CLONE_THREAD); `pid` is
  // the new thread's process.
  base::Result<int> AddThread(const TaskLimits& limits, int pid,
                              int want = 0);
  // EAGAIN if a new task would exceed `limits` now: lets clone(2) fail
  // before it copies anything (AddChild/AddThread check again).
  base::Result<void> CheckLimits(const TaskLimits& limits);
  void RemoveThread(int tid);

  // The live (not zombie) process `pid`.
  std::shared_ptr<ThreadGroup> Find(int pid);
  // The process a task id names while that id is in use, as Linux's
  // find_task_by_vpid: a pid until its process is reaped (a zombie too),
  // a non-leader thread's id until that thread has exited. kill(2) of a
  // thread's id signals its process.
  std::shared_ptr<ThreadGroup> FindByTid(int tid);
  int Parent(int pid);
  // The thread that is `pid`'s parent (Linux's real_parent), or 0.
  int ParentThread(int pid);
  // What /proc shows of process `pid` (until it is reaped): its parent,
  // group, session, exit signal and whether it is a zombie.
  struct Info {
    int ppid = 0, pgid = 0, sid = 0, exit_signal = 0;
    bool zombie = false;
  };
  std::optional<Info> InfoOf(int pid);
  // The last pid handed out (/proc/loadavg).
  int last_pid();
  // Processes: all, or those in process group `pgid`; zombies only if
  // `zombies` (kill(2) succeeds on a zombie, in vain, as on Linux).
  std::vector<std::shared_ptr<ThreadGroup>> Live(bool zombies = false);
  std::vector<std::shared_ptr<ThreadGroup>> Group(int pgid,
                                                  bool zombies = false);
  size_t Count();

  // The last thread of process `pid` ended: its children go to the
  // nearest living ancestor that is a subreaper, else to init (Linux's
  // forget_original_parent). Returns what is due to them: the caller
  // sends it before Exited, so that a parent that waits for `pid` finds
  // it done.
  Orphans Reparent(int pid);
  // The process ended (after Reparent): it becomes a zombie until its
  // parent waits for it, and the parent is told (its exit signal, then
  // its wait(2) callers). True if the parent ignores SIGCHLD or set
  // SA_NOCLDWAIT: then the zombie is gone at once and
  // Kernel::ReleaseProcess is due.
  bool Exited(int pid, ExitStatus status);
  // Thread `tid` of process `pid` ended while the process lives on: the
  // children it created pass to thread `successor` (a live thread of the
  // same process) and are returned, for their death signals. Without a
  // successor (every other thread is exiting) they stay for Exited.
  std::vector<std::shared_ptr<ThreadGroup>> ThreadExited(int pid, int tid,
                                                         int successor);
  // PR_SET_CHILD_SUBREAPER / PR_GET_CHILD_SUBREAPER of process `pid`.
  void SetChildSubreaper(int pid, bool on);
  bool ChildSubreaper(int pid);
  // Job control (Linux's do_notify_parent_cldstop): process `pid`
  // stopped by `signal` (`code` CLD_STOPPED) or continued
  // (CLD_CONTINUED). Records it for wait(WUNTRACED / WCONTINUED), sends
  // the parent SIGCHLD unless it set SA_NOCLDSTOP, and wakes its wait(2)
  // callers, all under the lock, as Exited.
  void StoppedOrContinued(int pid, int code, int signal);

  // One wait(2) attempt by `waiter_pid`: an event, nothing yet (nullopt),
  // or ECHILD when no child matches at all.
  base::Result<std::optional<WaitEvent>> TryWait(int waiter_pid,
                                                 const WaitOptions& opts);
  // Where a process's wait(2) callers block, woken on any child event.
  std::shared_ptr<waiter::Queue> ChildEvents(int pid);

  // The process group of `pid` is orphaned (POSIX): no member has a
  // parent in another group of the same session (Linux's
  // is_current_pgrp_orphaned). Stop signals other than SIGSTOP do not stop
  // such a group.
  bool OrphanedGroupOf(int pid);
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
    // The parent's thread that is the parent (Linux's real_parent): its
    // exit sends the death signal.
    int parent_tid = 0;
    bool subreaper = false;  // PR_SET_CHILD_SUBREAPER
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
  // The next free id, or `want` if not 0 (EEXIST if in use).
  base::Result<int> NextIdLocked(int want = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // EAGAIN if one more task would go past `limits`.
  base::Result<void> CheckLimitsLocked(const TaskLimits& limits)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Linux's will_become_orphaned_pgrp: no member of group `pgid` but
  // `ignored` (0: none) has a parent in another group of its session.
  bool WillBeOrphanedLocked(int pgid, int ignored)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A member of group `pgid` is in a group stop (has_stopped_jobs).
  bool HasStoppedJobsLocked(int pgid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where the orphans of `n` go: its nearest ancestor that is a subreaper
  // and not exiting, else init (1).
  int ReaperLocked(const Node& n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Linux's do_notify_parent: sends `child`'s exit signal to `parent`
  // and wakes its wait(2) callers, under the lock, so that a wait that
  // finds the zombie finds the signal pending too. True if the parent
  // will never wait (SIGCHLD ignored or SA_NOCLDWAIT): reap it now.
  bool NotifyParentLocked(int child_pid, const Node& child, Node& parent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Matches(const Node& waiter, int child_pid, const Node& child,
               const WaitOptions& opts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<int, Node> nodes_ ABSL_GUARDED_BY(mu_);
  // Non-leader threads' ids, and their processes' pids.
  std::map<int, int> thread_ids_ ABSL_GUARDED_BY(mu_);
  int last_pid_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_PROCESS_TREE_H_
