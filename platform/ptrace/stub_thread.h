// StubThread: one thread of a stub process, seized by one sentry host
// thread (its tracer) for life.
//
// The ptrace primitives the address space and the context are built from.
// Every ptrace request must come from the tracer thread: the kernel
// answers any other thread with ESRCH, which this class would otherwise
// mistake for a dead stub, so it CHECKs the caller where that matters.
//
// Waits and signals go through a pidfd of this very thread (PIDFD_THREAD,
// Linux 6.9), never through its tid: another sentry thread may reap it
// (StubProcess::Kill), and a recycled tid could then name some other
// thread's tracee. On older kernels the thread falls back to its tid
// (tgkill, waitid(P_PID)), and that one race stays open.
#ifndef PLATFORM_PTRACE_STUB_THREAD_H_
#define PLATFORM_PTRACE_STUB_THREAD_H_

#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "platform/platform.h"
#include "platform/ptrace/zygote.h"

namespace platform::ptrace {

// A pidfd for thread `tid` of process `tgid` (PIDFD_THREAD). Where the
// kernel predates PIDFD_THREAD: a process pidfd for a leader, an invalid
// fd (meaning "use the tid") for any other thread.
base::Result<base::UniqueFd> OpenThreadPidfd(pid_t tgid, pid_t tid);

class StubThread {
 public:
  // Thread `tid` of stub process `tgid`, not yet seized. `pidfd` refers to
  // it (see OpenThreadPidfd); invalid means "use the tid". The calling
  // thread will be its tracer: it must be the one that calls Seize.
  StubThread(pid_t tgid, pid_t tid, base::UniqueFd pidfd,
             const StubLayout& layout);
  // Closes the pidfd; neither kills nor reaps (StubProcess does).
  ~StubThread() = default;

  StubThread(const StubThread&) = delete;
  StubThread& operator=(const StubThread&) = delete;

  // PTRACE_SEIZE with EXITKILL, PTRACE_INTERRUPT, and a check that it
  // stopped in the stub code. Tracer only (CHECKed).
  base::Result<void> Seize();

  pid_t tid() const { return tid_; }
  pid_t tgid() const { return tgid_; }
  bool leader() const { return tid_ == tgid_; }
  // Is the calling host thread the tracer? No syscall.
  bool IsTracer() const;
  // Exited or killed; every call below then fails with ESRCH.
  bool dead() const { return dead_.load(std::memory_order_relaxed); }

  // Runs host syscall `nr` in the stub thread and returns its raw result
  // (-errno on failure), or Err(ESRCH) if it is dead. The thread must be in
  // a ptrace stop and is left in one (the gadget's int3), its registers
  // clobbered. Tracer only (CHECKed).
  base::Result<int64_t> Syscall(long nr, uint64_t a0 = 0, uint64_t a1 = 0,
                                uint64_t a2 = 0, uint64_t a3 = 0,
                                uint64_t a4 = 0, uint64_t a5 = 0);
  // Injects clone(flags) through the clone gadget: the new thread waits in
  // the stub's pause() loop, untraced. Returns its tid or -errno.
  base::Result<int64_t> Clone(uint64_t flags);
  // Injects exit(0), which ends this thread only, and reaps it. Tracer
  // only. Afterwards dead().
  void Exit();

  // The per-trap primitives, one host syscall each, tracer thread only.
  // Each fails with Err(ESRCH) once the thread is dead; SetRegs fails with
  // EIO if the kernel rejects the register values.
  base::Result<void> SetRegs(const Registers& regs);
  base::Result<void> GetRegs(Registers& regs);
  base::Result<void> GetSiginfo(siginfo_t& info);
  // PTRACE_SYSEMU with signal 0: runs until the next syscall (not
  // executed) or signal, suppressing the signal of a signal-delivery-stop.
  base::Result<void> ResumeSysemu();
  // PTRACE_CONT with signal 0 (to run injected code).
  base::Result<void> ResumeCont();
  // Waits for the next stop and returns it as a waitpid status.
  base::Result<int> WaitStop();
  // Any other request (PTRACE_GETREGSET ...), with the same ESRCH rules.
  base::Result<void> Request(__ptrace_request request, void* addr, void* data);

  // Sends `sig` to this thread only. Any thread; a no-op once it is dead.
  void Signal(int sig);
  // Waits until the thread has exited (stops on the way are dropped) and
  // marks it dead. Any sentry thread may do it. A leader is reported only
  // once every other thread of its process is reaped.
  void Reap();

 private:
  base::Result<int64_t> Inject(uint64_t gadget, uint64_t gadget_end, long nr,
                               uint64_t a0, uint64_t a1, uint64_t a2,
                               uint64_t a3, uint64_t a4, uint64_t a5);
  // Binds the thread to the CPU the tracer runs on, if that changed since
  // the last resume. The stub only runs while its tracer sleeps in the
  // wait, so they share the CPU well, and the stop/resume handoff then
  // needs no cross-CPU wakeup: a trap costs ~17 us instead of ~27 us here.
  void FollowTracerCpu();
  // After ESRCH: the thread was killed. Reaps it (not a leader: that could
  // block on the other threads) and returns Err(ESRCH).
  base::Result<void> Gone();
  int WaitId(siginfo_t* info, int options);
  // Requires the calling thread to be the tracer. pthread_self() rather
  // than gettid(), which is a syscall (~1.5 us here).
  void CheckTracer() const;

  const pid_t tgid_;
  const pid_t tid_;
  const pid_t tracer_;  // its tid, for the log
  const pthread_t tracer_thread_;
  const base::UniqueFd pidfd_;
  const StubLayout layout_;
  // Registers for injected syscalls: the thread's own segment selectors
  // and flags from the seizure stop, every general register zero.
  Registers syscall_regs_{};
  std::atomic<bool> dead_{false};
  std::atomic<bool> reaped_{false};
  int bound_cpu_ = -1;  // the tracer's CPU at the last resume
  bool affinity_warned_ = false;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_STUB_THREAD_H_
