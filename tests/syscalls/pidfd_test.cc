// pidfd_open, pidfd_send_signal, pidfd_getfd (with ptrace's access
// check), clone/clone3 CLONE_PIDFD, waitid(P_PIDFD) (O_NONBLOCK: EAGAIN),
// poll and epoll on a pidfd (readable at exit, hangup once reaped), and
// the fdinfo Pid line.
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdint>

#include "event_util.h"

namespace syscall_test {
namespace {

constexpr int kPPidfd = 3;  // P_PIDFD
constexpr unsigned PIDFD_NONBLOCK = O_NONBLOCK;

// Raw calls: glibc 2.36's wrappers are not usable from C++ here.
int pidfd_open(pid_t pid, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}
int pidfd_send_signal(int fd, int sig, siginfo_t* info, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, fd, sig, info, flags));
}
int pidfd_getfd(int fd, int target, unsigned flags) {
  return static_cast<int>(syscall(SYS_pidfd_getfd, fd, target, flags));
}

// A child that waits for a byte on `hold` (or its end) before it exits.
struct Child {
  pid_t pid = -1;
  FileDescriptor hold;  // close or write to let it go
};

Child Spawn(int code = 0) {
  int fds[2];
  EXPECT_THAT(pipe2(fds, O_CLOEXEC), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1);
    _exit(code);
  }
  close(fds[0]);
  return Child{pid, FileDescriptor(fds[1])};
}

short Revents(int fd, int timeout = 0) {
  struct pollfd p = {fd, POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, timeout), SyscallSucceeds());
  return p.revents;
}

