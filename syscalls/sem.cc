// SysV semaphores: semget(2), semop(2), semtimedop(2), semctl(2). The sets
// live in sentry/kernel/ipc/sem.h.
#include <sys/sem.h>
#include <sys/syscall.h>

#include <vector>

#include "sentry/kernel/ipc/sem.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::ipc::Sem;

Sem& SemOf(Task& t) { return t.ns.ipc->sem(); }

// Semget implements Linux syscall semget(2).
Result<int> Semget(Task& t, key_t key, int nsems, int flag) {
  return SemOf(t).Get(t.creds(), key, nsems, flag);
}

// Linux's do_semtimedop: the argument checks, then the set.
Result<int> DoSemop(Task& t, int id, uint64_t sops, uint64_t nsops,
                    uint64_t timeout) {
  if (nsops < 1 || id < 0) return Err(EINVAL);
  if (nsops > kernel::ipc::kSemOpm) return Err(E2BIG);
  std::vector<sembuf> ops(nsops);
  TRY(t.mm().CopyIn(sops, ops.data(), nsops * sizeof(sembuf)));
  absl::Time deadline = absl::InfiniteFuture();
  if (timeout != 0) {
    timespec ts = TRY(t.mm().CopyInObj(UserPtr<timespec>(timeout)));
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
      return Err(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimespec(ts);
  }
  TRY(SemOf(t).Op(t, t.creds(), t.thread_group().pid(), id,
                  ops, deadline));
  return 0;
}

// Semop implements Linux syscall semop(2).
Result<int> Semop(Task& t, int id, uint64_t sops, uint64_t nsops) {
  return DoSemop(t, id, sops, nsops, 0);
}

// Semtimedop implements Linux syscall semtimedop(2).
Result<int> Semtimedop(Task& t, int id, uint64_t sops, uint64_t nsops,
                       uint64_t timeout) {
  return DoSemop(t, id, sops, nsops, timeout);
}

// Semctl implements Linux syscall semctl(2).
Result<int> Semctl(Task& t, int id, int num, int cmd, uint64_t arg) {
  if (id < 0) return Err(EINVAL);
  Sem& sem = SemOf(t);
  const kernel::Credentials creds = t.creds();
  const int pid = t.thread_group().pid();
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      seminfo info;
      int r = sem.Info(cmd == SEM_INFO, &info);
      TRY(t.mm().CopyOutObj(UserPtr<seminfo>(arg), info));
      return r;
    }
    case IPC_STAT:
    case SEM_STAT:
    case kernel::ipc::kSemStatAny: {
      semid_ds ds;
      int r = TRY(sem.Stat(creds, id, cmd != IPC_STAT,
                           cmd != kernel::ipc::kSemStatAny, &ds));
      TRY(t.mm().CopyOutObj(UserPtr<semid_ds>(arg), ds));
      return cmd == IPC_STAT ? 0 : r;
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
      return sem.GetOne(creds, id, num, cmd);
    case SETVAL:
      // The union semun travels by value: its int is the low 32 bits.
      TRY(sem.SetVal(creds, pid, id, num, static_cast<int>(arg)));
      return 0;
    case GETALL: {
      std::vector<uint16_t> vals = TRY(sem.GetAll(creds, id));
      TRY(t.mm().CopyOut(arg, vals.data(), vals.size() * sizeof(uint16_t)));
      return 0;
    }
    case SETALL: {
      const int n = TRY(sem.Size(creds, id, /*write=*/true));
      std::vector<uint16_t> vals(n);
      TRY(t.mm().CopyIn(arg, vals.data(), vals.size() * sizeof(uint16_t)));
      TRY(sem.SetAll(creds, pid, id, vals));
      return 0;
    }
    case IPC_SET: {
      semid_ds ds = TRY(t.mm().CopyInObj(UserPtr<semid_ds>(arg)));
      TRY(sem.Set(creds, id, ds));
      return 0;
    }
    case IPC_RMID:
      TRY(sem.Remove(creds, id));
      return 0;
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterSem(Registrar& r) {
  r.Full<&Semget>(SYS_semget)
      .Partial<&Semop>(SYS_semop,
                       "atomic, blocking, IPC_NOWAIT, SEM_UNDO at exit; a "
                       "woken sleeper retries (no FIFO fairness)")
      .Show(SYS_semop, 1, ArgKind::kHex)
      .Partial<&Semtimedop>(SYS_semtimedop, "as semop")
      .Show(SYS_semtimedop, 1, ArgKind::kHex)
      .Show(SYS_semtimedop, 3, ArgKind::kHex)
      .Partial<&Semctl>(SYS_semctl,
                        "all commands; limits are Linux's defaults, fixed "
                        "(/proc/sys/kernel/sem shows them, read-only)")
      .Show(SYS_semctl, 3, ArgKind::kHex);
}

}  // namespace syscalls
