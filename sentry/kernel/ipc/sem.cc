// SysV semaphore sets (Linux's ipc/sem.c).
#include "sentry/kernel/ipc/sem.h"

#include <ctime>

#include "sentry/kernel/task.h"

namespace kernel::ipc {
namespace {

int64_t Now() { return time(nullptr); }

}  // namespace

struct Sem::Waiter {
  Task* task;
  const std::vector<sembuf>* ops;
  size_t blocking;  // the op that could not proceed (GETNCNT/GETZCNT)
  std::atomic<bool> woken{false};
};

base::Result<std::shared_ptr<Sem::Array>> Sem::FindLocked(
    const Credentials& creds, int id, int access) {
  auto set = TRY(sets_.Find(id));
  if (!MayAccess(creds, set->perm, access)) return base::Err(EACCES);
  return set;
}

base::Result<int> Sem::Get(const Credentials& creds, key_t key, int nsems,
                           int flag) {
  if (nsems < 0 || nsems > kSemMsl) return base::Err(EINVAL);
  absl::MutexLock lock(&mu_);
  if (key != IPC_PRIVATE) {
    if (auto set = sets_.FindKey(key)) {
      if ((flag & IPC_CREAT) && (flag & IPC_EXCL)) return base::Err(EEXIST);
      if (static_cast<size_t>(nsems) > set->sems.size())
        return base::Err(EINVAL);
      if (!MayAccess(creds, set->perm, flag)) return base::Err(EACCES);
      return set->perm.id;
    }
    if (!(flag & IPC_CREAT)) return base::Err(ENOENT);
  }
  if (nsems == 0) return base::Err(EINVAL);
  if (total_sems_ + nsems > kSemMns) return base::Err(ENOSPC);
  auto set = std::make_shared<Array>();
  set->perm = Perm::For(creds, key, flag);
  set->sems.resize(nsems);
  set->ctime = Now();
  if (!sets_.Add(set, kSemMni)) return base::Err(ENOSPC);
  total_sems_ += nsems;
  return set->perm.id;
}

int Sem::TryLocked(Array& set, int pid, const std::vector<sembuf>& ops,
                   size_t* blocking) {
  // Linux's perform_atomic_semop: on a copy, committed only if all pass.
  std::vector<int> vals(set.sems.size());
  for (size_t i = 0; i < vals.size(); i++) vals[i] = set.sems[i].val;
  auto undo_it = undo_.find({pid, set.perm.id});
  for (size_t i = 0; i < ops.size(); i++) {
    const sembuf& op = ops[i];
    int& v = vals[op.sem_num];
    if ((op.sem_op == 0 && v != 0) || v + op.sem_op < 0) {
      *blocking = i;
      return (op.sem_flg & IPC_NOWAIT) ? EAGAIN : 1;
    }
    v += op.sem_op;
    if (v > kSemVmx) return ERANGE;
    if (op.sem_flg & SEM_UNDO) {
      int adj = undo_it == undo_.end() ? 0 : undo_it->second[op.sem_num];
      adj -= op.sem_op;
      if (adj < -kSemAem - 1 || adj > kSemAem) return ERANGE;
    }
  }
  for (const sembuf& op : ops) {
    if (!(op.sem_flg & SEM_UNDO) || op.sem_op == 0) continue;
    auto& adj = undo_[{pid, set.perm.id}];
    if (adj.empty()) adj.resize(set.sems.size());
    adj[op.sem_num] -= op.sem_op;
  }
  bool changed = false;
  for (size_t i = 0; i < vals.size(); i++) {
    if (set.sems[i].val != vals[i]) changed = true;
    set.sems[i].val = vals[i];
  }
  for (const sembuf& op : ops) set.sems[op.sem_num].pid = pid;
  set.otime = Now();
  if (changed) WakeLocked(set);
  return 0;
}

void Sem::WakeLocked(Array& set) {
  for (Waiter* w : set.waiters) {
    w->woken.store(true);
    w->task->Wake();
  }
}

base::Result<void> Sem::Op(Task& t, const Credentials& creds, int pid, int id,
                           const std::vector<sembuf>& ops,
                           absl::Time deadline) {
  size_t max = 0;
  bool alter = false;
  for (const sembuf& op : ops) {
    max = std::max<size_t>(max, op.sem_num);
    if (op.sem_op != 0) alter = true;
  }
  absl::MutexLock lock(&mu_);
  auto set = TRY(sets_.Find(id));
  if (max >= set->sems.size()) return base::Err(EFBIG);
  if (!MayAccess(creds, set->perm, alter ? 0222 : 0444))
    return base::Err(EACCES);
  for (;;) {
    if (set->perm.removed) return base::Err(EIDRM);
    Waiter w{.task = &t, .ops = &ops, .blocking = 0};
    int r = TryLocked(*set, pid, ops, &w.blocking);
    if (r == 0) return {};
    if (r != 1) return base::Err(r);
    auto it = set->waiters.insert(set->waiters.end(), &w);
    mu_.Unlock();
    Task::WakeReason why = t.Block(deadline, &w.woken);
    mu_.Lock();
    set->waiters.erase(it);
    if (set->perm.removed) return base::Err(EIDRM);
    // semop is never restarted (signal(7)).
    if (why == Task::WakeReason::kInterrupted) return base::Err(EINTR);
    if (why == Task::WakeReason::kTimeout) {
      // One last try: the values may have changed just as time ran out.
      size_t unused;
      if (TryLocked(*set, pid, ops, &unused) == 0) return {};
      return base::Err(EAGAIN);
    }
  }
}

base::Result<int> Sem::Stat(const Credentials& creds, int id, bool by_index,
                            bool check, semid_ds* out) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(by_index ? sets_.AtIndex(id) : sets_.Find(id));
  if (check && !MayAccess(creds, set->perm, 0444)) return base::Err(EACCES);
  *out = {};
  set->perm.ToUser(&out->sem_perm);
  out->sem_otime = set->otime;
  out->sem_ctime = set->ctime;
  out->sem_nsems = set->sems.size();
  return set->perm.id;
}