TEST(Pidfd, OpenErrors) {
  ScopedSignalHandler handler(SIGUSR1);
  EXPECT_THAT(pidfd_open(getpid(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pidfd_open(0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pidfd_open(-1, 0), SyscallFailsWithErrno(EINVAL));
  // A thread's id names no process.
  BlockedCall thread([] { return static_cast<long>(pause()); });
  thread.WaitBlocked();
  EXPECT_THAT(pidfd_open(thread.tid(), 0), SyscallFailsWithErrno(ENOENT));
  thread.InterruptWith(SIGUSR1);
  thread.Join();
  Child c = Spawn();
  c.hold.reset();
  // A zombie has a pidfd; a reaped process has none.
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, c.pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  FileDescriptor zombie(pidfd_open(c.pid, 0));
  EXPECT_GE(zombie.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(waitpid(c.pid, nullptr, 0), SyscallSucceedsWithValue(c.pid));
  EXPECT_THAT(pidfd_open(c.pid, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(Pidfd, Flags) {
  FileDescriptor fd(pidfd_open(getpid(), PIDFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  EXPECT_EQ(FdinfoField(fd.get(), "Pid:"), std::to_string(getpid()));
  EXPECT_EQ(Revents(fd.get()), 0);
}

TEST(Pidfd, ReadableAtExitHangupWhenReaped) {
  Child c = Spawn(5);
  FileDescriptor fd(pidfd_open(c.pid, 0));
  ASSERT_GE(fd.get(), 0);
  EXPECT_EQ(Revents(fd.get()), 0);
  BlockedCall poller([&] { return static_cast<long>(Revents(fd.get(), -1)); });
  poller.WaitBlocked();
  c.hold.reset();
  EXPECT_EQ(poller.Join(), POLLIN);
  EXPECT_EQ(FdinfoField(fd.get(), "Pid:"), std::to_string(c.pid));  // zombie
  siginfo_t info = {};
  ASSERT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallSucceeds());
  EXPECT_EQ(info.si_pid, c.pid);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 5);
  EXPECT_EQ(Revents(fd.get()), POLLIN | POLLHUP);
  EXPECT_EQ(FdinfoField(fd.get(), "Pid:"), "-1");
  EXPECT_THAT(pidfd_send_signal(fd.get(), SIGKILL, nullptr, 0),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallFailsWithErrno(ECHILD));
}

TEST(Pidfd, Epoll) {
  Child c = Spawn();
  FileDescriptor fd(pidfd_open(c.pid, 0));
  FileDescriptor ep(epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u64 = 77;
  ASSERT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd.get(), &ev), SyscallSucceeds());
  EXPECT_THAT(epoll_wait(ep.get(), &ev, 1, 0), SyscallSucceedsWithValue(0));
  c.hold.reset();
  ASSERT_THAT(epoll_wait(ep.get(), &ev, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ev.data.u64, 77u);
  EXPECT_EQ(ev.events, static_cast<uint32_t>(EPOLLIN));
  ASSERT_THAT(waitpid(c.pid, nullptr, 0), SyscallSucceedsWithValue(c.pid));
}

TEST(Pidfd, WaitidNonblocking) {
  Child c = Spawn(3);
  FileDescriptor fd(pidfd_open(c.pid, PIDFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  siginfo_t info = {};
  EXPECT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info,
                     WEXITED | WNOHANG),
              SyscallSucceeds());
  EXPECT_EQ(info.si_pid, 0);
  FileDescriptor other(eventfd(0, EFD_CLOEXEC));
  EXPECT_THAT(waitid(static_cast<idtype_t>(kPPidfd), other.get(), &info, WEXITED),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(waitid(static_cast<idtype_t>(kPPidfd), -1, &info, WEXITED),
              SyscallFailsWithErrno(EINVAL));
  c.hold.reset();
  ASSERT_THAT(poll(std::array<pollfd, 1>{{{fd.get(), POLLIN, 0}}}.data(), 1, -1),
              SyscallSucceedsWithValue(1));
  ASSERT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallSucceeds());
  EXPECT_EQ(info.si_status, 3);
}

TEST(Pidfd, SendSignal) {
  Child c = Spawn();
  FileDescriptor fd(pidfd_open(c.pid, 0));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(pidfd_send_signal(fd.get(), SIGKILL, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  // PIDFD_SIGNAL_THREAD_GROUP is what a process pidfd does anyway.
  EXPECT_THAT(pidfd_send_signal(fd.get(), 0, nullptr, 2), SyscallSucceeds());
  FileDescriptor other(eventfd(0, EFD_CLOEXEC));
  EXPECT_THAT(pidfd_send_signal(other.get(), SIGKILL, nullptr, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pidfd_send_signal(fd.get(), 65, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pidfd_send_signal(fd.get(), 0, nullptr, 0), SyscallSucceeds());
  // A siginfo that claims to come from kill(2) only to oneself.
  siginfo_t info = {};
  info.si_signo = SIGUSR1;
  info.si_code = SI_USER;
  EXPECT_THAT(pidfd_send_signal(fd.get(), SIGUSR1, &info, 0),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(pidfd_send_signal(fd.get(), SIGUSR2, &info, 0),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(pidfd_send_signal(fd.get(), SIGKILL, nullptr, 0), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(c.pid, &status, 0), SyscallSucceedsWithValue(c.pid));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(Pidfd, SendSignalQueueToSelf) {
  ScopedSignalHandler handler(SIGUSR1);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  FileDescriptor fd(pidfd_open(getpid(), 0));
  siginfo_t info = {};
  info.si_signo = SIGUSR1;
  info.si_code = SI_QUEUE;
  info.si_int = 99;
  ASSERT_THAT(pidfd_send_signal(fd.get(), SIGUSR1, &info, 0), SyscallSucceeds());
  siginfo_t got = {};
  const timespec zero = {0, 0};
  ASSERT_THAT(sigtimedwait(&set, &got, &zero), SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(got.si_code, SI_QUEUE);
  EXPECT_EQ(got.si_int, 99);
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

TEST(Pidfd, Getfd) {
  FileDescriptor efd(eventfd(7, EFD_CLOEXEC));
  FileDescriptor self(pidfd_open(getpid(), 0));
  EXPECT_THAT(pidfd_getfd(self.get(), efd.get(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pidfd_getfd(efd.get(), efd.get(), 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pidfd_getfd(self.get(), 999, 0), SyscallFailsWithErrno(EBADF));
  FileDescriptor got(pidfd_getfd(self.get(), efd.get(), 0));
  ASSERT_GE(got.get(), 0);
  EXPECT_THAT(fcntl(got.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  uint64_t v = 0;
  ASSERT_THAT(read(got.get(), &v, 8), SyscallSucceedsWithValue(8));
  EXPECT_EQ(v, 7u);  // the same description
  // Another process's fd: its descendant's.
  int fds[2];
  ASSERT_THAT(pipe2(fds, O_CLOEXEC), SyscallSucceeds());
  Child c = Spawn();
  FileDescriptor child(pidfd_open(c.pid, 0));
  // The child has the pipe's read end at fds[0] (fork copied it).
  FileDescriptor theirs(pidfd_getfd(child.get(), fds[0], 0));
  ASSERT_GE(theirs.get(), 0);
  ASSERT_THAT(write(fds[1], "z", 1), SyscallSucceedsWithValue(1));
  char ch = 0;
  ASSERT_THAT(read(theirs.get(), &ch, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(ch, 'z');
  close(fds[0]);
  close(fds[1]);
  c.hold.reset();
  ASSERT_THAT(waitpid(c.pid, nullptr, 0), SyscallSucceedsWithValue(c.pid));
}

TEST(Pidfd, GetfdNeedsPtraceAccess) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  // A child that becomes another user may not be inspected by its parent
  // after the parent drops CAP_SYS_PTRACE too: done in a grandchild.
  const int code = InChild([] {
    Child c = Spawn();
    FileDescriptor fd(pidfd_open(c.pid, 0));
    if (fd.get() < 0) return 1;
    if (setresuid(65534, 65534, 65534) != 0) return 2;
    const int r = pidfd_getfd(fd.get(), 0, 0);
    const int err = errno;
    kill(c.pid, SIGKILL);
    // The child is still root: its fds are not ours.
    return r == -1 && err == EPERM ? 0 : 3;
  });
  EXPECT_EQ(code, 0);
}

TEST(Pidfd, ClonePidfd) {
  int pidfd = -1;
  const long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, nullptr, &pidfd,
                           nullptr, nullptr);
  if (pid == 0) _exit(4);
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  FileDescriptor fd(pidfd);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_EQ(Revents(fd.get(), -1), POLLIN);
  siginfo_t info = {};
  ASSERT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_status, 4);
  // clone(2) writes the pidfd where the parent tid would go.
  EXPECT_THAT(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD,
                      nullptr, &pidfd, nullptr, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, nullptr,
                      BadAddress<int>(), nullptr, nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(Pidfd, Clone3Pidfd) {
  int pidfd = -1;
  clone_args args = {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  const long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(6);
  ASSERT_GT(pid, 0);
  FileDescriptor fd(pidfd);
  ASSERT_GE(fd.get(), 0);
  siginfo_t info = {};
  ASSERT_THAT(waitid(static_cast<idtype_t>(kPPidfd), fd.get(), &info, WEXITED),
              SyscallSucceeds());
  EXPECT_EQ(info.si_status, 6);
}

}  // namespace
}  // namespace syscall_test
