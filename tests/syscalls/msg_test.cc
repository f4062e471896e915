// SysV message queues: msgget/msgsnd/msgrcv/msgctl, message types,
// MSG_NOERROR/MSG_EXCEPT/IPC_NOWAIT, blocking both ways, the byte limit,
// IPC_RMID waking waiters.
#include <sched.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipc_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kMsgStatAny = 13;

class Queue {
 public:
  explicit Queue(int mode = 0600, key_t key = IPC_PRIVATE)
      : id_(msgget(key, IPC_CREAT | IPC_EXCL | mode)) {}
  ~Queue() {
    if (id_ >= 0) msgctl(id_, IPC_RMID, nullptr);
  }
  int id() const { return id_; }

 private:
  int id_;
};

struct Buf {
  long type;
  char text[64];
};

int Send(int id, long type, const char* text, int flag = 0) {
  Buf b{type, {}};
  strncpy(b.text, text, sizeof(b.text));
  return msgsnd(id, &b, strlen(text), flag);
}

// The text of the message msgrcv takes, or "" with errno set.
std::string Receive(int id, long type, int flag = IPC_NOWAIT,
                    size_t size = 64) {
  Buf b{};
  ssize_t n = msgrcv(id, &b, size, type, flag);
  if (n < 0) return "";
  return std::to_string(b.type) + ":" + std::string(b.text, n);
}

msqid_ds Stat(int id) {
  msqid_ds ds{};
  EXPECT_THAT(msgctl(id, IPC_STAT, &ds), SyscallSucceeds());
  return ds;
}

// Lets a child reach its blocking call. Nothing shows that it has (no
// waiter count for queues), so tests pass either way and only the chance
// of exercising the sleep depends on this.
void LetChildRun() {
  for (int i = 0; i < 1000; i++) sched_yield();
}

TEST(MsgTest, SendAndReceiveByType) {
  Queue q;
  ASSERT_GE(q.id(), 0) << strerror(errno);
  ASSERT_THAT(Send(q.id(), 3, "three"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 1, "one"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 2, "two"), SyscallSucceeds());
  ASSERT_THAT(Send(q.id(), 1, "uno"), SyscallSucceeds());
  msqid_ds ds = Stat(q.id());
  EXPECT_EQ(ds.msg_qnum, 4u);
  EXPECT_EQ(ds.__msg_cbytes, 14u);
  EXPECT_EQ(ds.msg_lspid, getpid());
  EXPECT_EQ(ds.msg_qbytes, 16384u);
  EXPECT_EQ(Receive(q.id(), 2), "2:two");              // that type
  EXPECT_EQ(Receive(q.id(), 1, IPC_NOWAIT | MSG_EXCEPT), "3:three");
  EXPECT_EQ(Receive(q.id(), -5), "1:one");            // lowest type first
  EXPECT_EQ(Receive(q.id(), 0), "1:uno");             // first in queue
  EXPECT_EQ(Receive(q.id(), 0), "");
  EXPECT_EQ(errno, ENOMSG);
  ds = Stat(q.id());
  EXPECT_EQ(ds.msg_qnum, 0u);
  EXPECT_EQ(ds.msg_lrpid, getpid());
  EXPECT_NE(ds.msg_rtime, 0);
}

TEST(MsgTest, TooBig) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  ASSERT_THAT(Send(q.id(), 1, "0123456789"), SyscallSucceeds());
  EXPECT_EQ(Receive(q.id(), 0, IPC_NOWAIT, 4), "");
  EXPECT_EQ(errno, E2BIG);
  EXPECT_EQ(Stat(q.id()).msg_qnum, 1u);  // still there
  EXPECT_EQ(Receive(q.id(), 0, IPC_NOWAIT | MSG_NOERROR, 4), "1:0123");
  EXPECT_EQ(Stat(q.id()).msg_qnum, 0u);
}

