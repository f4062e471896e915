// Kernel: the sandbox's one kernel instance. Owns the memory file, the
// platform, the VFS and the processes, and runs the container's init.
#ifndef SENTRY_KERNEL_KERNEL_H_
#define SENTRY_KERNEL_KERNEL_H_

#include <array>
#include <functional>
#include <map>
#include <set>
#include <sys/resource.h>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "platform/platform.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/proc_view.h"
#include "sentry/kernel/process_tree.h"
#include "sentry/kernel/ptrace.h"
#include "sentry/kernel/syscall_table.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timekeeper.h"
#include "sentry/mm/memory_file.h"
#include "sentry/tty/session_terminals.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/vfs.h"

namespace kernel {

class Kernel {
 public:
  struct Options {
    std::string platform = "systrap";
    platform::Options platform_options;
    const SyscallTable* syscalls = nullptr;  // required
    bool strace = false;
    std::string hostname = "runsc";
    std::string host_root = "/";
    // Host directories kept visible (read-only) over the /tmp tmpfs.
    std::vector<std::string> host_mounts;
    // Serves those trees (vfs::Vfs::Options::open_tree): the gofer's, in
    // runsc. Unset, the sentry opens them itself.
    std::function<base::Result<std::unique_ptr<vfs::Filesystem>>(
        const std::string& host_path)>
        open_tree;
    // The most tasks (threads, zombies included) that may exist at once,
    // like a pids cgroup: clone(2) beyond it fails with EAGAIN. From
    // `runsc do --pids-limit` (boot::Config::pids_limit); an OCI spec's
    // linux.resources.pids.limit is meant to feed the same field.
    size_t pids_limit = 1024;
  };
  // Must be called while the process is single-threaded (the platform
  // forks its helper process here).
  static base::Result<std::unique_ptr<Kernel>> Create(const Options& options,
                                                      std::string* why);
  ~Kernel();

  struct InitProcess {
    std::vector<std::string> argv;
    // The file to execute; argv[0] if empty (boot finds a bare command
    // name through PATH, as a shell would).
    std::string path;
    std::vector<std::string> envp;
    std::string cwd = "/";
    // fds 0, 1, 2 (and more) of the first process
    std::vector<std::shared_ptr<vfs::FileDescription>> stdio;
    Credentials creds;
    // runsc create: the program is loaded, but runs only at ReleaseInit
    // (runsc start), so that a missing or bad binary fails create.
    bool hold = false;
    // runsc create/run: init is a container's init (ThreadGroup::
    // unkillable); runsc do's is an ordinary process.
    bool unkillable = false;
    // StartProcess: called with the new pid before the program is loaded
    // (a terminal for its session, which the pid names).
    std::function<void(int pid)> before_exec;
    // An OCI spec's process.rlimits, user.umask and noNewPrivileges, and
    // its domainname (Linux's init_uts_ns starts with "(none)").
    std::vector<std::pair<int, rlimit>> rlimits;
    mode_t umask = 022;
    bool no_new_privs = false;
    std::string domainname = "(none)";
  };
  // Starts the container's first process (pid 1) on its own host thread and
  // returns once its executable is loaded, or why it could not be.
  base::Result<void> StartInit(InitProcess init, std::string* why);
  // Lets a held init (InitProcess::hold) run. Shutdown ends it instead.
  void ReleaseInit();
  // Starts a process beside init, as runsc exec does (gVisor's
  // CreateProcess): no parent in the sandbox (ppid 0), its own session and
  // process group, init's namespaces. Returns its pid once its program is
  // loaded, or why it could not be (ESRCH once init is gone).
  base::Result<int> StartProcess(InitProcess spec, std::string* why);
  // Blocks until process `pid` of StartProcess has exited, reaps it (no
  // one in the sandbox can: it has no parent) and returns how it ended.
  ExitStatus WaitProcess(int pid);
  // A signal from the host for process `pid` (runsc kill's for init, 1,
  // or a signal runsc exec passes on); false if there is no such process.
  bool SignalProcessFromHost(int pid, int sig);
  // runsc pause: every task stops before it next runs app code (one
  // blocked in a syscall when the call returns); Resume lets them go on.
  // Shutdown resumes, so that a paused sandbox can be killed.
  void Pause();
  void Resume();
  // Read by every task at every turn of its loop: an atomic load.
  bool paused() const { return paused_fast_.load(std::memory_order_acquire); }
  // A task's loop: sleeps while the sandbox is paused.
  void WaitWhilePaused();
  // Blocks until the first process has exited.
  ExitStatus WaitInit();
  // Asks every task to exit.
  void Shutdown(ExitStatus status);
  // A signal the sandbox received from the host (forwarded by runsc do):
  // it goes to the container's init.
  void SignalFromHost(int sig);

  mm::MemoryFile& memory_file() { return *memory_file_; }
  platform::Platform& platform() { return *platform_; }
  // The sandbox's clocks and the vDSO's parameter page.
  Timekeeper& timekeeper() { return *timekeeper_; }
  vfs::Vfs& vfs() { return *vfs_; }
  const SyscallTable& syscalls() const { return *options_.syscalls; }
  bool strace() const { return options_.strace; }
  const std::string& hostname() const { return options_.hostname; }
  absl::Time boot_time() const { return boot_time_; }
  Futexes& futexes() { return futexes_; }
  // What procfs reads of the sandbox (proc_view.h).
  const ProcView& proc_view() const { return proc_view_; }

