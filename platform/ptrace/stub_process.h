// StubProcess: one stub process (one AddressSpace) and its threads.
//
// Its leader, forked by the zygote, is the *control* thread of the process:
// the platform's control host thread (control_thread.h) traces it and runs
// in it whatever a sentry thread without a stub thread of its own here
// needs: clone a new stub thread, or an injected mmap/munmap/mprotect.
// Every other thread was cloned from the leader for one Context (one task)
// and is traced by that task's host thread; it ends when the Context is
// released or its host thread exits (ReleaseAtThreadExit), or with the
// whole process (Kill).
#ifndef PLATFORM_PTRACE_STUB_PROCESS_H_
#define PLATFORM_PTRACE_STUB_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "platform/ptrace/stub_thread.h"
#include "platform/ptrace/zygote.h"

namespace platform::ptrace {

// What a new stub thread shares with the rest of its process: everything
// a Linux thread shares (the stub's fd table and cwd hold nothing anyway).
inline constexpr uint64_t kStubThreadCloneFlags =
    0x00000100 /* CLONE_VM */ | 0x00000200 /* CLONE_FS */ |
    0x00000400 /* CLONE_FILES */ | 0x00000800 /* CLONE_SIGHAND */ |
    0x00010000 /* CLONE_THREAD */ | 0x00040000 /* CLONE_SYSVSEM */;

class StubProcess {
 public:
  // `leader` has been seized by the control thread; `pidfd` is a process
  // pidfd of the same process.
  StubProcess(std::unique_ptr<StubThread> leader, base::UniqueFd pidfd,
              const StubLayout& layout);
  ~StubProcess();  // Kill()

  StubProcess(const StubProcess&) = delete;
  StubProcess& operator=(const StubProcess&) = delete;

  pid_t pid() const { return leader_->tid(); }
  const StubLayout& layout() const { return layout_; }
  // Control thread only (it is the tracer).
  StubThread& leader() { return *leader_; }
  bool killed() const { return killed_.load(std::memory_order_relaxed); }

  // Registers a new thread, before it is seized, so that Kill() reaps it.
  // ESRCH once the process is killed.
  base::Result<void> Add(std::shared_ptr<StubThread> thread);
  // A live stub thread here traced by the calling host thread, or null.
  std::shared_ptr<StubThread> FindMine();
  // Ends `thread` (exit(0) in that thread only; the caller must be its
  // tracer) and forgets it. A no-op for a dead thread.
  void Release(StubThread& thread);
  // SIGKILLs the process (every thread) and reaps every thread. Any sentry
  // thread; idempotent. Afterwards every thread is dead().
  void Kill();

 private:
  void Remove(const StubThread* thread);

  const std::unique_ptr<StubThread> leader_;
  const base::UniqueFd pidfd_;
  const StubLayout layout_;
  std::atomic<bool> killed_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<StubThread>> threads_;  // guarded by mu_
};

// Makes the calling host thread release `thread` (StubProcess::Release)
// when it exits, if nothing has released it before. Without this, the
// thread's exit would SIGKILL its stub thread (EXITKILL) and with it the
// whole stub process. Calling thread = the tracer.
void ReleaseAtThreadExit(const std::shared_ptr<StubProcess>& process,
                         const std::shared_ptr<StubThread>& thread);

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_STUB_PROCESS_H_
