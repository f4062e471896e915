#include "platform/ptrace/stub_process.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/log.h"
#include "platform/ptrace/pidfd.h"
#include "platform/ptrace/retry.h"

namespace platform::ptrace {
namespace {

// TRACESYSGOOD: syscall stops report SIGTRAP|0x80, distinct from an int3.
// EXITKILL: the stub dies with its tracer thread; it must never run on
// untraced, where app code could make host syscalls.
constexpr long kSeizeOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;

bool IsEventStop(int status) {
  return WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP;
}

}  // namespace

base::Result<std::unique_ptr<StubProcess>> StubProcess::Seize(
    pid_t pid, const StubLayout& layout) {
  // The zygote replies only once the stub is set up and paused, so it is
  // alive unless killed from outside (and then the rip check below catches
  // a recycled pid).
  base::UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) return base::Err(errno);
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, kSeizeOptions) != 0) {
    const int err = errno;
    PidfdSendSignal(pidfd.get(), SIGKILL);
    return base::Err(err);
  }
  std::unique_ptr<StubProcess> stub(
      new StubProcess(pid, std::move(pidfd), layout));
  // From here on the destructor kills and reaps the stub on any failure.
  // PTRACE_INTERRUPT ends the stub's pause() with a PTRACE_EVENT_STOP. The
  // pause returns -ERESTARTNOHAND, but every later SETREGS sets orig_rax to
  // -1, so the kernel never restarts it.
  TRY(stub->Request(PTRACE_INTERRUPT, nullptr, nullptr));
  // A signal from outside may be reported first: drop it and wait on.
  while (!IsEventStop(TRY(stub->WaitStop()))) TRY(stub->ResumeCont());
  Registers regs;
  TRY(stub->GetRegs(regs));
  if (regs.rip < layout.code_start || regs.rip >= layout.code_end) {
    LOG(Error) << "ptrace stub " << pid << ": stopped at rip 0x" << std::hex
               << regs.rip << ", outside the stub code";
    // Not provably ours: let it go rather than kill it.
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    stub->dead_ = true;
    return base::Err(EPROTO);
  }
  Registers& sys = stub->syscall_regs_;
  sys.cs = regs.cs;
  sys.ss = regs.ss;
  sys.ds = regs.ds;
  sys.es = regs.es;
  sys.fs = regs.fs;
  sys.gs = regs.gs;
  sys.eflags = regs.eflags;
  sys.rsp = layout.region_end;  // unused by the gadget; still our own page
  return stub;
}

StubProcess::StubProcess(pid_t pid, base::UniqueFd pidfd,
                         const StubLayout& layout)
    : pid_(pid),
      tracer_(gettid()),
      tracer_thread_(pthread_self()),
      pidfd_(std::move(pidfd)),
      layout_(layout) {}

void StubProcess::CheckTracer() const {
  if (!pthread_equal(pthread_self(), tracer_thread_)) [[unlikely]] {
    base::Fatal(__FILE__, __LINE__,
                "ptrace stub " + std::to_string(pid_) + " used by thread " +
                    std::to_string(gettid()) + ", its tracer is " +
                    std::to_string(tracer_));
  }
}

StubProcess::~StubProcess() {
  if (dead_) return;
  Signal(SIGKILL);
  Reap();
}

base::Result<int64_t> StubProcess::Syscall(long nr, uint64_t a0, uint64_t a1,
                                           uint64_t a2, uint64_t a3,
                                           uint64_t a4, uint64_t a5) {
  // TODO(multi-threaded tasks): the AddressSpace calls must then come from
  // the tracer of one of the stub's threads; today there is one thread.
  CheckTracer();
  Registers regs = syscall_regs_;
  regs.rip = layout_.syscall_gadget;
  regs.orig_rax = ~0ull;  // no syscall in progress: nothing to restart
  regs.rax = nr;
  regs.rdi = a0;
  regs.rsi = a1;
  regs.rdx = a2;
  regs.r10 = a3;
  regs.r8 = a4;
  regs.r9 = a5;
  TRY(SetRegs(regs));
  TRY(ResumeCont());
  for (;;) {
    const int status = TRY(WaitStop());
    if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) {
      TRY(GetRegs(regs));
      if (regs.rip == layout_.syscall_gadget_end)
        return static_cast<int64_t>(regs.rax);
    }
    // Not our int3: a late interrupt or a signal from outside. Drop it and
    // let the gadget go on.
    TRY(ResumeCont());
  }
}

