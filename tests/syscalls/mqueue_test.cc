// POSIX message queues: mq_open/mq_unlink/mq_timedsend/mq_timedreceive/
// mq_notify/mq_getsetattr. Names, attributes and their limits,
// permissions, priority order, blocking both ways, timeouts, signals
// (EINTR, SA_RESTART), notifications, the descriptor as a file (read,
// poll, fstat, /proc/self/fd, close-on-exec, fork).
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "cap_util.h"
#include "ipc_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

// A fresh name ("/runsc_mq_<random>"): host queues of others are never
// touched; every queue made is unlinked.
std::string NewName() {
  static std::mt19937 gen(std::random_device{}() ^ getpid());
  return "/runsc_mq_" + std::to_string(getpid()) + "_" +
         std::to_string(gen());
}

// A queue created with O_EXCL, unlinked and closed at the end.
class Queue {
 public:
  explicit Queue(int oflag = O_RDWR, long maxmsg = 0, long msgsize = 0,
                 mode_t mode = 0600)
      : name_(NewName()) {
    mq_attr a{};
    a.mq_maxmsg = maxmsg;
    a.mq_msgsize = msgsize;
    fd_ = mq_open(name_.c_str(), oflag | O_CREAT | O_EXCL, mode,
                  (maxmsg || msgsize) ? &a : nullptr);
  }
  ~Queue() {
    if (fd_ >= 0) {
      mq_close(fd_);
      mq_unlink(name_.c_str());
    }
  }
  mqd_t fd() const { return fd_; }
  const std::string& name() const { return name_; }
  // The name as the syscall takes it (glibc strips the '/').
  const char* raw() const { return name_.c_str() + 1; }

 private:
  std::string name_;
  mqd_t fd_;
};

mq_attr Attr(mqd_t q) {
  mq_attr a{};
  EXPECT_THAT(mq_getattr(q, &a), SyscallSucceeds());
  return a;
}

// The text of the next message and its priority as "prio:text", or ""
// with errno set.
std::string Receive(mqd_t q, size_t size = 8192) {
  std::vector<char> buf(size);
  unsigned prio = 0;
  ssize_t n = mq_receive(q, buf.data(), size, &prio);
  if (n < 0) return "";
  return std::to_string(prio) + ":" + std::string(buf.data(), n);
}

int Send(mqd_t q, const std::string& s, unsigned prio = 0) {
  return mq_send(q, s.data(), s.size(), prio);
}

std::string ReadLine(int fd) {
  char buf[200];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  return n < 0 ? "error" : std::string(buf, n);
}

std::string Line(unsigned long qsize, int notify, int signo, int pid) {
  char buf[200];
  snprintf(buf, sizeof buf,
           "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", qsize,
           notify, signo, pid);
  return buf;
}

timespec InPast() { return timespec{1, 0}; }

