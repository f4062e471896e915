// PtraceContext: runs app code in a stub thread until it traps (the hot
// path), joins address spaces, and moves FP state.
#include <linux/audit.h>
#include <sys/wait.h>

#include <algorithm>
#include <string>
#include <utility>

#include "base/log.h"
#include "platform/stub_traps.h"
#include "platform/ptrace/ptrace_platform.h"
#include "platform/ptrace/stub_process.h"
#include "platform/ptrace/stub_thread.h"

namespace platform::ptrace {
namespace {

constexpr uint64_t kUserCs = 0x33;  // __USER_CS: 64-bit user code
constexpr uint64_t kUserDs = 0x2b;  // __USER_DS
// SYS_SECCOMP from <asm-generic/siginfo.h>, which clashes with glibc's.
constexpr int kSysSeccomp = 1;

// A ptrace primitive failed. ESRCH: the stub was killed (and is reaped by
// now). Anything else is a bug in this file.
Trap Lost(base::Errno error) {
  if (error != base::Errno(ESRCH))
    base::Fatal(__FILE__, __LINE__,
                std::string("ptrace failed: ") +
                    std::string(base::ErrnoName(error.value)));
  return MakeTrap(Trap::Kind::kDead);
}

// Was this syscall stop made by the 64-bit `syscall` instruction? That
// instruction loads rcx with the return address, so rcx == rip at its
// stop; int $0x80 leaves rcx alone, and 32-bit code has another cs. (An app
// that sets rcx just so before int $0x80 gets its call read with the
// 64-bit ABI, which it could have used directly.) Unlike
// PTRACE_GET_SYSCALL_INFO, this costs no host syscall.
bool IsNativeSyscall(const Registers& regs) {
  return regs.cs == kUserCs && regs.rcx == regs.rip;
}

// What seccomp would say about a syscall this sandbox does not serve.
Trap ForeignSyscall(const Registers& regs) {
  Trap trap = MakeTrap(Trap::Kind::kSignal);
  trap.info.si_signo = SIGSYS;
  trap.info.si_code = kSysSeccomp;
  trap.info.si_call_addr = reinterpret_cast<void*>(regs.rip);
  trap.info.si_syscall = static_cast<int>(regs.orig_rax);
  trap.info.si_arch = AUDIT_ARCH_I386;
  return trap;
}

// A call into the vsyscall page (platform/stub_traps.h): the stub's filter
// answered the host's emulation with SIGSYS. Its si_call_addr is the
// entry point called.
bool IsVsyscallTrap(const siginfo_t& info) {
  return info.si_signo == SIGSYS && info.si_code == kSysSeccomp &&
         IsVsyscallCall(reinterpret_cast<uint64_t>(info.si_call_addr));
}

}  // namespace

PtraceContext::PtraceContext(const FpFormat& fp_format)
    : fp_format_(fp_format) {}

PtraceContext::~PtraceContext() { Release(); }

Trap PtraceContext::Switch(AddressSpace& as, Registers& regs) {
  // Every AddressSpace of this platform is a PtraceAddressSpace.
  auto& pas = static_cast<PtraceAddressSpace&>(as);
  if (pas.process().get() != current_process_) [[unlikely]] {
    if (!Join(pas)) return MakeTrap(Trap::Kind::kDead);
  }
  StubThread& thread = *current_;
  if (thread.dead()) return MakeTrap(Trap::Kind::kDead);
  if (pending_fp_) [[unlikely]] {
    if (std::optional<Trap> trap = ApplyPendingFpState(thread)) return *trap;
  }
  {
    std::lock_guard lock(mu_);
    if (interrupted_) {
      interrupted_ = false;
      return MakeTrap(Trap::Kind::kInterrupt);
    }
    // From here Interrupt() signals the stub thread. A signal that lands
    // before the PTRACE_SYSEMU stays pending and stops it at once.
    running_ = &thread;
  }
  const Trap trap = Run(thread, regs);
  std::lock_guard lock(mu_);
  running_ = nullptr;
  return trap;
}

base::Result<void> PtraceContext::Join(PtraceAddressSpace& as) {
  // Forget stub threads that have died (their address space is gone).
  current_process_ = nullptr;
  current_ = nullptr;
  std::erase_if(joined_, [](const Joined& j) { return j.thread->dead(); });
  // One host thread per context: its stub threads' tracer. (On the fast
  // path a wrong thread gets ESRCH, which StubThread also CHECKs.)
  for (const Joined& j : joined_) {
    if (!j.thread->IsTracer())
      base::Fatal(__FILE__, __LINE__,
                  "ptrace context switched from a second host thread");
  }
  const std::shared_ptr<StubProcess>& process = as.process();
  auto it = std::find_if(joined_.begin(), joined_.end(),
                         [&](const Joined& j) { return j.process == process; });
  if (it == joined_.end()) {
    auto thread = as.NewThread();
    if (!thread) {
      if (thread.error() != base::Errno(ESRCH))
        LOG(Error) << "ptrace stub " << as.stub_pid()
                   << ": cannot add a thread: "
                   << base::ErrnoName(thread.error().value);
      return base::Err(thread.error().value);
    }
    it = joined_.insert(joined_.end(), Joined{process, std::move(*thread)});
  }
  current_process_ = it->process.get();
  current_ = it->thread.get();
  return {};
}

void PtraceContext::Release() {
  for (const Joined& j : joined_) {
    if (j.thread->dead()) continue;
    if (j.thread->IsTracer()) {
      j.process->Release(*j.thread);
    } else {
      // Only its tracer can end it; that thread's exit will.
      LOG(Warning) << "ptrace stub thread " << j.thread->tid()
                   << " released by a thread that is not its tracer";
    }
  }
  joined_.clear();
  current_process_ = nullptr;
  current_ = nullptr;
}

pid_t PtraceContext::stub_tid() const {
  return current_ != nullptr ? current_->tid() : 0;
}

void PtraceContext::Interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
  if (running_ != nullptr) running_->Signal(kInterruptSignal);
}

