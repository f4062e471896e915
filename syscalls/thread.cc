// Per-thread state: arch_prctl(2), set_tid_address(2), set_robust_list(2),
// get_robust_list(2), rseq(2).
#include <asm/prctl.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// ArchPrctl implements Linux syscall arch_prctl(2).
Result<void> ArchPrctl(Task& t, int code, uint64_t addr) {
  platform::Registers& regs = t.regs();
  switch (code) {
    case ARCH_SET_FS:
      if (addr >= mm::kTaskSizeMax) return Err(EPERM);
      regs.fs_base = addr;
      return {};
    case ARCH_SET_GS:
      if (addr >= mm::kTaskSizeMax) return Err(EPERM);
      regs.gs_base = addr;
      return {};
    case ARCH_GET_FS:
      return t.mm().CopyOutObj(UserPtr<uint64_t>(addr),
                               static_cast<uint64_t>(regs.fs_base));
    case ARCH_GET_GS:
      return t.mm().CopyOutObj(UserPtr<uint64_t>(addr),
                               static_cast<uint64_t>(regs.gs_base));
    default:
      return Err(EINVAL);
  }
}

// SetTidAddress implements Linux syscall set_tid_address(2).
Result<int> SetTidAddress(Task& t, uint64_t tidptr) {
  t.clear_child_tid = tidptr;
  return t.tid();
}

// The size of struct robust_list_head, the only length Linux accepts.
constexpr size_t kRobustListHeadSize = 24;

// SetRobustList implements Linux syscall set_robust_list(2).
Result<void> SetRobustList(Task& t, uint64_t head, size_t len) {
  if (len != kRobustListHeadSize) return Err(EINVAL);
  t.robust_list_head = head;
  t.robust_list_len = len;
  return {};
}

// GetRobustList implements Linux syscall get_robust_list(2).
Result<void> GetRobustList(Task& t, int pid, UserPtr<uint64_t> head,
                           UserPtr<uint64_t> len) {
  uint64_t list = 0;
  if (pid == 0 || pid == t.tid()) {
    list = t.robust_list_head.load();
  } else {
    // Any task of the sandbox, with ptrace's read permission (Linux).
    const kernel::Credentials me = t.creds();
    Result<uint64_t> r = Err(ESRCH);
    t.kernel().WithTask(
        pid,
        [&](Task& target) {
          kernel::ThreadGroup& tg = target.thread_group();
          // A task that has exited has no list, and no memory whose
          // dumpable flag would count.
          const bool gone = target.finished;
          if (&tg != &t.thread_group() &&
              !kernel::PtraceMayRead(me, target.creds(),
                                     gone || tg.dumpable() == 1)) {
            r = Err(EPERM);
            return;
          }
          r = gone ? 0 : target.robust_list_head.load();
        },
        /*exited_leaders=*/true);
    list = TRY(r);
  }
  TRY(t.mm().CopyOutObj(len, uint64_t{kRobustListHeadSize}));
  return t.mm().CopyOutObj(head, list);
}

}  // namespace

void RegisterThread(Registrar& r) {
  r.Partial<&ArchPrctl>(SYS_arch_prctl,
                        "ARCH_SET_FS, ARCH_GET_FS, ARCH_SET_GS, ARCH_GET_GS; "
                        "no CPUID faulting");
  // Both lists are acted on at thread exit and execve
  // (kernel::ReleaseThreadFutexes).
  r.Full<&SetTidAddress>(SYS_set_tid_address);
  r.Full<&SetRobustList>(SYS_set_robust_list);
  r.Full<&GetRobustList>(SYS_get_robust_list);
  // glibc registers rseq when the kernel has it and works without it.
  r.Error(SYS_rseq, ENOSYS, "restartable sequences are not supported");
}

}  // namespace syscalls