TEST(MqueueTest, OpenDefaultsAndDescriptor) {
  Queue q;
  ASSERT_GE(q.fd(), 0) << strerror(errno);
  mq_attr a = Attr(q.fd());
  EXPECT_EQ(a.mq_maxmsg, 10);
  EXPECT_EQ(a.mq_msgsize, 8192);
  EXPECT_EQ(a.mq_curmsgs, 0);
  EXPECT_EQ(a.mq_flags, 0);
  // Always close-on-exec.
  EXPECT_THAT(fcntl(q.fd(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(fcntl(q.fd(), F_GETFL) & O_ACCMODE, O_RDWR);
  struct stat st;
  ASSERT_THAT(fstat(q.fd(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFREG | 0600);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_gid, getegid());
  char link[64], target[256] = {};
  snprintf(link, sizeof link, "/proc/self/fd/%d", q.fd());
  ASSERT_THAT(readlink(link, target, sizeof target - 1), SyscallSucceeds());
  EXPECT_EQ(std::string(target), q.name());
  // Another open finds the same queue; dup and fork share it.
  mqd_t q2 = mq_open(q.name().c_str(), O_RDONLY);
  ASSERT_GE(q2, 0);
  int d = dup(q.fd());
  ASSERT_GE(d, 0);
  ASSERT_THAT(Send(d, "via dup", 2), SyscallSucceeds());
  EXPECT_THAT(close(d), SyscallSucceeds());
  EXPECT_EQ(Receive(q2), "2:via dup");
  EXPECT_THAT(mq_close(q2), SyscallSucceeds());
}

TEST(MqueueTest, Names) {
  // glibc wants the leading '/'.
  EXPECT_THAT(mq_open("noslash", O_RDWR | O_CREAT, 0600, nullptr),
              SyscallFailsWithErrno(EINVAL));
  // What the kernel gets is the rest of the name.
  EXPECT_THAT(syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, nullptr),
              SyscallFailsWithErrno(ENOENT));
  for (const char* bad : {"a/b", ".", "..", "/x"}) {
    EXPECT_THAT(syscall(SYS_mq_open, bad, O_RDWR | O_CREAT, 0600, nullptr),
                SyscallFailsWithErrno(EACCES))
        << bad;
    EXPECT_THAT(syscall(SYS_mq_unlink, bad), SyscallFailsWithErrno(EACCES));
  }
  std::string longest = NewName();
  longest.resize(256, 'x');  // 255 after the '/'
  mqd_t q = mq_open(longest.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, nullptr);
  EXPECT_GE(q, 0) << strerror(errno);
  if (q >= 0) {
    mq_close(q);
    EXPECT_THAT(mq_unlink(longest.c_str()), SyscallSucceeds());
  }
  longest += "x";
  EXPECT_THAT(mq_open(longest.c_str(), O_RDWR | O_CREAT, 0600, nullptr),
              SyscallFailsWithErrno(ENAMETOOLONG));
  EXPECT_THAT(syscall(SYS_mq_open, BadAddress(), O_RDONLY, 0, nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(mq_unlink(NewName().c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mq_open(NewName().c_str(), O_RDWR), SyscallFailsWithErrno(ENOENT));
}

TEST(MqueueTest, OpenExistingAndUnlink) {
  Queue q;
  ASSERT_GE(q.fd(), 0);
  EXPECT_THAT(mq_open(q.name().c_str(), O_RDWR | O_CREAT | O_EXCL, 0600,
                      nullptr),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(syscall(SYS_mq_open, q.raw(), O_ACCMODE, 0, nullptr),
              SyscallFailsWithErrno(EINVAL));
  // O_CREAT without O_EXCL opens it; its attributes stay.
  mq_attr small{};
  small.mq_maxmsg = 1;
  small.mq_msgsize = 1;
  mqd_t again = mq_open(q.name().c_str(), O_WRONLY | O_CREAT, 0600, &small);
  ASSERT_GE(again, 0);
  EXPECT_EQ(Attr(again).mq_maxmsg, 10);
  ASSERT_THAT(Send(again, "kept", 7), SyscallSucceeds());
  // Unlinked, the open descriptors keep the queue; the name is free.
  ASSERT_THAT(mq_unlink(q.name().c_str()), SyscallSucceeds());
  EXPECT_THAT(mq_unlink(q.name().c_str()), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(mq_open(q.name().c_str(), O_RDWR), SyscallFailsWithErrno(ENOENT));
  EXPECT_EQ(Receive(q.fd()), "7:kept");
  char link[64], target[256] = {};
  snprintf(link, sizeof link, "/proc/self/fd/%d", q.fd());
  ASSERT_THAT(readlink(link, target, sizeof target - 1), SyscallSucceeds());
  EXPECT_EQ(std::string(target), q.name() + " (deleted)");
  mqd_t fresh = mq_open(q.name().c_str(), O_RDWR | O_CREAT | O_EXCL, 0600,
                        nullptr);
  ASSERT_GE(fresh, 0);
  ASSERT_THAT(Send(again, "old"), SyscallSucceeds());
  EXPECT_EQ(Attr(fresh).mq_curmsgs, 0);
  EXPECT_EQ(Attr(q.fd()).mq_curmsgs, 1);
  mq_close(fresh);
  mq_close(again);
}

TEST(MqueueTest, AttrLimits) {
  for (auto [maxmsg, msgsize] : std::vector<std::pair<long, long>>{
           {0, 8}, {8, 0}, {-1, 8}, {8, -1}, {65537, 8}, {8, (16 << 20) + 1}}) {
    Queue q(O_RDWR, maxmsg, msgsize);
    EXPECT_EQ(q.fd(), -1) << maxmsg << " " << msgsize;
    EXPECT_EQ(errno, EINVAL);
  }
  EXPECT_THAT(syscall(SYS_mq_open, NewName().c_str() + 1, O_RDWR | O_CREAT,
                      0600, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // Above msg_max (10) and msgsize_max (8192): CAP_SYS_RESOURCE only.
  auto over = [] {
    Queue a(O_RDWR, 11, 8), b(O_RDWR, 8, 8193);
    return (a.fd() >= 0) * 2 + (b.fd() >= 0);
  };
  EXPECT_EQ(over(), HasEffectiveCap(CAP_SYS_RESOURCE) ? 3 : 0);
  int status = AsNobody([&] {
    Queue a(O_RDWR, 11, 8);
    if (a.fd() != -1 || errno != EINVAL) return 1;
    Queue b(O_RDWR, 8, 8193);
    if (b.fd() != -1 || errno != EINVAL) return 2;
    Queue c(O_RDWR, 10, 8192);
    return c.fd() >= 0 ? 0 : 3;
  });
  EXPECT_EXIT_OK(status);
}

TEST(MqueueTest, RlimitMsgqueue) {
  // A default queue costs 10 * 8192 bytes plus bookkeeping: two fit in
  // 2 * 82880 + 1000, a third does not until one is gone. Root is not
  // exempt.
  int status = AsNobody([] {
    rlimit rl{2 * 82880 + 1000, 2 * 82880 + 1000};
    if (setrlimit(RLIMIT_MSGQUEUE, &rl) != 0) return 1;
    auto a = std::make_unique<Queue>();
    Queue b;
    if (a->fd() < 0 || b.fd() < 0) return 2;
    Queue c;
    if (c.fd() != -1 || errno != EMFILE) return 3;
    // Small queues still fit.
    Queue d(O_RDWR, 1, 1);
    if (d.fd() < 0) return 4;
    a.reset();
    Queue e;
    return e.fd() >= 0 ? 0 : 5;
  });
  EXPECT_EXIT_OK(status);
}

TEST(MqueueTest, QueuesMax) {
  // queues_max (256) counts every queue of the IPC namespace; only
  // CAP_SYS_RESOURCE goes past it.
  auto fill = [](int limit) {
    std::vector<std::unique_ptr<Queue>> qs;
    while (static_cast<int>(qs.size()) < limit) {
      auto q = std::make_unique<Queue>(O_RDWR, 1, 1);
      if (q->fd() < 0) return errno == ENOSPC ? static_cast<int>(qs.size()) : -errno;
      qs.push_back(std::move(q));
    }
    return limit;
  };
  int status = AsNobody([&] {
    int n = fill(300);
    return n >= 1 && n <= 256 ? 0 : 1;
  });
  EXPECT_EXIT_OK(status);
  if (HasEffectiveCap(CAP_SYS_RESOURCE)) {
    EXPECT_EQ(fill(300), 300);
  }
}

TEST(MqueueTest, PriorityOrder) {
  Queue q;
  ASSERT_GE(q.fd(), 0);
  ASSERT_THAT(Send(q.fd(), "one", 1), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "five-a", 5), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "zero", 0), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "five-b", 5), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "max", 32767), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "three", 3), SyscallSucceeds());
  EXPECT_EQ(Attr(q.fd()).mq_curmsgs, 6);
  for (const char* want :
       {"32767:max", "5:five-a", "5:five-b", "3:three", "1:one", "0:zero"})
    EXPECT_EQ(Receive(q.fd()), want);
  EXPECT_THAT(Send(q.fd(), "x", 32768), SyscallFailsWithErrno(EINVAL));
  // An empty message, and a NULL priority pointer.
  ASSERT_THAT(Send(q.fd(), ""), SyscallSucceeds());
  char buf[8192];
  EXPECT_THAT(mq_receive(q.fd(), buf, sizeof buf, nullptr),
              SyscallSucceedsWithValue(0));
}

TEST(MqueueTest, Errors) {
  Queue q(O_RDWR, 2, 16);
  ASSERT_GE(q.fd(), 0);
  char buf[32] = {};
  EXPECT_THAT(mq_send(q.fd(), buf, 17, 0), SyscallFailsWithErrno(EMSGSIZE));
  EXPECT_THAT(mq_send(q.fd(), buf, 16, 0), SyscallSucceeds());
  EXPECT_THAT(mq_receive(q.fd(), buf, 15, nullptr),
              SyscallFailsWithErrno(EMSGSIZE));
  EXPECT_EQ(Attr(q.fd()).mq_curmsgs, 1);  // still there
  EXPECT_THAT(mq_send(q.fd(), reinterpret_cast<char*>(BadAddress()), 4, 0),
              SyscallFailsWithErrno(EFAULT));
  // The wrong access mode, a file that is no queue, no file.
  mqd_t ro = mq_open(q.name().c_str(), O_RDONLY);
  mqd_t wo = mq_open(q.name().c_str(), O_WRONLY);
  ASSERT_GE(ro, 0);
  ASSERT_GE(wo, 0);
  EXPECT_THAT(mq_send(ro, "x", 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(mq_receive(wo, buf, sizeof buf, nullptr),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(wo, buf, sizeof buf), SyscallFailsWithErrno(EBADF));
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(mq_send(fds[1], "x", 1, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(mq_receive(fds[0], buf, sizeof buf, nullptr),
              SyscallFailsWithErrno(EBADF));
  mq_attr a{};
  EXPECT_THAT(mq_getattr(fds[0], &a), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(mq_notify(fds[0], nullptr), SyscallFailsWithErrno(EBADF));
  close(fds[0]);
  close(fds[1]);
  EXPECT_THAT(mq_send(-1, "x", 1, 0), SyscallFailsWithErrno(EBADF));
  // A bad timeout is EINVAL even when the call would not block.
  timespec bad{0, 1000000000};
  EXPECT_THAT(mq_timedsend(q.fd(), "x", 1, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mq_timedreceive(q.fd(), buf, sizeof buf, nullptr, &bad),
              SyscallFailsWithErrno(EINVAL));
  bad = {-1, 0};
  EXPECT_THAT(mq_timedsend(q.fd(), "x", 1, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_mq_timedsend, q.fd(), "x", 1, 0, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // A deadline in the past only matters when the call would block.
  timespec past = InPast();
  EXPECT_THAT(mq_timedsend(q.fd(), "y", 1, 0, &past), SyscallSucceeds());
  EXPECT_THAT(mq_timedsend(q.fd(), "z", 1, 0, &past),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_THAT(mq_timedreceive(q.fd(), buf, sizeof buf, nullptr, &past),
              SyscallSucceedsWithValue(16));
  EXPECT_THAT(mq_timedreceive(q.fd(), buf, sizeof buf, nullptr, &past),
              SyscallSucceedsWithValue(1));
  EXPECT_THAT(mq_timedreceive(q.fd(), buf, sizeof buf, nullptr, &past),
              SyscallFailsWithErrno(ETIMEDOUT));
  // A buffer that cannot be written loses the message, as on Linux.
  ASSERT_THAT(Send(q.fd(), "lost"), SyscallSucceeds());
  EXPECT_THAT(mq_receive(q.fd(), reinterpret_cast<char*>(BadAddress()), 16,
                         nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_EQ(Attr(q.fd()).mq_curmsgs, 0);
  mq_close(ro);
  mq_close(wo);
}

TEST(MqueueTest, NonblockAndGetsetattr) {
  Queue q(O_RDWR | O_NONBLOCK, 1, 8);
  ASSERT_GE(q.fd(), 0);
  EXPECT_EQ(Attr(q.fd()).mq_flags, O_NONBLOCK);
  char buf[8];
  EXPECT_THAT(mq_receive(q.fd(), buf, sizeof buf, nullptr),
              SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(Send(q.fd(), "a"), SyscallSucceeds());
  EXPECT_THAT(Send(q.fd(), "b"), SyscallFailsWithErrno(EAGAIN));
  // Only O_NONBLOCK can change; the old attributes come back.
  mq_attr set{}, old{};
  set.mq_flags = O_NONBLOCK | O_APPEND;
  EXPECT_THAT(mq_setattr(q.fd(), &set, &old), SyscallFailsWithErrno(EINVAL));
  set = {};
  set.mq_maxmsg = 99;
  ASSERT_THAT(mq_setattr(q.fd(), &set, &old), SyscallSucceeds());
  EXPECT_EQ(old.mq_flags, O_NONBLOCK);
  EXPECT_EQ(old.mq_maxmsg, 1);
  EXPECT_EQ(old.mq_msgsize, 8);
  EXPECT_EQ(old.mq_curmsgs, 1);
  mq_attr now = Attr(q.fd());
  EXPECT_EQ(now.mq_flags, 0);
  EXPECT_EQ(now.mq_maxmsg, 1);
  EXPECT_EQ(fcntl(q.fd(), F_GETFL) & O_NONBLOCK, 0);
  // fcntl's O_NONBLOCK is the same flag.
  ASSERT_THAT(fcntl(q.fd(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_EQ(Attr(q.fd()).mq_flags, O_NONBLOCK);
  EXPECT_THAT(syscall(SYS_mq_getsetattr, q.fd(), nullptr, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_mq_getsetattr, q.fd(), BadAddress(), nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_mq_getsetattr, q.fd(), nullptr, nullptr),
              SyscallSucceeds());
}

TEST(MqueueTest, ReadShowsStatus) {
  Queue q;
  ASSERT_GE(q.fd(), 0);
  EXPECT_EQ(ReadLine(q.fd()), Line(0, 0, 0, 0));
  ASSERT_THAT(Send(q.fd(), "hello", 1), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "abc", 1), SyscallSucceeds());
  EXPECT_EQ(ReadLine(q.fd()), Line(8, 0, 0, 0));
  // read advances the offset: a second read is at the end.
  char buf[200];
  ssize_t n = read(q.fd(), buf, sizeof buf);
  EXPECT_EQ(n, static_cast<ssize_t>(Line(8, 0, 0, 0).size()));
  EXPECT_THAT(read(q.fd(), buf, sizeof buf), SyscallSucceedsWithValue(0));
  sigevent sev{};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR2;
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  EXPECT_EQ(ReadLine(q.fd()), Line(8, SIGEV_SIGNAL, SIGUSR2, getpid()));
  ASSERT_THAT(mq_notify(q.fd(), nullptr), SyscallSucceeds());
  sev.sigev_notify = SIGEV_NONE;
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  EXPECT_EQ(ReadLine(q.fd()), Line(8, SIGEV_NONE, 0, getpid()));
  ASSERT_THAT(mq_notify(q.fd(), nullptr), SyscallSucceeds());
}

TEST(MqueueTest, Poll) {
  Queue q(O_RDWR, 2, 8);
  ASSERT_GE(q.fd(), 0);
  pollfd p{q.fd(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  ASSERT_THAT(Send(q.fd(), "a"), SyscallSucceeds());
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
  ASSERT_THAT(Send(q.fd(), "b"), SyscallSucceeds());
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  EXPECT_EQ(Receive(q.fd()), "0:a");
  EXPECT_EQ(Receive(q.fd()), "0:b");
  // A child's message wakes a poll that waits for POLLIN.
  pid_t pid = fork();
  if (pid == 0) _exit(Send(q.fd(), "wake") == 0 ? 0 : 1);
  p = {q.fd(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
}

TEST(MqueueTest, BlockingReceiveAndSend) {
  Queue q(O_RDWR, 1, 8);
  ASSERT_GE(q.fd(), 0);
  // The parent waits in mq_receive until the child sends.
  pid_t pid = fork();
  if (pid == 0) _exit(Send(q.fd(), "child", 4) == 0 ? 0 : 1);
  EXPECT_EQ(Receive(q.fd(), 8), "4:child");
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  // A full queue: the child waits in mq_send until the parent receives.
  ASSERT_THAT(Send(q.fd(), "first"), SyscallSucceeds());
  pid = fork();
  if (pid == 0) _exit(Send(q.fd(), "second", 9) == 0 ? 0 : 1);
  EXPECT_EQ(Receive(q.fd(), 8), "0:first");
  EXPECT_EQ(Receive(q.fd(), 8), "9:second");  // waits for it if need be
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
}

TEST(MqueueTest, TimeoutInFuture) {
  Queue q(O_RDWR, 1, 8);
  ASSERT_GE(q.fd(), 0);
  timespec ts;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &ts), SyscallSucceeds());
  ts.tv_nsec += 20 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  char buf[8];
  EXPECT_THAT(mq_timedreceive(q.fd(), buf, sizeof buf, nullptr, &ts),
              SyscallFailsWithErrno(ETIMEDOUT));
  timespec after;
  ASSERT_THAT(clock_gettime(CLOCK_REALTIME, &after), SyscallSucceeds());
  EXPECT_TRUE(after.tv_sec > ts.tv_sec ||
              (after.tv_sec == ts.tv_sec && after.tv_nsec >= ts.tv_nsec));
}

std::atomic<int>* shared_flag;
void NoteRestart(int, siginfo_t*, void* uc) {
  // With SA_RESTART the kernel has already rewound the call: rax holds
  // its number again (Linux's handle_signal before the frame).
  auto* ctx = static_cast<ucontext_t*>(uc);
  if (ctx->uc_mcontext.gregs[REG_RAX] == SYS_mq_timedreceive)
    shared_flag->store(1);
}
void Nothing(int) {}

TEST(MqueueTest, SignalInterrupts) {
  Queue q(O_RDWR, 1, 8);
  ASSERT_GE(q.fd(), 0);
  // Without SA_RESTART: EINTR. A signal before the call only runs the
  // handler, so send until one interrupts it. SIGUSR1 stays blocked until
  // the child has its handler.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr1, &old), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    struct sigaction sa {};
    sa.sa_handler = Nothing;
    sigaction(SIGUSR1, &sa, nullptr);
    sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    char buf[8];
    _exit(mq_receive(q.fd(), buf, sizeof buf, nullptr) == -1 && errno == EINTR
              ? 0
              : 1);
  }
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
  int status;
  pid_t r;
  while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
    kill(pid, SIGUSR1);
    sched_yield();
  }
  ASSERT_EQ(r, pid);
  EXPECT_EXIT_OK(status);

  // With SA_RESTART the call goes on and gets the message sent after it.
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  shared_flag = new (page) std::atomic<int>(0);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr1, nullptr), SyscallSucceeds());
  pid = fork();
  if (pid == 0) {
    struct sigaction sa {};
    sa.sa_sigaction = NoteRestart;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, nullptr);
    sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    char buf[8];
    ssize_t n = mq_receive(q.fd(), buf, sizeof buf, nullptr);
    _exit(n == 2 && memcmp(buf, "ok", 2) == 0 ? 0 : 1);
  }
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
  while (shared_flag->load() == 0) {
    kill(pid, SIGUSR1);
    sched_yield();
  }
  ASSERT_THAT(Send(q.fd(), "ok"), SyscallSucceeds());
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  munmap(page, 4096);
}

TEST(MqueueTest, NotifySignal) {
  Queue q(O_RDWR, 4, 8);
  ASSERT_GE(q.fd(), 0);
  sigset_t usr2, old;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &usr2, &old), SyscallSucceeds());
  sigevent sev{};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR2;
  sev.sigev_value.sival_int = 4242;
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  // One registration per queue, even for the same process.
  EXPECT_THAT(mq_notify(q.fd(), &sev), SyscallFailsWithErrno(EBUSY));
  // Another process can neither register nor remove it.
  EXPECT_EXIT_OK(InChild([&] {
    if (mq_notify(q.fd(), &sev) != -1 || errno != EBUSY) return 1;
    return mq_notify(q.fd(), nullptr) == 0 ? 0 : 2;
  }));
  EXPECT_EQ(ReadLine(q.fd()), Line(0, SIGEV_SIGNAL, SIGUSR2, getpid()));
  // A child's message on the empty queue: the signal, from the child.
  pid_t child = fork();
  if (child == 0) _exit(Send(q.fd(), "n") == 0 ? 0 : 1);
  timespec forever{100000, 0};
  siginfo_t info{};
  ASSERT_THAT(sigtimedwait(&usr2, &info, &forever),
              SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_code, SI_MESGQ);
  EXPECT_EQ(info.si_value.sival_int, 4242);
  EXPECT_EQ(info.si_pid, child);
  EXPECT_EQ(info.si_uid, getuid());
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EXIT_OK(status);
  // Fired once: the registration is gone.
  EXPECT_EQ(ReadLine(q.fd()), Line(1, 0, 0, 0));
  ASSERT_THAT(Send(q.fd(), "m"), SyscallSucceeds());
  timespec zero{0, 0};
  EXPECT_THAT(sigtimedwait(&usr2, &info, &zero), SyscallFailsWithErrno(EAGAIN));
  // Registered on a queue that is not empty: nothing until it empties and
  // a message arrives again.
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "o"), SyscallSucceeds());
  EXPECT_THAT(sigtimedwait(&usr2, &info, &zero), SyscallFailsWithErrno(EAGAIN));
  for (int i = 0; i < 3; i++) Receive(q.fd(), 8);
  ASSERT_THAT(Send(q.fd(), "p"), SyscallSucceeds());
  ASSERT_THAT(sigtimedwait(&usr2, &info, &zero),
              SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_pid, getpid());
  // Removed by its owner: no signal.
  Receive(q.fd(), 8);
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  ASSERT_THAT(mq_notify(q.fd(), nullptr), SyscallSucceeds());
  ASSERT_THAT(Send(q.fd(), "q"), SyscallSucceeds());
  EXPECT_THAT(sigtimedwait(&usr2, &info, &zero), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

TEST(MqueueTest, NotifyNoneAndBadArguments) {
  Queue q;
  ASSERT_GE(q.fd(), 0);
  sigevent sev{};
  sev.sigev_notify = SIGEV_NONE;
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  EXPECT_THAT(mq_notify(q.fd(), &sev), SyscallFailsWithErrno(EBUSY));
  // SIGEV_NONE fires silently and is gone.
  ASSERT_THAT(Send(q.fd(), "x"), SyscallSucceeds());
  EXPECT_EQ(ReadLine(q.fd()), Line(1, 0, 0, 0));
  ASSERT_THAT(mq_notify(q.fd(), &sev), SyscallSucceeds());
  ASSERT_THAT(mq_notify(q.fd(), nullptr), SyscallSucceeds());
  sev.sigev_notify = 99;
  EXPECT_THAT(mq_notify(q.fd(), &sev), SyscallFailsWithErrno(EINVAL));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = 65;
  EXPECT_THAT(mq_notify(q.fd(), &sev), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_mq_notify, q.fd(), BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // SIGEV_THREAD, as the syscall sees it: sigev_signo is a netlink socket
  // and sival_ptr its cookie.
  char cookie[32] = {};
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_value.sival_ptr = cookie;
  sev.sigev_signo = -1;
  EXPECT_THAT(syscall(SYS_mq_notify, q.fd(), &sev),
              SyscallFailsWithErrno(EBADF));
  sev.sigev_signo = q.fd();
  EXPECT_THAT(syscall(SYS_mq_notify, q.fd(), &sev),
              SyscallFailsWithErrno(ENOTSOCK));
  sev.sigev_value.sival_ptr = BadAddress();
  EXPECT_THAT(syscall(SYS_mq_notify, q.fd(), &sev),
              SyscallFailsWithErrno(EFAULT));
}

TEST(MqueueTest, Permissions) {
  // The owner's bits apply to the owner unless it is root.
  Queue q(O_RDWR, 0, 0, 0200);
  ASSERT_GE(q.fd(), 0);
  mqd_t r = mq_open(q.name().c_str(), O_RDONLY);
  if (geteuid() == 0) {
    EXPECT_GE(r, 0);
    mq_close(r);
  } else {
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, EACCES);
  }
  mqd_t w = mq_open(q.name().c_str(), O_WRONLY);
  EXPECT_GE(w, 0);
  mq_close(w);
  if (geteuid() != 0) return;  // the rest needs another user
  Queue shared(O_RDWR, 0, 0, 0644);
  ASSERT_GE(shared.fd(), 0);
  int status = AsNobody([&] {
    mqd_t a = mq_open(q.name().c_str(), O_WRONLY);
    if (a != -1 || errno != EACCES) return 1;
    mqd_t b = mq_open(shared.name().c_str(), O_RDONLY);
    if (b < 0) return 2;
    mqd_t c = mq_open(shared.name().c_str(), O_RDWR);
    if (c != -1 || errno != EACCES) return 3;
    // The mqueue root is sticky: only the owner or root unlinks.
    if (syscall(SYS_mq_unlink, shared.raw()) != -1 || errno != EPERM) return 4;
    if (mq_unlink(shared.name().c_str()) != -1 || errno != EACCES) return 5;
    // What nobody creates, nobody owns (fsuid/fsgid).
    Queue mine(O_RDWR, 0, 0, 0640);
    struct stat st;
    if (mine.fd() < 0 || fstat(mine.fd(), &st) != 0) return 6;
    return st.st_uid == 65534 && st.st_gid == 65534 ? 0 : 7;
  });
  EXPECT_EXIT_OK(status);
}

TEST(MqueueTest, UmaskApplies) {
  mode_t old = umask(077);
  Queue q(O_RDWR, 0, 0, 0666);
  umask(old);
  ASSERT_GE(q.fd(), 0);
  struct stat st;
  ASSERT_THAT(fstat(q.fd(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFREG | 0600);
}

TEST(MqueueTest, IpcNamespace) {
  if (geteuid() != 0) GTEST_SKIP() << "unshare(CLONE_NEWIPC) needs root";
  Queue q;
  ASSERT_GE(q.fd(), 0);
  EXPECT_EXIT_OK(InChild([&] {
    if (unshare(CLONE_NEWIPC) != 0) return 1;
    if (mq_open(q.name().c_str(), O_RDWR) != -1 || errno != ENOENT) return 2;
    // The descriptor still reaches the old namespace's queue.
    if (Send(q.fd(), "still") != 0) return 3;
    Queue mine;
    return mine.fd() >= 0 ? 0 : 4;
  }));
  EXPECT_EQ(Receive(q.fd()), "0:still");
}

}  // namespace
}  // namespace syscall_test
