// Syscall dispatch: look the number up in the kernel's table, call the
// handler, put the result in rax.
#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/strace.h"
#include "sentry/kernel/task.h"

namespace kernel {

void Task::HandleSyscall() {
  const uint64_t nr = regs_.orig_rax;
  const SyscallArgs args{{regs_.rdi, regs_.rsi, regs_.rdx, regs_.r10,
                          regs_.r8, regs_.r9}};
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

  if (!result) {
    int e = result.error().value;
    // Restart codes need signal delivery (next issue) to mean anything;
    // until then an interrupted call simply reports EINTR.
    if (e >= base::kERESTARTSYS && e <= base::kERESTART_RESTARTBLOCK) {
      e = EINTR;
      result = base::Err(e);
    }
    regs_.rax = static_cast<uint64_t>(-static_cast<int64_t>(e));
  } else {
    regs_.rax = *result;
  }
  if (strace) StraceExit(*this, std::move(call), entry, args, result);
}

}  // namespace kernel
