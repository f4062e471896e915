// SysV shared memory: shmget(2), shmat(2), shmdt(2), shmctl(2). The
// segments live in sentry/kernel/ipc/shm.h.
#include <sys/shm.h>
#include <sys/syscall.h>

#include "sentry/kernel/ipc/shm.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

kernel::ipc::Shm& ShmOf(Task& t) { return t.ns.ipc->shm(); }

// Shmget implements Linux syscall shmget(2).
Result<int> Shmget(Task& t, key_t key, size_t size, int flag) {
  return ShmOf(t).Get(t.kernel().memory_file(), t.creds(),
                      t.thread_group().pid(), key, size, flag);
}

// Shmat implements Linux syscall shmat(2).
Result<uint64_t> Shmat(Task& t, int id, uint64_t addr, int flag) {
  return ShmOf(t).Attach(t.mm(), t.creds(),
                         t.thread_group().pid(), id, addr, flag);
}

// Shmdt implements Linux syscall shmdt(2).
Result<int> Shmdt(Task& t, uint64_t addr) {
  TRY(t.mm().Detach(addr));
  return 0;
}

// Shmctl implements Linux syscall shmctl(2).
Result<int> Shmctl(Task& t, int id, int cmd, uint64_t buf) {
  if (cmd < 0 || id < 0) return Err(EINVAL);
  kernel::ipc::Shm& shm = ShmOf(t);
  const kernel::Credentials creds = t.creds();
  switch (cmd) {
    case IPC_INFO: {
      shminfo info;
      int r = shm.Info(&info);
      TRY(t.mm().CopyOutObj(UserPtr<shminfo>(buf), info));
      return r;
    }
    case SHM_INFO: {
      shm_info info;
      int r = shm.Usage(&info);
      TRY(t.mm().CopyOutObj(UserPtr<shm_info>(buf), info));
      return r;
    }
    case IPC_STAT:
    case SHM_STAT:
    case kernel::ipc::kShmStatAny: {
      shmid_ds ds;
      int r = TRY(shm.Stat(creds, id, cmd != IPC_STAT,
                           cmd != kernel::ipc::kShmStatAny, &ds));
      TRY(t.mm().CopyOutObj(UserPtr<shmid_ds>(buf), ds));
      return cmd == IPC_STAT ? 0 : r;
    }
    case IPC_SET: {
      shmid_ds ds = TRY(t.mm().CopyInObj(UserPtr<shmid_ds>(buf)));
      TRY(shm.Set(creds, id, ds));
      return 0;
    }
    case IPC_RMID:
      TRY(shm.Remove(creds, id));
      return 0;
    case SHM_LOCK:
    case SHM_UNLOCK:
      TRY(shm.Lock(creds, id, cmd == SHM_LOCK));
      return 0;
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterShm(Registrar& r) {
  r.Full<&Shmget>(SYS_shmget)
      .Full<&Shmat>(SYS_shmat)
      .Show(SYS_shmat, 1, ArgKind::kHex)
      .Full<&Shmdt>(SYS_shmdt)
      .Show(SYS_shmdt, 0, ArgKind::kHex)
      .Partial<&Shmctl>(SYS_shmctl,
                        "IPC_STAT, SHM_STAT(_ANY), IPC_SET, IPC_RMID, "
                        "IPC_INFO, SHM_INFO; SHM_LOCK/SHM_UNLOCK only set "
                        "the flag; limits are Linux's defaults, fixed "
                        "(/proc/sys/kernel/shm* shows them, read-only)")
      .Show(SYS_shmctl, 2, ArgKind::kHex);
}

}  // namespace syscalls