base::Result<void> StubProcess::SetRegs(const Registers& regs) {
  return Request(PTRACE_SETREGS, nullptr, const_cast<Registers*>(&regs));
}

base::Result<void> StubProcess::GetRegs(Registers& regs) {
  return Request(PTRACE_GETREGS, nullptr, &regs);
}

base::Result<void> StubProcess::GetSiginfo(siginfo_t& info) {
  return Request(PTRACE_GETSIGINFO, nullptr, &info);
}

base::Result<void> StubProcess::ResumeSysemu() {
  FollowTracerCpu();
  return Request(PTRACE_SYSEMU, nullptr, nullptr);
}

base::Result<void> StubProcess::ResumeCont() {
  FollowTracerCpu();
  return Request(PTRACE_CONT, nullptr, nullptr);
}

void StubProcess::FollowTracerCpu() {
  // glibc answers from the rseq area or the vDSO: no syscall.
  const int cpu = sched_getcpu();
  if (cpu < 0 || cpu == bound_cpu_ || dead_) return;
  bound_cpu_ = cpu;  // even on failure: try again only on the next move
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // Best effort: a cpuset may forbid it, and then the stub just runs
  // wherever the scheduler puts it. ESRCH: dying; the next request sees it.
  if (sched_setaffinity(pid_, sizeof(set), &set) != 0 && errno != ESRCH &&
      !affinity_warned_) {
    affinity_warned_ = true;
    LOG(Warning) << "ptrace stub " << pid_ << ": cannot bind to CPU " << cpu
                 << ": " << base::ErrnoName(errno);
  }
}

base::Result<int> StubProcess::WaitStop() {
  if (dead_) return base::Err(ESRCH);
  int status = 0;
  // By pid: the stub cannot be reaped (and its pid recycled) but by a wait
  // of ours. The sentry must never wait for "any child" (waitpid(-1)): that
  // would steal stops from the tracer threads.
  if (RetryEintr([&] { return waitpid(pid_, &status, __WALL); }) != pid_) {
    LOG(Error) << "ptrace stub " << pid_
               << ": waitpid: " << base::ErrnoName(errno);
    dead_ = true;
    return base::Err(ESRCH);
  }
  if (WIFSTOPPED(status)) return status;
  dead_ = true;  // exited or killed, and this wait reaped it
  return base::Err(ESRCH);
}

void StubProcess::Signal(int sig) {
  // ESRCH: already reaped. Nothing else can fail for our own child.
  if (PidfdSendSignal(pidfd_.get(), sig) != 0 && errno != ESRCH)
    LOG(Error) << "ptrace stub " << pid_ << ": signal " << sig << ": "
               << base::ErrnoName(errno);
}

base::Result<void> StubProcess::Request(__ptrace_request request, void* addr,
                                        void* data) {
  if (dead_) return base::Err(ESRCH);
  if (::ptrace(request, pid_, addr, data) == 0) return {};
  if (errno == ESRCH) return Gone();
  return base::Err(errno);
}

base::Result<void> StubProcess::Gone() {
  // ESRCH means "not our tracee, or not stopped". Asking from the wrong
  // thread is a sentry bug; otherwise a SIGKILL from outside has ended the
  // stop, and the stub is on its way out.
  CheckTracer();
  Reap();
  return base::Err(ESRCH);
}

void StubProcess::Reap() {
  for (;;) {
    siginfo_t info{};
    // P_PIDFD: exactly this process, even if its pid were recycled.
    if (waitid(P_PIDFD, pidfd_.get(), &info, WEXITED | __WALL) != 0) {
      if (errno == EINTR) continue;
      // ECHILD: already reaped, e.g. its tracer thread exited (EXITKILL
      // killed it and the zygote reaped it).
      break;
    }
    if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED ||
        info.si_code == CLD_DUMPED)
      break;
    // A stop reported on its way to death; wait on.
  }
  dead_ = true;
}

}  // namespace platform::ptrace
