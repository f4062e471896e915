// SysV message queues (msgget, msgsnd, msgrcv, msgctl): Linux's ipc/msg.c.
//
// A queue's messages change under Msg::mu_. A sender that finds the queue
// full and a receiver that finds no matching message sleep in Task::Block
// on the queue; every change to it wakes all its sleepers, which look
// again (no FIFO fairness between them).
//
// Lock order: Msg::mu_ -> Task::mu_ (Task::Wake).
#ifndef SENTRY_KERNEL_IPC_MSG_H_
#define SENTRY_KERNEL_IPC_MSG_H_

#include <sys/msg.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/kernel/credentials.h"
#include "sentry/kernel/ipc/perm.h"

namespace kernel {
class Task;
}

namespace kernel::ipc {

// Linux's defaults (include/uapi/linux/msg.h).
inline constexpr int kMsgMni = 32000;
inline constexpr uint64_t kMsgMax = 8192;   // bytes in one message
inline constexpr uint64_t kMsgMnb = 16384;  // bytes in one queue
inline constexpr int kMsgStatAny = 13;      // MSG_STAT_ANY, Linux 4.17
inline constexpr int kMsgCopy = 040000;     // MSG_COPY

class Msg {
 public:
  struct Message {
    long type;
    std::vector<uint8_t> data;
  };
  struct Waiter {
    Task* task;
    std::atomic<bool> woken{false};
  };
  struct Queue {
    Perm perm;
    std::deque<Message> messages;
    uint64_t bytes = 0;  // msg_cbytes
    uint64_t max_bytes = kMsgMnb;  // msg_qbytes
    int64_t stime = 0, rtime = 0, ctime = 0;
    int lspid = 0, lrpid = 0;
    std::list<Waiter*> waiters;
  };

  // msgget(2).
  base::Result<int> Get(const Credentials& creds, key_t key, int flag);
  // msgsnd(2): the message is copied in already (its size checked).
  base::Result<void> Send(Task& t, const Credentials& creds, int pid, int id,
                          Message msg, int flag);
  // msgrcv(2): the message taken (or copied, MSG_COPY), cut to `max` bytes
  // with MSG_NOERROR.
  base::Result<Message> Receive(Task& t, const Credentials& creds, int pid,
                                int id, uint64_t max, long type, int flag);
  // msgctl(2).
  base::Result<int> Stat(const Credentials& creds, int id, bool by_index,
                         bool check, msqid_ds* out);
  base::Result<void> Set(const Credentials& creds, int id, const msqid_ds& in);
  base::Result<void> Remove(const Credentials& creds, int id);
  // IPC_INFO (`usage` false) and MSG_INFO: the highest index in use.
  int Info(bool usage, msginfo* out);

 private:
  // Sleeps on `q` (mu_ held, released while asleep): 0, or the error to
  // return (EIDRM, ERESTARTNOHAND).
  int WaitLocked(Task& t, Queue& q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeLocked(Queue& q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Registry<Queue> queues_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel::ipc

#endif  // SENTRY_KERNEL_IPC_MSG_H_