TEST(MsgTest, Errors) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  EXPECT_THAT(Send(q.id(), 0, "x"), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Send(q.id(), -1, "x"), SyscallFailsWithErrno(EINVAL));
  Buf b{1, {}};
  EXPECT_THAT(msgsnd(q.id(), &b, 8193, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgsnd(q.id(), nullptr, 1, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(msgsnd(q.id() + 1, &b, 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgrcv(q.id(), &b, 1, 0, IPC_NOWAIT),
              SyscallFailsWithErrno(ENOMSG));
  EXPECT_THAT(msgrcv(-1, &b, 1, 0, IPC_NOWAIT), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgctl(q.id(), 1234, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msgctl(q.id(), IPC_STAT, nullptr), SyscallFailsWithErrno(EFAULT));
}

TEST(MsgTest, Keys) {
  const key_t key = RandomKey();
  Queue q(0600, key);
  ASSERT_GE(q.id(), 0);
  EXPECT_THAT(msgget(key, IPC_CREAT | IPC_EXCL | 0600),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(msgget(key, 0), SyscallSucceedsWithValue(q.id()));
  EXPECT_THAT(msgget(RandomKey(), 0600), SyscallFailsWithErrno(ENOENT));
}

TEST(MsgTest, ReceiverBlocksUntilSend) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  const int id = q.id();
  pid_t pid = fork();
  if (pid == 0) _exit(Receive(id, 7, 0) == "7:wake" ? 0 : 1);
  LetChildRun();
  ASSERT_THAT(Send(id, 6, "other"), SyscallSucceeds());  // not its type
  ASSERT_THAT(Send(id, 7, "wake"), SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  EXPECT_EQ(Stat(id).msg_qnum, 1u);
}

TEST(MsgTest, SenderBlocksWhenFull) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  const int id = q.id();
  msqid_ds ds = Stat(id);
  ds.msg_qbytes = 10;
  ASSERT_THAT(msgctl(id, IPC_SET, &ds), SyscallSucceeds());
  ASSERT_THAT(Send(id, 1, "12345678"), SyscallSucceeds());
  EXPECT_THAT(Send(id, 1, "abc", IPC_NOWAIT), SyscallFailsWithErrno(EAGAIN));
  pid_t pid = fork();
  if (pid == 0) _exit(Send(id, 2, "abc") == 0 ? 0 : 1);
  LetChildRun();
  EXPECT_EQ(Stat(id).msg_qnum, 1u);
  EXPECT_EQ(Receive(id, 0), "1:12345678");
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  EXPECT_EQ(Receive(id, 0), "2:abc");
}

TEST(MsgTest, Permissions) {
  Queue q(0);
  ASSERT_GE(q.id(), 0);
  const int id = q.id();
  int status = AsNobody([&] {
    msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) != -1 || errno != EACCES) return 1;
    if (syscall(SYS_msgctl, id % 32768, kMsgStatAny, &ds) != id) return 2;
    if (msgsnd(id, "\x01\0\0\0\0\0\0\0", 0, IPC_NOWAIT) != -1 ||
        errno != EACCES)
      return 3;
    // Raising msg_qbytes past MSGMNB needs CAP_SYS_RESOURCE.
    int own = msgget(IPC_PRIVATE, 0600);
    if (own < 0) return 4;
    int r = 0;
    if (msgctl(own, IPC_STAT, &ds) != 0) r = 5;
    ds.msg_qbytes = 16385;
    if (!r && (msgctl(own, IPC_SET, &ds) != -1 || errno != EPERM)) r = 6;
    ds.msg_qbytes = 100;
    if (!r && msgctl(own, IPC_SET, &ds) != 0) r = 7;
    msgctl(own, IPC_RMID, nullptr);
    return r;
  });
  EXPECT_EXIT_OK(status);
}

TEST(MsgTest, RemoveWakesWaitersWithEidrm) {
  // A child that had not reached msgrcv when the queue went sees EINVAL:
  // try again until one was asleep in it.
  for (int attempt = 0; attempt < 100; attempt++) {
    int id = msgget(IPC_PRIVATE, 0600);
    ASSERT_GE(id, 0);
    pid_t pid = fork();
    if (pid == 0) {
      Buf b;
      if (msgrcv(id, &b, 8, 0, 0) != -1) _exit(1);
      _exit(errno == EIDRM ? 0 : errno == EINVAL ? 2 : 3);
    }
    LetChildRun();
    ASSERT_THAT(msgctl(id, IPC_RMID, nullptr), SyscallSucceeds());
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    if (WEXITSTATUS(status) == 2) continue;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    return;
  }
  FAIL() << "the child never blocked in msgrcv";
}

void OnUsr1(int) {}

TEST(MsgTest, SignalInterrupts) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  const int id = q.id();
  // Blocked until the child's handler is in place.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr1, &old), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    struct sigaction sa {};
    sa.sa_handler = OnUsr1;
    sa.sa_flags = SA_RESTART;  // msgrcv is never restarted after a handler
    sigaction(SIGUSR1, &sa, nullptr);
    sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    Buf b;
    _exit(msgrcv(id, &b, 8, 0, 0) == -1 && errno == EINTR ? 0 : 1);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  // A signal that comes before msgrcv only runs the handler: send until
  // one interrupts it.
  int status;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
    kill(pid, SIGUSR1);
    sched_yield();
  }
  ASSERT_EQ(r, pid);
  EXPECT_EXIT_OK(status);
}

TEST(MsgTest, Info) {
  Queue q;
  ASSERT_GE(q.id(), 0);
  ASSERT_THAT(Send(q.id(), 1, "abcd"), SyscallSucceeds());
  msginfo info{};
  int max = msgctl(0, IPC_INFO, reinterpret_cast<msqid_ds*>(&info));
  ASSERT_GE(max, 0);
  EXPECT_EQ(info.msgmax, 8192);
  EXPECT_EQ(info.msgmnb, 16384);
  ASSERT_GE(msgctl(0, MSG_INFO, reinterpret_cast<msqid_ds*>(&info)), 0);
  EXPECT_GE(info.msgpool, 1);  // queues in use
  EXPECT_GE(info.msgtql, 4);   // bytes queued
  bool found = false;
  for (int i = 0; i <= max; i++) {
    msqid_ds ds;
    if (msgctl(i, MSG_STAT, &ds) == q.id()) {
      found = true;
      EXPECT_EQ(ds.msg_qnum, 1u);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace syscall_test
