// StubProcess: one stub, seized by one sentry thread (its tracer for life).
//
// The ptrace primitives the address space and the context are built from.
// Every ptrace request must come from the tracer thread: the kernel
// answers any other thread with ESRCH, which this class would otherwise
// mistake for a dead stub, so it CHECKs the caller where that matters.
#ifndef PLATFORM_PTRACE_STUB_PROCESS_H_
#define PLATFORM_PTRACE_STUB_PROCESS_H_

#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "base/unique_fd.h"
#include "platform/platform.h"
#include "platform/ptrace/zygote.h"

namespace platform::ptrace {

class StubProcess {
 public:
  // Seizes the fresh stub `pid` (from Zygote::NewStub) with
  // PTRACE_O_EXITKILL, stops it, and makes the calling thread its tracer.
  static base::Result<std::unique_ptr<StubProcess>> Seize(
      pid_t pid, const StubLayout& layout);

  // Kills and reaps the stub. Any thread may do this: a wait for a tracee
  // works from every thread of the tracer's process.
  ~StubProcess();

  StubProcess(const StubProcess&) = delete;
  StubProcess& operator=(const StubProcess&) = delete;

  pid_t pid() const { return pid_; }
  pid_t tracer() const { return tracer_; }
  // The stub has exited and been reaped; every call below fails with ESRCH.
  bool dead() const { return dead_; }

  // Runs host syscall `nr` in the stub and returns its raw result (-errno
  // on failure), or Err(ESRCH) if the stub is dead. The stub must be in a
  // ptrace stop; it is left in one (the gadget's int3), with its registers
  // clobbered. Tracer thread only (CHECKed).
  base::Result<int64_t> Syscall(long nr, uint64_t a0 = 0, uint64_t a1 = 0,
                                uint64_t a2 = 0, uint64_t a3 = 0,
                                uint64_t a4 = 0, uint64_t a5 = 0);

  // The per-trap primitives, one host syscall each, tracer thread only.
  // Each fails with Err(ESRCH) once the stub is dead (it is then reaped);
  // SetRegs fails with EIO if the kernel rejects the register values.
  base::Result<void> SetRegs(const Registers& regs);
  base::Result<void> GetRegs(Registers& regs);
  base::Result<void> GetSiginfo(siginfo_t& info);
  // PTRACE_SYSEMU with signal 0: runs until the next syscall (not
  // executed) or signal, suppressing the signal of a signal-delivery-stop.
  base::Result<void> ResumeSysemu();
  // PTRACE_CONT with signal 0 (to run injected code).
  base::Result<void> ResumeCont();
  // Waits for the next stop and returns its waitpid status.
  base::Result<int> WaitStop();

  // Sends `sig` to the stub. Any thread; a no-op once the stub has died.
  // Through a pidfd, so a recycled pid can never be hit.
  void Signal(int sig);

 private:
  StubProcess(pid_t pid, base::UniqueFd pidfd, const StubLayout& layout);
  base::Result<void> Request(__ptrace_request request, void* addr, void* data);
  // Binds the stub to the CPU the tracer runs on, if that changed since
  // the last resume. The stub only runs while its tracer sleeps in
  // waitpid, so they share the CPU well, and the stop/resume handoff then
  // needs no cross-CPU wakeup: a trap costs ~17 us instead of ~27 us here.
  void FollowTracerCpu();
  // After ESRCH: the stub was killed. Reaps it and returns Err(ESRCH).
  base::Result<void> Gone();
  // Waits until the stub has exited (stops on the way are discarded).
  void Reap();

  // Requires the calling thread to be the tracer. pthread_self() rather
  // than gettid(), which is a syscall (~1.5 us here).
  void CheckTracer() const;

  const pid_t pid_;
  const pid_t tracer_;  // its tid, for the log
  const pthread_t tracer_thread_;
  const base::UniqueFd pidfd_;
  const StubLayout layout_;
  // Registers for injected syscalls: the stub's own segment selectors and
  // flags from the seizure stop, every general register zero.
  Registers syscall_regs_{};
  bool dead_ = false;
  int bound_cpu_ = -1;  // the tracer's CPU at the last resume
  bool affinity_warned_ = false;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_STUB_PROCESS_H_