bool PtraceContext::TakeInterrupt() {
  std::lock_guard lock(mu_);
  return std::exchange(interrupted_, false);
}

base::Result<void> PtraceContext::GetFpState(std::vector<uint8_t>* out) {
  if (pending_fp_) {
    *out = *pending_fp_;
    return {};
  }
  if (current_ == nullptr) {
    *out = InitFpState(fp_format_);
    return {};
  }
  return ReadFpState(*current_, fp_format_, out);
}

base::Result<void> PtraceContext::SetFpState(const std::vector<uint8_t>& in) {
  if (current_ != nullptr) return WriteFpState(*current_, fp_format_, in);
  // Kept for the first Switch, so checked now as the kernel will check it.
  TRY(CheckFpState(fp_format_, in));
  pending_fp_ = in;
  return {};
}

std::optional<Trap> PtraceContext::ApplyPendingFpState(StubThread& thread) {
  const std::vector<uint8_t> state = std::move(*pending_fp_);
  pending_fp_.reset();
  auto written = WriteFpState(thread, fp_format_, state);
  if (written) return std::nullopt;
  if (written.error() == base::Errno(ESRCH)) return Lost(written.error());
  // CheckFpState let it through, yet the kernel refused it. Linux answers
  // a bad FP frame in sigreturn with SIGSEGV.
  LOG(Warning) << "ptrace stub thread " << thread.tid()
               << ": FP state refused: " << base::ErrnoName(written.error().value);
  Trap trap = MakeTrap(Trap::Kind::kSignal);
  trap.info.si_signo = SIGSEGV;
  trap.info.si_code = SI_KERNEL;
  return trap;
}

Trap PtraceContext::Run(StubThread& stub, Registers& regs) {
  Registers host = regs;
  if (host.cs == 0) host.cs = kUserCs;
  if (host.ss == 0) host.ss = kUserDs;
  // Never let the host kernel restart a syscall; see the header.
  host.orig_rax = ~0ull;
  if (auto set = stub.SetRegs(host); !set) {
    if (set.error() == base::Errno(ESRCH)) return Lost(set.error());
    // EIO: a selector or base the kernel refuses (say, from a forged
    // sigreturn frame). Linux would SIGSEGV the app.
    LOG(Warning) << "ptrace stub thread " << stub.tid()
                 << ": registers refused";
    Trap trap = MakeTrap(Trap::Kind::kSignal);
    trap.info.si_signo = SIGSEGV;
    trap.info.si_code = SI_KERNEL;
    return trap;
  }
  for (;;) {
    if (auto resumed = stub.ResumeSysemu(); !resumed)
      return Lost(resumed.error());
    const base::Result<int> status = stub.WaitStop();
    if (!status) return Lost(status.error());
    if (std::optional<Trap> trap = Decode(stub, *status, regs)) return *trap;
    // A suppressed stop: resume where the app was, signal dropped.
  }
}

std::optional<Trap> PtraceContext::Decode(StubThread& stub, int status,
                                          Registers& regs) {
  const int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {  // the hot path: no siginfo needed
    if (auto got = stub.GetRegs(regs); !got) return Lost(got.error());
    if (!IsNativeSyscall(regs)) return ForeignSyscall(regs);
    return MakeTrap(Trap::Kind::kSyscall);
  }
  // PTRACE_EVENT_STOP (a group-stop), kInterruptSignal, or a non-CPU signal
  // from outside: never delivered to the stub.
  if ((status >> 16) != 0 || !IsCpuSignal(sig)) return Suppressed(stub, regs);
  Trap trap;
  if (auto got = stub.GetSiginfo(trap.info); !got) return Lost(got.error());
  // si_code <= 0: sent by some process (kill, tgkill, sigqueue), not
  // raised by the app's code.
  if (trap.info.si_code <= 0) return Suppressed(stub, regs);
  if (auto got = stub.GetRegs(regs); !got) return Lost(got.error());
  if (IsVsyscallTrap(trap.info))
    return VsyscallFault(reinterpret_cast<uint64_t>(trap.info.si_call_addr),
                         regs);
  trap.kind =
      IsPageFault(trap.info) ? Trap::Kind::kPageFault : Trap::Kind::kSignal;
  return trap;
}

std::optional<Trap> PtraceContext::Suppressed(StubThread& stub,
                                              Registers& regs) {
  // With no interrupt pending this is a stale interrupt signal (its
  // Interrupt already made an earlier Switch return) or noise from outside:
  // the app just goes on.
  if (!TakeInterrupt()) return std::nullopt;
  if (auto got = stub.GetRegs(regs); !got) return Lost(got.error());
  return MakeTrap(Trap::Kind::kInterrupt);
}

}  // namespace platform::ptrace
