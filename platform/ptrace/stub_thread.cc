#include "platform/ptrace/stub_thread.h"

#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/log.h"
#include "platform/ptrace/pidfd.h"

namespace platform::ptrace {
namespace {

// TRACESYSGOOD: syscall stops report SIGTRAP|0x80, distinct from an int3.
// EXITKILL: the thread is SIGKILLed when its tracer thread exits, and a
// SIGKILL ends the whole stub process. That is right for a crashing
// sentry; a task thread that merely exits releases its stub thread first
// (StubThread::Exit), see platform/README.md.
constexpr long kSeizeOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;

bool IsEventStop(int status) {
  return WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP;
}

}  // namespace

base::Result<base::UniqueFd> OpenThreadPidfd(pid_t tgid, pid_t tid) {
  base::UniqueFd fd(PidfdOpen(tid, kPidfdThread));
  if (fd) return fd;
  if (errno != EINVAL) return base::Err(errno);
  // No PIDFD_THREAD here (Linux < 6.9). A process pidfd waits for and
  // signals a leader just the same; other threads fall back to the tid.
  if (tid != tgid) return base::UniqueFd();
  fd = base::UniqueFd(PidfdOpen(tid));
  if (!fd) return base::Err(errno);
  return fd;
}

StubThread::StubThread(pid_t tgid, pid_t tid, base::UniqueFd pidfd,
                       const StubLayout& layout)
    : tgid_(tgid),
      tid_(tid),
      tracer_(gettid()),
      tracer_thread_(pthread_self()),
      pidfd_(std::move(pidfd)),
      layout_(layout) {}

base::Result<void> StubThread::Seize() {
  CheckTracer();
  if (::ptrace(PTRACE_SEIZE, tid_, nullptr, kSeizeOptions) != 0) {
    const int err = errno;
    dead_ = true;
    reaped_ = true;  // not our tracee: never wait for it
    return base::Err(err);
  }
  // PTRACE_INTERRUPT ends the pause() with a PTRACE_EVENT_STOP. The pause
  // returns -ERESTARTNOHAND, but every later SETREGS sets orig_rax to -1,
  // so the kernel never restarts it.
  TRY(Request(PTRACE_INTERRUPT, nullptr, nullptr));
  // A signal from outside may be reported first: drop it and wait on.
  while (!IsEventStop(TRY(WaitStop()))) TRY(ResumeCont());
  Registers regs;
  TRY(GetRegs(regs));
  if (regs.rip < layout_.code_start || regs.rip >= layout_.code_end) {
    LOG(Error) << "ptrace stub " << tgid_ << "/" << tid_ << ": stopped at rip 0x"
               << std::hex << regs.rip << ", outside the stub code";
    // Not provably ours: let it go rather than kill it.
    ::ptrace(PTRACE_DETACH, tid_, nullptr, nullptr);
    dead_ = true;
    reaped_ = true;
    return base::Err(EPROTO);
  }
  syscall_regs_.cs = regs.cs;
  syscall_regs_.ss = regs.ss;
  syscall_regs_.ds = regs.ds;
  syscall_regs_.es = regs.es;
  syscall_regs_.fs = regs.fs;
  syscall_regs_.gs = regs.gs;
  syscall_regs_.eflags = regs.eflags;
  // Unused by the gadgets (and by a clone child); still our own page.
  syscall_regs_.rsp = layout_.region_end;
  return {};
}

bool StubThread::IsTracer() const {
  return pthread_equal(pthread_self(), tracer_thread_);
}

void StubThread::CheckTracer() const {
  if (!IsTracer()) [[unlikely]] {
    base::Fatal(__FILE__, __LINE__,
                "ptrace stub thread " + std::to_string(tid_) +
                    " used by thread " + std::to_string(gettid()) +
                    ", its tracer is " + std::to_string(tracer_));
  }
}

base::Result<int64_t> StubThread::Syscall(long nr, uint64_t a0, uint64_t a1,
                                          uint64_t a2, uint64_t a3,
                                          uint64_t a4, uint64_t a5) {
  return Inject(layout_.syscall_gadget, layout_.syscall_gadget_end, nr, a0, a1,
                a2, a3, a4, a5);
}

base::Result<int64_t> StubThread::Clone(uint64_t flags) {
  // newsp = 0: the child keeps %rsp, and never touches it.
  return Inject(layout_.clone_gadget, layout_.clone_gadget_end, SYS_clone,
                flags, 0, 0, 0, 0, 0);
}

base::Result<int64_t> StubThread::Inject(uint64_t gadget, uint64_t gadget_end,
                                         long nr, uint64_t a0, uint64_t a1,
                                         uint64_t a2, uint64_t a3, uint64_t a4,
                                         uint64_t a5) {
  CheckTracer();
  Registers regs = syscall_regs_;
  regs.rip = gadget;
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
      if (regs.rip == gadget_end) return static_cast<int64_t>(regs.rax);
    }
    // Not our int3: a late interrupt or a signal from outside. Drop it and
    // let the gadget go on.
    TRY(ResumeCont());
  }
}

