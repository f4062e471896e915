// POSIX message queues (mq_open and friends): Linux's ipc/mqueue.c.
//
// An IPC namespace holds one `Mqueues` (names -> queues). A queue lives as
// long as its name or an open descriptor (`MqFile`, a FileDescription)
// refers to it. Messages are kept by priority (highest first, FIFO within
// one). Sleepers wait in Task::Block on the queue's sender or receiver
// list, in order; as Linux's pipelined_send/pipelined_receive, a sender
// hands its message straight to the first waiting receiver, and a receiver
// that makes room moves the first waiting sender's message into the queue,
// so waiters are served first come, first served.
//
// Lock order: Mqueues::mu_ -> MqQueue::mu_ -> waiter::Queue::mu_ ->
// Task::mu_. A notification signal is sent by the caller after every lock
// is released.
#ifndef SENTRY_KERNEL_IPC_MQUEUE_H_
#define SENTRY_KERNEL_IPC_MQUEUE_H_

#include <mqueue.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/result.h"
#include "sentry/kernel/credentials.h"
#include "sentry/vfs/file_description.h"
#include "sentry/waiter/waiter.h"

namespace kernel {
class Task;
class ThreadGroup;
}  // namespace kernel

namespace kernel::ipc {

// /proc/sys/fs/mqueue/{msg_max,msgsize_max,queues_max,msg_default,
// msgsize_default}: Linux's defaults, fixed here (TODO(procfs)).
inline constexpr long kMqMsgMax = 10;
inline constexpr long kMqMsgsizeMax = 8192;
inline constexpr long kMqMsgDefault = 10;
inline constexpr long kMqMsgsizeDefault = 8192;
inline constexpr int kMqQueuesMax = 256;
// What CAP_SYS_RESOURCE may reach (HARD_MSGMAX, HARD_MSGSIZEMAX).
inline constexpr long kMqHardMsgMax = 65536;
inline constexpr long kMqHardMsgsizeMax = 16 << 20;
inline constexpr unsigned kMqPrioMax = 32768;  // MQ_PRIO_MAX
// What Linux charges to RLIMIT_MSGQUEUE per message slot besides its bytes:
// a struct msg_msg and (up to MQ_PRIO_MAX) a struct posix_msg_tree_node.
inline constexpr uint64_t kMqMsgOverhead = 48;
inline constexpr uint64_t kMqNodeOverhead = 48;

class MqQueue {
 public:
  struct Message {
    unsigned prio;
    std::vector<uint8_t> data;
  };
  // A notification due: the caller sends `info` to `tg` (SIGEV_SIGNAL).
  struct Signal {
    std::shared_ptr<ThreadGroup> tg;
    siginfo_t info;
  };
  // Who sends: for si_pid/si_uid of a notification.
  struct Sender {
    int pid;
    uint32_t uid;
  };

  // Owned by `uid`/`gid` (the creator's fsuid/fsgid); `charged` bytes of
  // RLIMIT_MSGQUEUE are counted against `charged_uid` (its real uid).
  MqQueue(std::string name, const mq_attr& attr, uint32_t uid, uint32_t gid,
          mode_t mode, uint32_t charged_uid, uint64_t charged,
          std::shared_ptr<std::atomic<int>> count);
  ~MqQueue();
  MqQueue(const MqQueue&) = delete;
  MqQueue& operator=(const MqQueue&) = delete;

  // mq_timedsend(2) once the arguments are checked: EAGAIN (`nonblock`),
  // ETIMEDOUT, ERESTARTSYS. A notification to send may come back.
  base::Result<std::optional<Signal>> Send(Task& t, Message msg, bool nonblock,
                                           absl::Time deadline, Sender from);
  // mq_timedreceive(2): the highest-priority oldest message.
  base::Result<Message> Receive(Task& t, bool nonblock, absl::Time deadline);
  // mq_notify(2): `sev` null removes the caller's registration.
  base::Result<void> Notify(Task& t, const sigevent* sev);
  mq_attr Attr();
  // The line read(2) shows (QSIZE, NOTIFY, SIGNO, NOTIFY_PID).
  std::string Status();
  // poll(2) events of `mask` ready now.
  uint64_t Readiness(uint64_t mask);
  waiter::Queue& events() { return events_; }

  const std::string& name() const { return name_; }
  uint32_t uid() const { return uid_; }
  uint32_t gid() const { return gid_; }
  mode_t mode() const { return mode_; }
  std::atomic<bool> unlinked{false};

 private:
  struct Waiter {
    Task* task;
    std::atomic<bool> woken{false};
    bool done = false;  // under mu_: the message moved
    Message msg;
  };
  struct Registration {
    int notify;  // SIGEV_SIGNAL or SIGEV_NONE
    int signo;
    sigval value;
    int pid;
    std::weak_ptr<ThreadGroup> owner;
  };

  void InsertLocked(Message msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sleeps on `list` with `w`; 0 once `w.done`, else the error.
  int WaitLocked(Task& t, std::list<Waiter*>& list, Waiter& w,
                 absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const long maxmsg_, msgsize_;
  const uint32_t uid_, gid_;
  const mode_t mode_;
  const uint32_t charged_uid_;
  const uint64_t charged_;
  const std::shared_ptr<std::atomic<int>> count_;  // the namespace's queues

  absl::Mutex mu_;
  std::deque<Message> messages_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<Waiter*> senders_ ABSL_GUARDED_BY(mu_);
  std::list<Waiter*> receivers_ ABSL_GUARDED_BY(mu_);
  std::optional<Registration> notify_ ABSL_GUARDED_BY(mu_);
  waiter::Queue events_;
};

// A queue descriptor: what mq_open puts in the fd table.
class MqFile : public vfs::FileDescription {
 public:
  MqFile(std::shared_ptr<MqQueue> q, int flags)
      : FileDescription(flags), q_(std::move(q)) {}
  MqQueue& queue() { return *q_; }
  bool can_send() const;
  bool can_receive() const;

  base::Result<size_t> Read(std::span<const iovec> dst) override;
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override;
  base::Result<int64_t> Seek(int64_t offset, int whence) override;
  base::Result<struct stat> Stat() override;
  uint64_t Readiness(uint64_t mask) override { return q_->Readiness(mask); }
  void EventRegister(waiter::Entry* e) override { q_->events().Register(e); }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override {
    q_->events().Unregister(e);
  }
  std::string path() const override;

 private:
  const std::shared_ptr<MqQueue> q_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
};

// The queues of one IPC namespace.
class Mqueues {
 public:
  struct OpenArgs {
    std::string name;  // without the leading '/' glibc strips
    int oflag;
    mode_t mode;  // umask applied
    std::optional<mq_attr> attr;
    uint64_t rlimit_msgqueue;  // the caller's soft RLIMIT_MSGQUEUE
  };
  // mq_open(2): the queue, found or made.
  base::Result<std::shared_ptr<MqQueue>> Open(const Credentials& creds,
                                              const OpenArgs& args);
  // mq_unlink(2).
  base::Result<void> Unlink(const Credentials& creds, const std::string& name);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<MqQueue>> names_ ABSL_GUARDED_BY(mu_);
  // Live queues, named or not (Linux's mq_queues_count).
  const std::shared_ptr<std::atomic<int>> count_ =
      std::make_shared<std::atomic<int>>(0);
};

}  // namespace kernel::ipc

#endif  // SENTRY_KERNEL_IPC_MQUEUE_H_
