// prctl(2): the per-process switches programs commonly flip.
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstring>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr size_t kNameLen = 16;  // TASK_COMM_LEN, with the NUL

// Prctl implements Linux syscall prctl(2).
Result<int> Prctl(Task& t, int option, uint64_t arg2, uint64_t arg3,
                  uint64_t arg4, uint64_t arg5) {
  switch (option) {
    case PR_SET_NAME: {
      char name[kNameLen] = {};
      // The name may end before 16 bytes at an unreadable page: read up
      // to the NUL only.
      auto s = t.mm().CopyInString(arg2, kNameLen - 1);
      if (s) {
        t.name = *s;
      } else if (s.error().value == ENAMETOOLONG) {
        TRY(t.mm().CopyIn(arg2, name, kNameLen - 1));
        t.name.assign(name, kNameLen - 1);
      } else {
        return std::unexpected(s.error());
      }
      return 0;
    }
    case PR_GET_NAME: {
      char name[kNameLen] = {};
      memcpy(name, t.name.data(), std::min(t.name.size(), kNameLen - 1));
      TRY(t.mm().CopyOut(arg2, name, kNameLen));
      return 0;
    }
    case PR_SET_PDEATHSIG:
      // Per thread; sent when the parent thread exits (task_exit.cc).
      if (arg2 > kernel::kNumSignals) return Err(EINVAL);
      t.pdeath_signal.store(static_cast<int>(arg2), std::memory_order_relaxed);
      return 0;
    case PR_GET_PDEATHSIG:
      TRY(t.mm().CopyOutObj(UserPtr<int>(arg2), t.pdeath_signal.load(
                                                    std::memory_order_relaxed)));
      return 0;
    case PR_SET_DUMPABLE:
      if (arg2 > 1) return Err(EINVAL);  // 2 (SUID_DUMP_ROOT) is refused too
      t.thread_group().set_dumpable(static_cast<int>(arg2));
      return 0;
    case PR_GET_DUMPABLE:
      return t.thread_group().dumpable();
    case PR_SET_NO_NEW_PRIVS:
      if (arg2 != 1 || arg3 || arg4 || arg5) return Err(EINVAL);
      t.no_new_privs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      if (arg2 || arg3 || arg4 || arg5) return Err(EINVAL);
      return t.no_new_privs ? 1 : 0;
    case PR_SET_CHILD_SUBREAPER:
      // Orphans below this process come here (ProcessTree::Exited).
      t.kernel().processes().SetChildSubreaper(t.thread_group().pid(),
                                               arg2 != 0);
      return 0;
    case PR_GET_CHILD_SUBREAPER: {
      const int on =
          t.kernel().processes().ChildSubreaper(t.thread_group().pid());
      TRY(t.mm().CopyOutObj(UserPtr<int>(arg2), on));
      return 0;
    }
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterPrctl(Registrar& r) {
  r.Partial<&Prctl>(SYS_prctl,
                    "NAME, PDEATHSIG, DUMPABLE, "
                    "NO_NEW_PRIVS, CHILD_SUBREAPER; others EINVAL");
}

}  // namespace syscalls
