// The legacy vsyscall page: old static binaries call gettimeofday, time
// and getcpu at fixed addresses. Linux (vsyscall=xonly or emulate) traps
// the call and emulates it; so does the sentry, as gVisor does.
#include <signal.h>
#include <sys/syscall.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {
namespace {

// Linux's VSYSCALL_ADDR and its three entry points, 1024 bytes apart.
constexpr uint64_t kVsyscallAddr = 0xffffffffff600000;

// The syscall behind an entry point, or -1 for any other address (Linux's
// addr_to_vsyscall_nr).
int VsyscallNr(uint64_t addr) {
  switch (addr) {
    case kVsyscallAddr:
      return SYS_gettimeofday;
    case kVsyscallAddr + 0x400:
      return SYS_time;
    case kVsyscallAddr + 0x800:
      return SYS_getcpu;
    default:
      return -1;
  }
}

}  // namespace

bool Task::EmulateVsyscall(uint64_t fault_addr) {
  // Only a call (an instruction fetch at rip) into an entry point; a jump
  // into the middle of one, or a read of the page, is the app's error.
  if (fault_addr != regs_.rip) return false;
  const int nr = VsyscallNr(fault_addr);
  if (nr < 0) return false;
  // Like Linux's emulate_vsyscall: the return address first (a stack it
  // cannot read is SIGSEGV), then the call with the same handler as the
  // syscall. A pointer argument it cannot write is SIGSEGV too, at the
  // entry point (the `ret` is not emulated).
  auto caller = mm_->CopyInObj(mm::UserPtr<uint64_t>(regs_.rsp));
  if (!caller) {
    ForceSignal(MakeSigInfo(SIGSEGV, SI_KERNEL));
    return true;
  }
  regs_.orig_rax = nr;
  const SyscallArgs args{{regs_.rdi, regs_.rsi, regs_.rdx, 0, 0, 0}};
  const base::Result<uint64_t> result = InvokeSyscall(nr, args);
  regs_.orig_rax = ~uint64_t{0};  // nothing to restart
  if (!result && result.error() == base::Errno(EFAULT)) {
    ForceSignal(MakeSigInfo(SIGSEGV, SI_KERNEL));
    return true;
  }
  regs_.rax =
      result
          ? *result
          : static_cast<uint64_t>(-static_cast<int64_t>(result.error().value));
  regs_.rip = *caller;
  regs_.rsp += 8;
  return true;
}

}  // namespace kernel
