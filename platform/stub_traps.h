// Trap decoding shared by the stub platforms (ptrace, systrap): which host
// signals are the app's own faults, and the legacy vsyscall page.
//
// A call to 0xffffffffff600000 (gettimeofday), ...400 (time) or ...800
// (getcpu) is emulated by the host kernel up to its seccomp check, which
// the stub's filter answers with SIGSYS: the call never runs, and the host
// has already emulated the `ret` (rip = the caller, rsp += 8). Both
// platforms report it as what a CPU without a vsyscall page raises, an
// instruction fetch fault at the entry point with the registers of the
// moment of the call; the kernel then emulates the call as gVisor does,
// or raises SIGSEGV.
#ifndef PLATFORM_STUB_TRAPS_H_
#define PLATFORM_STUB_TRAPS_H_

#include <signal.h>

#include <cstdint>

#include "platform/platform.h"

namespace platform {

inline Trap MakeTrap(Trap::Kind kind) {
  Trap trap;
  trap.kind = kind;
  return trap;
}

// Signals the CPU (or the kernel on the app's behalf) raises synchronously.
inline bool IsCpuSignal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
         sig == SIGTRAP || sig == SIGSYS;
}

// Faults the sentry can resolve by mapping something. Not SEGV_PKUERR
// (the app played with PKRU), not SI_KERNEL (a general protection fault).
inline bool IsPageFault(const siginfo_t& info) {
  if (info.si_signo == SIGSEGV)
    return info.si_code == SEGV_MAPERR || info.si_code == SEGV_ACCERR;
  return info.si_signo == SIGBUS && info.si_code == BUS_ADRERR;
}

inline constexpr uint64_t kVsyscallPage = 0xffffffffff600000;

// Whether a seccomp SIGSYS came from a call into the vsyscall page.
inline bool IsVsyscallCall(uint64_t call_addr) {
  return (call_addr & ~uint64_t{0xfff}) == kVsyscallPage;
}

// The fault to report for a call into the vsyscall page at `call_addr`.
inline Trap VsyscallFault(uint64_t call_addr, Registers& regs) {
  if (regs.rip != call_addr) {  // undo the host's emulated `ret`
    regs.rip = call_addr;
    regs.rsp -= 8;
  }
  Trap trap = MakeTrap(Trap::Kind::kPageFault);
  trap.info.si_signo = SIGSEGV;
  trap.info.si_code = SEGV_MAPERR;
  trap.info.si_addr = reinterpret_cast<void*>(call_addr);
  return trap;
}

}  // namespace platform

#endif  // PLATFORM_STUB_TRAPS_H_
