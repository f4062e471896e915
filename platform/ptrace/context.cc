// PtraceContext: runs app code in a stub until it traps. The hot path.
#include <linux/audit.h>
#include <sys/wait.h>

#include <string>
#include <utility>

#include "base/log.h"
#include "platform/ptrace/ptrace_platform.h"
#include "platform/ptrace/stub_process.h"

namespace platform::ptrace {
namespace {

constexpr uint64_t kUserCs = 0x33;  // __USER_CS: 64-bit user code
constexpr uint64_t kUserDs = 0x2b;  // __USER_DS
// SYS_SECCOMP from <asm-generic/siginfo.h>, which clashes with glibc's.
constexpr int kSysSeccomp = 1;

Trap MakeTrap(Trap::Kind kind) {
  Trap trap;
  trap.kind = kind;
  return trap;
}

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

// Signals the CPU (or the kernel on the app's behalf) raises synchronously.
bool IsCpuSignal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
         sig == SIGTRAP || sig == SIGSYS;
}

// Faults the sentry can resolve by mapping something. Not SEGV_PKUERR
// (the app played with PKRU), not SI_KERNEL (a general protection fault).
bool IsPageFault(const siginfo_t& info) {
  if (info.si_signo == SIGSEGV)
    return info.si_code == SEGV_MAPERR || info.si_code == SEGV_ACCERR;
  return info.si_signo == SIGBUS && info.si_code == BUS_ADRERR;
}

}  // namespace

Trap PtraceContext::Switch(AddressSpace& as, Registers& regs) {
  // Every AddressSpace of this platform is a PtraceAddressSpace.
  StubProcess& stub = static_cast<PtraceAddressSpace&>(as).stub();
  if (stub.dead()) return MakeTrap(Trap::Kind::kDead);
  {
    std::lock_guard lock(mu_);
    if (interrupted_) {
      interrupted_ = false;
      return MakeTrap(Trap::Kind::kInterrupt);
    }
    // From here Interrupt() signals the stub. A signal that lands before
    // the PTRACE_SYSEMU stays pending and stops the stub at once.
    running_ = &stub;
  }
  const Trap trap = Run(stub, regs);
  std::lock_guard lock(mu_);
  running_ = nullptr;
  return trap;
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

Trap PtraceContext::Run(StubProcess& stub, Registers& regs) {
  Registers host = regs;
  if (host.cs == 0) host.cs = kUserCs;
  if (host.ss == 0) host.ss = kUserDs;
  // Never let the host kernel restart a syscall; see the header.
  host.orig_rax = ~0ull;
  if (auto set = stub.SetRegs(host); !set) {
    if (set.error() == base::Errno(ESRCH)) return Lost(set.error());
    // EIO: a selector or base the kernel refuses (say, from a forged
    // sigreturn frame). Linux would SIGSEGV the app.
    LOG(Warning) << "ptrace stub " << stub.pid() << ": registers refused";
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

std::optional<Trap> PtraceContext::Decode(StubProcess& stub, int status,
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
  trap.kind =
      IsPageFault(trap.info) ? Trap::Kind::kPageFault : Trap::Kind::kSignal;
  return trap;
}

std::optional<Trap> PtraceContext::Suppressed(StubProcess& stub,
                                              Registers& regs) {
  // With no interrupt pending this is a stale interrupt signal (its
  // Interrupt already made an earlier Switch return) or noise from outside:
  // the app just goes on.
  if (!TakeInterrupt()) return std::nullopt;
  if (auto got = stub.GetRegs(regs); !got) return Lost(got.error());
  return MakeTrap(Trap::Kind::kInterrupt);
}

}  // namespace platform::ptrace
