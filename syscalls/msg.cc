// SysV message queues: msgget(2), msgsnd(2), msgrcv(2), msgctl(2). The
// queues live in sentry/kernel/ipc/msg.h.
#include <sys/msg.h>
#include <sys/syscall.h>

#include "sentry/kernel/ipc/msg.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::ipc::Msg;

Msg& MsgOf(Task& t) { return t.ns.ipc->msg(); }

// Msgget implements Linux syscall msgget(2).
Result<int> Msgget(Task& t, key_t key, int flag) {
  return MsgOf(t).Get(t.creds(), key, flag);
}

// Msgsnd implements Linux syscall msgsnd(2).
Result<int> Msgsnd(Task& t, int id, uint64_t msgp, uint64_t size, int flag) {
  // Linux's ksys_msgsnd/do_msgsnd order: the type, the size, the text.
  long type = TRY(t.mm().CopyInObj(UserPtr<long>(msgp)));
  if (size > kernel::ipc::kMsgMax || id < 0) return Err(EINVAL);
  if (type < 1) return Err(EINVAL);
  Msg::Message msg{.type = type, .data = std::vector<uint8_t>(size)};
  TRY(t.mm().CopyIn(msgp + sizeof(long), msg.data.data(), size));
  TRY(MsgOf(t).Send(t, t.creds(), t.thread_group().pid(), id,
                    std::move(msg), flag));
  return 0;
}

// Msgrcv implements Linux syscall msgrcv(2).
Result<int64_t> Msgrcv(Task& t, int id, uint64_t msgp, uint64_t size,
                       long type, int flag) {
  if (id < 0 || static_cast<int64_t>(size) < 0) return Err(EINVAL);
  Msg::Message msg =
      TRY(MsgOf(t).Receive(t, t.creds(),
                           t.thread_group().pid(), id, size, type, flag));
  // The message is taken: a bad buffer loses it, as on Linux.
  TRY(t.mm().CopyOutObj(UserPtr<long>(msgp), msg.type));
  TRY(t.mm().CopyOut(msgp + sizeof(long), msg.data.data(), msg.data.size()));
  return static_cast<int64_t>(msg.data.size());
}

// Msgctl implements Linux syscall msgctl(2).
Result<int> Msgctl(Task& t, int id, int cmd, uint64_t buf) {
  if (cmd < 0 || id < 0) return Err(EINVAL);
  Msg& msg = MsgOf(t);
  const kernel::Credentials creds = t.creds();
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      msginfo info;
      int r = msg.Info(cmd == MSG_INFO, &info);
      TRY(t.mm().CopyOutObj(UserPtr<msginfo>(buf), info));
      return r;
    }
    case IPC_STAT:
    case MSG_STAT:
    case kernel::ipc::kMsgStatAny: {
      msqid_ds ds;
      int r = TRY(msg.Stat(creds, id, cmd != IPC_STAT,
                           cmd != kernel::ipc::kMsgStatAny, &ds));
      TRY(t.mm().CopyOutObj(UserPtr<msqid_ds>(buf), ds));
      return cmd == IPC_STAT ? 0 : r;
    }
    case IPC_SET: {
      msqid_ds ds = TRY(t.mm().CopyInObj(UserPtr<msqid_ds>(buf)));
      TRY(msg.Set(creds, id, ds));
      return 0;
    }
    case IPC_RMID:
      TRY(msg.Remove(creds, id));
      return 0;
    default:
      return Err(EINVAL);
  }
}

}  // namespace

void RegisterMsg(Registrar& r) {
  r.Full<&Msgget>(SYS_msgget)
      .Partial<&Msgsnd>(SYS_msgsnd,
                        "blocking and IPC_NOWAIT; woken senders retry (no "
                        "FIFO fairness)")
      .Show(SYS_msgsnd, 1, ArgKind::kHex)
      .Partial<&Msgrcv>(SYS_msgrcv,
                        "msgtyp 0/>0/<0, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, "
                        "IPC_NOWAIT, blocking; no FIFO fairness between "
                        "waiters")
      .Show(SYS_msgrcv, 1, ArgKind::kHex)
      .Partial<&Msgctl>(SYS_msgctl,
                        "all commands; limits are Linux's defaults, fixed "
                        "(/proc/sys/kernel/msg* show them, read-only)")
      .Show(SYS_msgctl, 2, ArgKind::kHex);
}

}  // namespace syscalls
