// SysV semaphores (semget, semop, semtimedop, semctl): Linux's ipc/sem.c.
//
// Each set's values change under Sem::mu_. semop applies all of its
// operations or none; one that cannot proceed sleeps in Task::Block on a
// waiter of the set, and every change to the set's values wakes all its
// waiters, which try again (Linux performs sleepers' operations for them;
// here a sleeper may lose to a newcomer: no starvation guarantee).
// SEM_UNDO adjustments are kept per process (pid) and applied at its exit.
//
// Lock order: Sem::mu_ -> Task::mu_ (Task::Wake).
#ifndef SENTRY_KERNEL_IPC_SEM_H_
#define SENTRY_KERNEL_IPC_SEM_H_

#include <sys/sem.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/ipc/perm.h"

namespace kernel {
class Task;
}

namespace kernel::ipc {

// Linux's defaults (include/uapi/linux/sem.h).
inline constexpr int kSemMsl = 32000;  // semaphores per set
inline constexpr int kSemMni = 32000;  // sets
inline constexpr int kSemMns = kSemMsl * kSemMni;
inline constexpr int kSemOpm = 500;  // operations per semop
inline constexpr int kSemVmx = 32767;
inline constexpr int kSemAem = kSemVmx;
inline constexpr int kSemStatAny = 20;  // SEM_STAT_ANY, Linux 4.17

class Sem {
 public:
  struct Waiter;
  struct Array {
    Perm perm;
    struct One {
      int val = 0;
      int pid = 0;  // the last process that changed it (GETPID)
    };
    std::vector<One> sems;
    int64_t otime = 0, ctime = 0;
    std::list<Waiter*> waiters;  // tasks blocked in semop
  };

  // semget(2).
  base::Result<int> Get(const Credentials& creds, key_t key, int nsems,
                        int flag);
  // semop(2)/semtimedop(2) for task `t` of process `pid`: the operations
  // are checked by the caller (count, nothing else).
  base::Result<void> Op(Task& t, const Credentials& creds, int pid, int id,
                        const std::vector<sembuf>& ops, absl::Time deadline);

  // semctl(2): the handler copies in and out.
  base::Result<int> Stat(const Credentials& creds, int id, bool by_index,
                         bool check, semid_ds* out);
  base::Result<void> Set(const Credentials& creds, int id,
                         const semid_ds& in);
  base::Result<void> Remove(const Credentials& creds, int id);
  // GETVAL, GETPID, GETNCNT, GETZCNT.
  base::Result<int> GetOne(const Credentials& creds, int id, int num, int cmd);
  base::Result<void> SetVal(const Credentials& creds, int pid, int id, int num,
                            int val);
  // The number of semaphores in the set, if `creds` may read (GETALL) or
  // write (SETALL) it.
  base::Result<int> Size(const Credentials& creds, int id, bool write);
  base::Result<std::vector<uint16_t>> GetAll(const Credentials& creds, int id);
  base::Result<void> SetAll(const Credentials& creds, int pid, int id,
                            const std::vector<uint16_t>& vals);
  // IPC_INFO (`usage` false) and SEM_INFO: the highest index in use.
  int Info(bool usage, seminfo* out);

  // The process `pid` has ended: its SEM_UNDO adjustments are applied.
  void ExitProcess(int pid);

 private:
  // Tries the whole of `ops` on `set`: 0 done, 1 must wait (`*blocking`
  // is the op), or an error (EAGAIN for IPC_NOWAIT, ERANGE).
  int TryLocked(Array& set, int pid, const std::vector<sembuf>& ops,
                size_t* blocking) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes everyone waiting on `set`: its values changed, or it is gone.
  void WakeLocked(Array& set) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets every process's adjustment of semaphore `num` of set `id`
  // (-1: all of them): SETVAL, SETALL, IPC_RMID.
  void ClearUndoLocked(int id, int num) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  base::Result<std::shared_ptr<Array>> FindLocked(const Credentials& creds,
                                                int id, int access)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Registry<Array> sets_ ABSL_GUARDED_BY(mu_);
  int total_sems_ ABSL_GUARDED_BY(mu_) = 0;
  // SEM_UNDO: (pid, set id) -> an adjustment per semaphore.
  std::map<std::pair<int, int>, std::vector<int>> undo_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel::ipc

#endif  // SENTRY_KERNEL_IPC_SEM_H_
