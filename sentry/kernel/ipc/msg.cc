// SysV message queues (Linux's ipc/msg.c).
#include "sentry/kernel/ipc/msg.h"

#include <climits>
#include <ctime>

#include "sentry/kernel/task.h"

namespace kernel::ipc {
namespace {

constexpr int kCapSysResource = 24;

int64_t Now() { return time(nullptr); }

// Linux's testmsg: whether a message of type `type` is what msgrcv's
// `want` (with `mode` from convert_mode) asks for.
enum class Mode { kAny, kEqual, kNotEqual, kLessEqual };
bool Matches(long type, long want, Mode mode) {
  switch (mode) {
    case Mode::kAny:
      return true;
    case Mode::kEqual:
      return type == want;
    case Mode::kNotEqual:
      return type != want;
    case Mode::kLessEqual:
      return type <= want;
  }
  return false;
}

}  // namespace

base::Result<int> Msg::Get(const Credentials& creds, key_t key, int flag) {
  absl::MutexLock lock(&mu_);
  if (key != IPC_PRIVATE) {
    if (auto q = queues_.FindKey(key)) {
      if ((flag & IPC_CREAT) && (flag & IPC_EXCL)) return base::Err(EEXIST);
      if (!MayAccess(creds, q->perm, flag)) return base::Err(EACCES);
      return q->perm.id;
    }
    if (!(flag & IPC_CREAT)) return base::Err(ENOENT);
  }
  auto q = std::make_shared<Queue>();
  q->perm = Perm::For(creds, key, flag);
  q->ctime = Now();
  if (!queues_.Add(q, kMsgMni)) return base::Err(ENOSPC);
  return q->perm.id;
}

void Msg::WakeLocked(Queue& q) {
  for (Waiter* w : q.waiters) {
    w->woken.store(true);
    w->task->Wake();
  }
}

int Msg::WaitLocked(Task& t, Queue& q) {
  Waiter w{.task = &t};
  auto it = q.waiters.insert(q.waiters.end(), &w);
  mu_.Unlock();
  Task::WakeReason why = t.Block(absl::InfiniteFuture(), &w.woken);
  mu_.Lock();
  q.waiters.erase(it);
  if (q.perm.removed) return EIDRM;
  // Linux: restarted only when no handler runs.
  if (why == Task::WakeReason::kInterrupted) return base::kERESTARTNOHAND;
  return 0;
}

base::Result<void> Msg::Send(Task& t, const Credentials& creds, int pid,
                             int id, Message msg, int flag) {
  absl::MutexLock lock(&mu_);
  auto q = TRY(queues_.Find(id));
  if (!MayAccess(creds, q->perm, 0222)) return base::Err(EACCES);
  const uint64_t len = msg.data.size();
  // Linux's msg_fits_inqueue: bytes, and as many messages as bytes.
  while (len + q->bytes > q->max_bytes ||
         q->messages.size() + 1 > q->max_bytes) {
    if (flag & IPC_NOWAIT) return base::Err(EAGAIN);
    if (int e = WaitLocked(t, *q)) return base::Err(e);
  }
  q->bytes += len;
  q->messages.push_back(std::move(msg));
  q->lspid = pid;
  q->stime = Now();
  WakeLocked(*q);
  return {};
}

base::Result<Msg::Message> Msg::Receive(Task& t, const Credentials& creds,
                                        int pid, int id, uint64_t max,
                                        long type, int flag) {
  const bool copy = flag & kMsgCopy;
  if (copy && (!(flag & IPC_NOWAIT) || (flag & MSG_EXCEPT)))
    return base::Err(EINVAL);
  Mode mode = Mode::kAny;
  if (copy) {
    mode = Mode::kAny;  // `type` is an index
  } else if (type < 0) {
    mode = Mode::kLessEqual;
    type = type == LONG_MIN ? LONG_MAX : -type;
  } else if (type > 0) {
    mode = (flag & MSG_EXCEPT) ? Mode::kNotEqual : Mode::kEqual;
  }
  absl::MutexLock lock(&mu_);
  auto q = TRY(queues_.Find(id));
  if (!MayAccess(creds, q->perm, 0444)) return base::Err(EACCES);
  for (;;) {
    auto found = q->messages.end();
    if (copy) {
      if (type >= 0 && static_cast<uint64_t>(type) < q->messages.size())
        found = q->messages.begin() + type;
    } else {
      for (auto it = q->messages.begin(); it != q->messages.end(); ++it) {
        if (!Matches(it->type, type, mode)) continue;
        if (mode != Mode::kLessEqual) {
          found = it;
          break;
        }
        // The lowest type at most |msgtyp|, the first of those.
        if (found == q->messages.end() || it->type < found->type) found = it;
      }
    }
    if (found != q->messages.end()) {
      if (found->data.size() > max && !(flag & MSG_NOERROR))
        return base::Err(E2BIG);
      Message msg = copy ? *found : std::move(*found);
      if (!copy) {
        q->bytes -= msg.data.size();
        q->messages.erase(found);
        q->lrpid = pid;
        q->rtime = Now();
        WakeLocked(*q);  // room for senders
      }
      if (msg.data.size() > max) msg.data.resize(max);
      return msg;
    }
    if (flag & IPC_NOWAIT) return base::Err(ENOMSG);
    if (int e = WaitLocked(t, *q)) return base::Err(e);
  }
}

base::Result<int> Msg::Stat(const Credentials& creds, int id, bool by_index,
                            bool check, msqid_ds* out) {
  absl::MutexLock lock(&mu_);
  auto q = TRY(by_index ? queues_.AtIndex(id) : queues_.Find(id));
  if (check && !MayAccess(creds, q->perm, 0444)) return base::Err(EACCES);
  *out = {};
  q->perm.ToUser(&out->msg_perm);
  out->msg_stime = q->stime;
  out->msg_rtime = q->rtime;
  out->msg_ctime = q->ctime;
  out->__msg_cbytes = q->bytes;
  out->msg_qnum = q->messages.size();
  out->msg_qbytes = q->max_bytes;
  out->msg_lspid = q->lspid;
  out->msg_lrpid = q->lrpid;
  return q->perm.id;
}

base::Result<void> Msg::Set(const Credentials& creds, int id,
                            const msqid_ds& in) {
  absl::MutexLock lock(&mu_);
  auto q = TRY(queues_.Find(id));
  TRY(MayChange(creds, q->perm));
  if (in.msg_qbytes > kMsgMnb && !creds.HasCap(kCapSysResource))
    return base::Err(EPERM);
  SetFrom(q->perm, in.msg_perm);
  q->max_bytes = in.msg_qbytes;
  q->ctime = Now();
  WakeLocked(*q);  // senders may fit now
  return {};
}

base::Result<void> Msg::Remove(const Credentials& creds, int id) {
  absl::MutexLock lock(&mu_);
  auto q = TRY(queues_.Find(id));
  TRY(MayChange(creds, q->perm));
  queues_.Remove(*q);
  WakeLocked(*q);  // they see `removed`: EIDRM
  return {};
}

int Msg::Info(bool usage, msginfo* out) {
  *out = {};
  out->msgmax = kMsgMax;
  out->msgmnb = kMsgMnb;
  out->msgmni = kMsgMni;
  out->msgssz = 16;
  out->msgseg = 0xffff;
  out->msgpool = kMsgMni * kMsgMnb / 1024;
  out->msgmap = kMsgMnb;
  out->msgtql = kMsgMnb;
  absl::MutexLock lock(&mu_);
  if (usage) {
    int64_t messages = 0, bytes = 0;
    for (const auto& [index, q] : queues_.objects()) {
      messages += q->messages.size();
      bytes += q->bytes;
    }
    out->msgpool = static_cast<int>(queues_.size());
    out->msgmap = static_cast<int>(messages);
    out->msgtql = static_cast<int>(bytes);
  }
  return std::max(queues_.MaxIndex(), 0);
}

}  // namespace kernel::ipc