base::Result<void> Sem::Set(const Credentials& creds, int id,
                            const semid_ds& in) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(sets_.Find(id));
  TRY(MayChange(creds, set->perm));
  SetFrom(set->perm, in.sem_perm);
  set->ctime = Now();
  return {};
}

base::Result<void> Sem::Remove(const Credentials& creds, int id) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(sets_.Find(id));
  TRY(MayChange(creds, set->perm));
  sets_.Remove(*set);
  total_sems_ -= static_cast<int>(set->sems.size());
  ClearUndoLocked(id, -1);
  WakeLocked(*set);  // they see `removed`: EIDRM
  return {};
}

base::Result<int> Sem::GetOne(const Credentials& creds, int id, int num,
                              int cmd) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(FindLocked(creds, id, 0444));
  if (num < 0 || static_cast<size_t>(num) >= set->sems.size())
    return base::Err(EINVAL);
  switch (cmd) {
    case GETVAL:
      return set->sems[num].val;
    case GETPID:
      return set->sems[num].pid;
    default: {
      // GETNCNT/GETZCNT: the waiters whose blocking op is a decrease /
      // a wait-for-zero on this semaphore (Linux's count_semcnt).
      int n = 0;
      for (const Waiter* w : set->waiters) {
        const sembuf& op = (*w->ops)[w->blocking];
        if (op.sem_num != num) continue;
        if (cmd == GETNCNT ? op.sem_op < 0 : op.sem_op == 0) n++;
      }
      return n;
    }
  }
}

base::Result<void> Sem::SetVal(const Credentials& creds, int pid, int id,
                               int num, int val) {
  if (val < 0 || val > kSemVmx) return base::Err(ERANGE);
  absl::MutexLock lock(&mu_);
  auto set = TRY(sets_.Find(id));
  if (num < 0 || static_cast<size_t>(num) >= set->sems.size())
    return base::Err(EINVAL);
  if (!MayAccess(creds, set->perm, 0222)) return base::Err(EACCES);
  set->sems[num] = {.val = val, .pid = pid};
  set->ctime = Now();
  ClearUndoLocked(id, num);
  WakeLocked(*set);
  return {};
}

base::Result<int> Sem::Size(const Credentials& creds, int id, bool write) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(FindLocked(creds, id, write ? 0222 : 0444));
  return static_cast<int>(set->sems.size());
}

base::Result<std::vector<uint16_t>> Sem::GetAll(const Credentials& creds,
                                                int id) {
  absl::MutexLock lock(&mu_);
  auto set = TRY(FindLocked(creds, id, 0444));
  std::vector<uint16_t> out;
  for (const auto& s : set->sems) out.push_back(static_cast<uint16_t>(s.val));
  return out;
}

base::Result<void> Sem::SetAll(const Credentials& creds, int pid, int id,
                               const std::vector<uint16_t>& vals) {
  for (uint16_t v : vals)
    if (v > kSemVmx) return base::Err(ERANGE);
  absl::MutexLock lock(&mu_);
  auto set = TRY(FindLocked(creds, id, 0222));
  // The set may have been replaced since Size: same id, other size.
  if (vals.size() != set->sems.size()) return base::Err(EIDRM);
  for (size_t i = 0; i < vals.size(); i++)
    set->sems[i] = {.val = vals[i], .pid = pid};
  set->ctime = Now();
  ClearUndoLocked(id, -1);
  WakeLocked(*set);
  return {};
}

int Sem::Info(bool usage, seminfo* out) {
  *out = {};
  out->semmni = kSemMni;
  out->semmns = kSemMns;
  out->semmsl = kSemMsl;
  out->semopm = kSemOpm;
  out->semvmx = kSemVmx;
  out->semmnu = kSemMni;
  out->semmap = kSemMni;
  out->semume = kSemOpm;
  out->semusz = 20;
  out->semaem = kSemAem;
  absl::MutexLock lock(&mu_);
  if (usage) {
    out->semusz = static_cast<int>(sets_.size());
    out->semaem = total_sems_;
  }
  return std::max(sets_.MaxIndex(), 0);
}

void Sem::ClearUndoLocked(int id, int num) {
  for (auto it = undo_.begin(); it != undo_.end();) {
    if (it->first.second != id) {
      ++it;
    } else if (num < 0) {
      it = undo_.erase(it);
    } else {
      it->second[num] = 0;
      ++it;
    }
  }
}

void Sem::ExitProcess(int pid) {
  absl::MutexLock lock(&mu_);
  auto it = undo_.lower_bound({pid, INT32_MIN});
  while (it != undo_.end() && it->first.first == pid) {
    // Linux's exit_sem: each value adjusted, clamped to [0, SEMVMX].
    if (auto set = sets_.Find(it->first.second)) {
      bool changed = false;
      for (size_t i = 0; i < (*set)->sems.size(); i++) {
        if (it->second[i] == 0) continue;
        auto& s = (*set)->sems[i];
        s.val = std::clamp(s.val + it->second[i], 0, kSemVmx);
        s.pid = pid;
        changed = true;
      }
      if (changed) {
        (*set)->otime = Now();
        WakeLocked(**set);
      }
    }
    it = undo_.erase(it);
  }
}

}  // namespace kernel::ipc
