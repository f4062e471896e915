// Task: one application thread, run by one sentry host thread for its whole
// life (that host thread is also the ptrace tracer of its stub thread).
//
// The task loop (task_run.cc) switches into the app through the platform
// and handles what comes back: syscalls through the kernel's table, faults
// and CPU signals by their default action (signal delivery is a later
// issue), interrupts by looking at exit requests.
//
// Lock order: Task::mu_ is a leaf.
#ifndef SENTRY_KERNEL_TASK_H_
#define SENTRY_KERNEL_TASK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "platform/platform.h"
#include "sentry/kernel/fd_table.h"
#include "sentry/kernel/fs_context.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/vfs.h"

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
  mm::MemoryManager& mm() const { return *mm_; }
  FdTable& fds() const { return *fds_; }
  FsContext& fs() const { return *fs_; }
  platform::Registers& regs() { return regs_; }

  // Replaces this task's image with the executable at `path` (the initial
  // exec and execve(2)). Must run on the task's host thread. On failure
  // `*why` says what is wrong in words for the user.
  base::Result<void> Exec(const std::string& path,
                          std::vector<std::string> argv,
                          std::vector<std::string> envp, std::string* why);

  // The task loop; returns when the task has exited. On the host thread.
  void Run();

  // exit_group(2) and fatal signals: the whole process ends with `status`.
  void ExitGroup(ExitStatus status);
  // exit(2): this thread ends (the process too, when it is the last).
  void ExitThread(int code);
  bool exiting() const;

  // Sleeps until `*woken` becomes true (if given), the deadline passes, or
  // the task is interrupted (exit; signals later), and says which.
  enum class WakeReason { kWoken, kTimeout, kInterrupted };
  WakeReason Block(absl::Time deadline,
                   const std::atomic<bool>* woken = nullptr);
  // Sleeps until `deadline`: EINTR if interrupted first.
  base::Result<void> BlockUntil(absl::Time deadline);
  // Makes a blocked task re-check why it blocks (after setting its flag).
  void Wake();
  // Wakes a blocked task and kicks a running one out of app code.
  void Interrupt();

  // Where *at() syscalls start: the cwd for AT_FDCWD, else the directory
  // the fd refers to (ENOTDIR if it is not one, EBADF if not open).
  base::Result<vfs::PathContext> PathContextAt(int dirfd) const;

  // Thread state, touched only by the task's own thread for now.
  std::string name;  // PR_SET_NAME / comm: at most 15 bytes
  int pdeath_signal = 0;
  bool no_new_privs = false;
  bool dumpable = true;
  bool child_subreaper = false;
  uint64_t signal_mask = 0;
  uint64_t clear_child_tid = 0;
  uint64_t robust_list_head = 0;
  uint64_t robust_list_len = 0;

 private:
  void HandleSyscall();            // task_syscall.cc
  void HandleFault(const platform::Trap& trap);

  // What /proc shows of this task's process.
  class ProcessView : public vfs::ProcessView {
   public:
    explicit ProcessView(const Task& task) : task_(task) {}
    int pid() const override;
    std::string exe_path() const override;
    std::vector<int> fds() const override;
    std::shared_ptr<vfs::FileDescription> fd(int fd) const override;

   private:
    const Task& task_;
  };

  Kernel& kernel_;
  const std::shared_ptr<ThreadGroup> tg_;
  const int tid_;
  std::shared_ptr<FdTable> fds_;
  std::shared_ptr<FsContext> fs_;
  std::unique_ptr<mm::MemoryManager> mm_;
  std::unique_ptr<platform::Context> context_;
  platform::Registers regs_{};
  std::atomic<bool> thread_exited_{false};
  const ProcessView process_view_{*this};

  mutable absl::Mutex mu_;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_TASK_H_
