// prctl(2): the per-process switches programs commonly flip.
#include <linux/capability.h>
#include <linux/securebits.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cstring>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr size_t kNameLen = 16;  // TASK_COMM_LEN, with the NUL

// Linux's validate_prctl_map_addr: every address in user space above
// mmap_min_addr, the pairs in order, the data within RLIMIT_DATA.
Result<void> ValidateMmMap(Task& t, const prctl_mm_map& m) {
  for (uint64_t a : {m.start_code, m.end_code, m.start_data, m.end_data,
                     m.start_brk, m.brk, m.start_stack, m.arg_start, m.arg_end,
                     m.env_start, m.env_end}) {
    if (a >= mm::kTaskSizeMax || a < mm::kMinUserAddress) return Err(EINVAL);
  }
  if (!(m.start_code < m.end_code) || !(m.start_data <= m.end_data) ||
      !(m.start_brk <= m.brk) || !(m.arg_start <= m.arg_end) ||
      !(m.env_start <= m.env_end))
    return Err(EINVAL);
  const rlim_t data = t.thread_group().GetRlimit(RLIMIT_DATA).rlim_cur;
  // Ordered above, so neither difference wraps; both are below 2^47.
  if (data != RLIM_INFINITY &&
      (m.brk - m.start_brk) + (m.end_data - m.start_data) > data)
    return Err(EINVAL);
  return {};
}

// prctl(PR_SET_MM, opt, addr, arg4, arg5), Linux's prctl_set_mm: its
// checks in its order. The memory manager records none of the layout
// these options would change (brk aside, nothing reads it yet: no
// /proc/<pid>/stat or cmdline), so a request that passes them is refused
// with EINVAL, as gVisor does; PR_SET_MM_MAP_SIZE alone is served.
Result<int> SetMm(Task& t, uint64_t opt_arg, uint64_t addr, uint64_t arg4,
                  uint64_t arg5) {
  const int opt = static_cast<int>(opt_arg);  // Linux takes an int
  if (arg5 || (arg4 && opt != PR_SET_MM_AUXV && opt != PR_SET_MM_MAP &&
               opt != PR_SET_MM_MAP_SIZE))
    return Err(EINVAL);
  // Checkpoint/restore's two need no privilege (PR_SET_MM_MAP's exe_fd
  // would need CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE).
  if (opt == PR_SET_MM_MAP_SIZE) {
    TRY(t.mm().CopyOutObj(UserPtr<uint32_t>(addr),
                          static_cast<uint32_t>(sizeof(prctl_mm_map))));
    return 0;
  }
  if (opt == PR_SET_MM_MAP) {
    if (arg4 != sizeof(prctl_mm_map)) return Err(EINVAL);
    const prctl_mm_map map = TRY(t.mm().CopyInObj(UserPtr<prctl_mm_map>(addr)));
    TRY(ValidateMmMap(t, map));
    return Err(EINVAL);  // TODO: record the layout (CRIU's restore)
  }
  if (!t.creds().HasCap(CAP_SYS_RESOURCE)) return Err(EPERM);
  // Linux's EINVAL for an address out of range or an unknown option; a
  // refusal for the rest (EXE_FILE, AUXV, the address options).
  return Err(EINVAL);
}

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
        t.set_comm(*s);
      } else if (s.error().value == ENAMETOOLONG) {
        TRY(t.mm().CopyIn(arg2, name, kNameLen - 1));
        t.set_comm(std::string_view(name, kNameLen - 1));
      } else {
        return std::unexpected(s.error());
      }
      return 0;
    }
    case PR_GET_NAME: {
      char name[kNameLen] = {};
      const std::string comm = t.comm();
      memcpy(name, comm.data(), std::min(comm.size(), kNameLen - 1));
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
    case PR_SET_PTRACER: {
      // Yama: a process that may attach to this one besides its
      // ancestors (0: none; PR_SET_PTRACER_ANY: any).
      const int pid = static_cast<int>(arg2);
      if (arg2 == static_cast<uint64_t>(PR_SET_PTRACER_ANY)) {
        t.thread_group().ptracer.store(-1);
        return 0;
      }
      if (pid != 0 && !t.kernel().processes().FindByTid(pid)) return Err(EINVAL);
      t.thread_group().ptracer.store(pid);
      return 0;
    }
    case PR_GET_DUMPABLE:
      return t.thread_group().dumpable();
    case PR_SET_KEEPCAPS: {
      // Linux's cap_task_prctl: a boolean, refused once locked.
      if (arg2 > 1) return Err(EINVAL);
      kernel::Credentials c = t.creds();
      if (c.securebits & SECBIT_KEEP_CAPS_LOCKED) return Err(EPERM);
      if (arg2) {
        c.securebits |= SECBIT_KEEP_CAPS;
      } else {
        c.securebits &= ~SECBIT_KEEP_CAPS;
      }
      t.set_creds(std::move(c));
      return 0;
    }
    case PR_GET_KEEPCAPS:
      return (t.creds().securebits & SECBIT_KEEP_CAPS) ? 1 : 0;
    case PR_GET_SECUREBITS:
      return static_cast<int>(t.creds().securebits);
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
    case PR_SET_MM:
      return SetMm(t, arg2, arg3, arg4, arg5);
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterPrctl(Registrar& r) {
  r.Partial<&Prctl>(SYS_prctl,
                    "NAME, PDEATHSIG, DUMPABLE, NO_NEW_PRIVS, "
                    "CHILD_SUBREAPER; PR_SET_MM checks its arguments as "
                    "Linux (EINVAL, EPERM, EFAULT) but changes nothing: "
                    "EINVAL (MAP_SIZE works); others EINVAL");
}

}  // namespace syscalls
