// The legacy vsyscall page, as both stub platforms see a call into it.
//
// A call to 0xffffffffff600000 (gettimeofday), ...400 (time) or ...800
// (getcpu) is emulated by the host kernel up to its seccomp check, which
// the stub's filter answers with SIGSYS: the call never runs, and the host
// has already emulated the `ret` (rip = the caller, rsp += 8). Both
// platforms report it as what a CPU without a vsyscall page raises, an
// instruction fetch fault at the entry point with the registers of the
// moment of the call; the kernel then emulates the call as gVisor does,
// or raises SIGSEGV.
#ifndef PLATFORM_VSYSCALL_H_
#define PLATFORM_VSYSCALL_H_

#include <signal.h>

#include <cstdint>

#include "platform/platform.h"

namespace platform {

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
  Trap trap;
  trap.kind = Trap::Kind::kPageFault;
  trap.info.si_signo = SIGSEGV;
  trap.info.si_code = SEGV_MAPERR;
  trap.info.si_addr = reinterpret_cast<void*>(call_addr);
  return trap;
}

}  // namespace platform

#endif  // PLATFORM_VSYSCALL_H_