  // Logs "unimplemented syscall NAME" the first time `nr` is seen.
  void NoteUnimplemented(uint64_t nr, const char* name);

  ProcessTree& processes() { return processes_; }
  // Tracers and tracees (ptrace.h).
  Ptrace& ptrace() { return ptrace_; }
  // Which terminal controls which session (sentry/tty/job_control.h).
  tty::SessionTerminals& terminals() { return terminals_; }

  // Runs `task` on a new host thread: `first` runs there before the task
  // loop (the exec of init, the address-space attach of a forked child);
  // if it fails the task exits at once. Returns the task.
  Task* StartTask(std::unique_ptr<Task> task,
                  std::function<base::Result<void>(Task&)> first);
  Task* FindTask(int tid);
  // Runs fn on task `tid` if it exists and has not finished, while the
  // task cannot go away. fn must not take Kernel::mu_. With
  // `exited_leaders`, also on a finished leader whose id is still in use
  // (Linux's zombie leader: its process lives on, or was not reaped yet);
  // fn tells it by Task::finished.
  void WithTask(int tid, const std::function<void(Task&)>& fn,
                bool exited_leaders = false);
  // Wakes task `tid` if it still exists (Task::Wake).
  void WakeTask(int tid);
  // The process `pid` was reaped: its tasks may be deleted once their
  // threads are done.
  void ReleaseProcess(int pid);
  // A thread (not its process) ended: its task may go once its host
  // thread is done.
  void ReleaseThread(int tid);
  // After pivot_root(2) in namespace `ns`: every process there has its
  // root and cwd moved as `move` says (each shared FsContext once).
  void ApplyPivot(const vfs::MountNamespace* ns, const vfs::PivotMove& move);
  // How many tasks may exist at once (a fork bomb gets EAGAIN).
  size_t pids_limit() const {
    return pids_limit_.load(std::memory_order_relaxed);
  }
  // runsc update: a new limit for new tasks (existing ones stay).
  void set_pids_limit(size_t limit) {
    pids_limit_.store(limit, std::memory_order_relaxed);
  }

  // execve's de_thread, once the other threads of `task`'s process were
  // told to exit: waits until they have all finished (so that their ids
  // are gone), or `timeout` passes (false: the caller tells threads that
  // appeared meanwhile to exit too, and waits again).
  bool AwaitOnlyThread(const Task& task, absl::Duration timeout);
  // Then a non-leader `task` takes over the finished leader's id, as in
  // Linux: the leader's task is deleted and `task` is found under the pid.
  // Returns the id `task` had (the pid if it was the leader).
  int TakeOverLeader(Task& task);

 private:
  // Called by a task's host thread when the task has finished.
  void TaskExited(Task* task);
  // Runs `task` and execs `spec` on its thread (the thread that must own
  // the address space); returns once the program is loaded or failed.
  base::Result<void> ExecNewTask(std::unique_ptr<Task> task, InitProcess spec,
                                 std::string* why);
  // On init's thread, after its exec: false if the sandbox is shutting
  // down instead of starting.
  bool AwaitInitRelease();
  // Whether every task of process `pid` has finished.
  bool ProcessDoneLocked(int pid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Joins and deletes finished tasks of reaped processes.
  void CollectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether every task of `task`'s process but `task` has finished.
  bool OnlyThreadLocked(const Task& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  explicit Kernel(const Options& options) : options_(options) {}

  const Options options_;
  const absl::Time boot_time_ = absl::Now();
  std::unique_ptr<mm::MemoryFile> memory_file_;
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<Timekeeper> timekeeper_;  // its page is in memory_file_
  std::unique_ptr<vfs::Vfs> vfs_;
  std::array<std::atomic<bool>, kMaxSyscalls> unimplemented_seen_{};
  Futexes futexes_;
  const ProcView proc_view_{*this};

  ProcessTree processes_;
  Ptrace ptrace_;
  tty::SessionTerminals terminals_;

  absl::Mutex mu_;
  std::map<int, std::unique_ptr<Task>> tasks_ ABSL_GUARDED_BY(mu_);
  std::set<int> released_ ABSL_GUARDED_BY(mu_);  // tids that may go
  std::shared_ptr<ThreadGroup> init_ ABSL_GUARDED_BY(mu_);
  int live_tasks_ ABSL_GUARDED_BY(mu_) = 0;

  // The gate of a held init: kHeld until ReleaseInit (kRun) or Shutdown
  // (kAbort).
  enum class Gate { kHeld, kRun, kAbort };
  std::atomic<size_t> pids_limit_{options_.pids_limit};
  absl::Mutex pause_mu_;
  bool paused_ ABSL_GUARDED_BY(pause_mu_) = false;
  std::atomic<bool> paused_fast_{false};  // paused_, for paused()
  absl::Mutex gate_mu_;
  Gate gate_ ABSL_GUARDED_BY(gate_mu_) = Gate::kHeld;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_KERNEL_H_