void StubThread::Exit() {
  CheckTracer();
  CHECK(!leader());  // a leader's exit would leave a zombie group leader
  if (dead()) return;
  Registers regs = syscall_regs_;
  regs.rip = layout_.syscall_gadget;
  regs.orig_rax = ~0ull;
  regs.rax = SYS_exit;  // this thread only, unlike exit_group
  regs.rdi = 0;
  if (!SetRegs(regs) || !ResumeCont()) return;  // ESRCH: already reaped
  // A stop on the way (a late interrupt signal) is dropped; WaitStop
  // reaps the thread when it reports the exit.
  while (WaitStop()) {
    if (!ResumeCont()) return;
  }
}

base::Result<void> StubThread::SetRegs(const Registers& regs) {
  return Request(PTRACE_SETREGS, nullptr, const_cast<Registers*>(&regs));
}

base::Result<void> StubThread::GetRegs(Registers& regs) {
  return Request(PTRACE_GETREGS, nullptr, &regs);
}

base::Result<void> StubThread::GetSiginfo(siginfo_t& info) {
  return Request(PTRACE_GETSIGINFO, nullptr, &info);
}

base::Result<void> StubThread::ResumeSysemu() {
  FollowTracerCpu();
  return Request(PTRACE_SYSEMU, nullptr, nullptr);
}

base::Result<void> StubThread::ResumeCont() {
  FollowTracerCpu();
  return Request(PTRACE_CONT, nullptr, nullptr);
}

void StubThread::FollowTracerCpu() {
  // glibc answers from the rseq area or the vDSO: no syscall.
  const int cpu = sched_getcpu();
  if (cpu < 0 || cpu == bound_cpu_ || dead()) return;
  bound_cpu_ = cpu;  // even on failure: try again only on the next move
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // Best effort: a cpuset may forbid it, and then the stub just runs
  // wherever the scheduler puts it. ESRCH: dying; the next request sees it.
  // By tid: the thread is our tracee, stopped, so the tid is still its own.
  if (sched_setaffinity(tid_, sizeof(set), &set) != 0 && errno != ESRCH &&
      !affinity_warned_) {
    affinity_warned_ = true;
    LOG(Warning) << "ptrace stub " << tid_ << ": cannot bind to CPU " << cpu
                 << ": " << base::ErrnoName(errno);
  }
}

int StubThread::WaitId(siginfo_t* info, int options) {
  if (pidfd_) return waitid(P_PIDFD, pidfd_.get(), info, options);
  return waitid(P_PID, tid_, info, options);
}

base::Result<int> StubThread::WaitStop() {
  if (dead()) return base::Err(ESRCH);
  siginfo_t info{};
  // Never "any child": the sentry must not steal other tracers' stops.
  while (WaitId(&info, WSTOPPED | WEXITED | __WALL) != 0) {
    if (errno == EINTR) continue;
    // ECHILD: another sentry thread reaped it (StubProcess::Kill).
    if (errno != ECHILD)
      LOG(Error) << "ptrace stub " << tid_
                 << ": waitid: " << base::ErrnoName(errno);
    reaped_ = true;
    dead_ = true;
    return base::Err(ESRCH);
  }
  if (info.si_code == CLD_TRAPPED || info.si_code == CLD_STOPPED)
    return (info.si_status << 8) | 0x7f;  // as waitpid would say
  reaped_ = true;  // exited or killed, and this wait reaped it
  dead_ = true;
  return base::Err(ESRCH);
}

void StubThread::Signal(int sig) {
  int rc = 0;
  if (pidfd_) {
    rc = PidfdSendSignal(pidfd_.get(), sig);
  } else if (!reaped_) {
    rc = static_cast<int>(syscall(SYS_tgkill, tgid_, tid_, sig));
  }
  // ESRCH: already reaped. Nothing else can fail for our own tracee.
  if (rc != 0 && errno != ESRCH)
    LOG(Error) << "ptrace stub " << tid_ << ": signal " << sig << ": "
               << base::ErrnoName(errno);
}

base::Result<void> StubThread::Request(__ptrace_request request, void* addr,
                                       void* data) {
  if (dead()) return base::Err(ESRCH);
  if (::ptrace(request, tid_, addr, data) == 0) return {};
  if (errno == ESRCH) return Gone();
  return base::Err(errno);
}

base::Result<void> StubThread::Gone() {
  // ESRCH means "not our tracee, or not stopped". Asking from the wrong
  // thread is a sentry bug; otherwise a SIGKILL from outside has ended the
  // stop, and the stub is on its way out.
  CheckTracer();
  if (leader()) {
    // Its exit is reported only when every other thread is reaped, which
    // may take a while: StubProcess::Kill reaps it.
    dead_ = true;
  } else {
    Reap();
  }
  return base::Err(ESRCH);
}

void StubThread::Reap() {
  while (!reaped_) {
    siginfo_t info{};
    if (WaitId(&info, WEXITED | __WALL) != 0) {
      if (errno == EINTR) continue;
      // ECHILD: already reaped (by another sentry thread, or by the kernel
      // if the sentry ignores SIGCHLD), or never ours.
      break;
    }
    if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED ||
        info.si_code == CLD_DUMPED)
      break;
    // A ptrace stop reported on its way to death; wait on.
  }
  reaped_ = true;
  dead_ = true;
}

}  // namespace platform::ptrace
