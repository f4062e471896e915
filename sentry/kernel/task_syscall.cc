// Syscall dispatch: look the number up in the kernel's table, call the
// handler, put the result in rax.
#include <signal.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/task.h"

namespace kernel {

void Task::HandleSyscall() {
  const SyscallArgs args{{regs_.rdi, regs_.rsi, regs_.rdx, regs_.r10,
                          regs_.r8, regs_.r9}};
  const base::Result<uint64_t> result = InvokeSyscall(regs_.orig_rax, args);
  if (!result) {
    // Restart codes stay in rax until signal delivery (RestartSyscall)
    // turns them into EINTR or a restart, before the app runs again.
    int e = result.error().value;
    regs_.rax = static_cast<uint64_t>(-static_cast<int64_t>(e));
  } else {
    regs_.rax = *result;
  }
}

base::Result<uint64_t> Task::InvokeSyscall(uint64_t nr,
                                           const SyscallArgs& args) {
  const SyscallEntry* entry = kernel_.syscalls().Lookup(nr);
  const bool strace = kernel_.strace();
  StraceCall call;
  if (strace) call = StraceEnter(*this, nr, entry, args);

  base::Result<uint64_t> result = base::Err(ENOSYS);
  if (entry && entry->handler) {
    result = entry->handler(*this, args);
  } else if (entry && entry->support == Support::kError) {
    result = base::Err(entry->error);
  } else {
    kernel_.NoteUnimplemented(nr, entry ? entry->name : nullptr);
  }
  if (strace) StraceExit(*this, std::move(call), entry, args, result);
  return result;
}

// Linux's syscall restart at signal delivery (arch/x86/kernel/signal.c):
// with a handler `act` about to run, ERESTARTSYS becomes EINTR unless
// SA_RESTART, ERESTARTNOHAND and ERESTART_RESTARTBLOCK become EINTR, and
// ERESTARTNOINTR restarts; with no handler (null) every code restarts,
// ERESTART_RESTARTBLOCK through restart_syscall(2). A restart backs rip up
// over the 2-byte `syscall` instruction. Only the first delivery after a
// syscall sees it: orig_rax = -1 afterwards.
void Task::RestartSyscall(const KernelSigaction* act) {
  if (regs_.orig_rax == ~uint64_t{0}) return;
  const int64_t ret = static_cast<int64_t>(regs_.rax);
  // Fails with EINTR, or goes back over `syscall` to run `nr`.
  auto eintr_or_restart = [&](bool eintr, uint64_t nr) {
    if (eintr) {
      regs_.rax = static_cast<uint64_t>(-int64_t{EINTR});
    } else {
      regs_.rax = nr;
      regs_.rip -= 2;
    }
  };
  switch (-ret) {
    case base::kERESTART_RESTARTBLOCK:
      eintr_or_restart(act != nullptr, SYS_restart_syscall);
      break;
    case base::kERESTARTNOHAND:
      eintr_or_restart(act != nullptr, regs_.orig_rax);
      break;
    case base::kERESTARTSYS:
      eintr_or_restart(act && !(act->flags & SA_RESTART), regs_.orig_rax);
      break;
    case base::kERESTARTNOINTR:
      eintr_or_restart(false, regs_.orig_rax);
      break;
    default:
      break;
  }
  regs_.orig_rax = ~uint64_t{0};
}

}  // namespace kernel
