// signalfd/signalfd4: argument errors, flags, the mask rules (SIGKILL and
// SIGSTOP dropped, an existing signalfd updated), reads of 128-byte
// signalfd_siginfo records (kill, sigqueue, timers, SIGCHLD, several at
// once), the reader's own pending signals (thread and process), poll
// readiness, blocking reads (woken, interrupted, the fd closed meanwhile),
// fork and fdinfo.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdint>

#include "cpu_spin.h"
#include "event_util.h"

namespace syscall_test {
namespace {

static_assert(sizeof(signalfd_siginfo) == 128);

sigset_t SetOf(std::initializer_list<int> sigs) {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : sigs) sigaddset(&s, sig);
  return s;
}

FileDescriptor Signalfd(std::initializer_list<int> sigs,
                        int flags = SFD_CLOEXEC | SFD_NONBLOCK) {
  sigset_t s = SetOf(sigs);
  const int fd = signalfd(-1, &s, flags);
  EXPECT_GE(fd, 0) << ErrnoName(errno);
  return FileDescriptor(fd);
}

TEST(Signalfd, Errors) {
  uint64_t mask = 0;
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &mask, 4, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &mask, 16, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, &mask, 8, O_RDWR),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd4, -1, BadAddress(), 8, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_signalfd4, -2, &mask, 8, 0),
              SyscallFailsWithErrno(EBADF));
  FileDescriptor other(eventfd(0, EFD_CLOEXEC));
  EXPECT_THAT(syscall(SYS_signalfd4, other.get(), &mask, 8, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_signalfd, other.get(), &mask, 8),
              SyscallFailsWithErrno(EINVAL));
}

TEST(Signalfd, Flags) {
  FileDescriptor fd = Signalfd({SIGUSR1});
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  uint64_t mask = 0;
  FileDescriptor old(syscall(SYS_signalfd, -1, &mask, 8));
  ASSERT_GE(old.get(), 0);
  EXPECT_THAT(fcntl(old.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(old.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR));
  signalfd_siginfo si;
  EXPECT_THAT(read(fd.get(), &si, sizeof si), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(read(fd.get(), &si, sizeof si - 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), &si, sizeof si), SyscallFailsWithErrno(EINVAL));
  char link[64] = {};
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_THAT(readlink(proc.c_str(), link, sizeof link - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[signalfd]");
}

TEST(Signalfd, MaskRules) {
  uint64_t all = ~uint64_t{0};
  FileDescriptor fd(syscall(SYS_signalfd4, -1, &all, 8, SFD_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  EXPECT_EQ(FdinfoField(fd.get(), "sigmask:"), "fffffffffffbfeff");
  // An existing signalfd takes a new mask and returns its own fd; the
  // flags are not looked at then.
  uint64_t usr1 = uint64_t{1} << (SIGUSR1 - 1);
  EXPECT_THAT(syscall(SYS_signalfd4, fd.get(), &usr1, 8, SFD_NONBLOCK),
              SyscallSucceedsWithValue(fd.get()));
  EXPECT_EQ(FdinfoField(fd.get(), "sigmask:"), "0000000000000200");
  EXPECT_THAT(fcntl(fd.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR));
}

TEST(Signalfd, ReadsKill) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  signalfd_siginfo si = {};
  ASSERT_THAT(read(fd.get(), &si, sizeof si), SyscallSucceedsWithValue(128));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(si.ssi_code, SI_USER);
  EXPECT_EQ(si.ssi_pid, static_cast<uint32_t>(getpid()));
  EXPECT_EQ(si.ssi_uid, getuid());
  // Taken: no longer pending.
  sigset_t pending;
  ASSERT_THAT(sigpending(&pending), SyscallSucceeds());
  EXPECT_FALSE(sigismember(&pending, SIGUSR1));
  EXPECT_THAT(read(fd.get(), &si, sizeof si), SyscallFailsWithErrno(EAGAIN));
}

TEST(Signalfd, ReadsSeveralInOrder) {
  const int rt = SIGRTMIN + 1;
  ScopedBlock block({SIGUSR1, SIGUSR2, rt});
  FileDescriptor fd = Signalfd({SIGUSR1, SIGUSR2, rt});
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  for (int v : {7, 8}) {
    sigval val;
    val.sival_int = v;
    ASSERT_THAT(sigqueue(getpid(), rt, val), SyscallSucceeds());
  }
  signalfd_siginfo si[5] = {};
  // Whole records only: 300 bytes hold two.
  ASSERT_THAT(read(fd.get(), si, 300), SyscallSucceedsWithValue(256));
  EXPECT_EQ(si[0].ssi_signo, static_cast<uint32_t>(SIGUSR1));
  EXPECT_EQ(si[1].ssi_signo, static_cast<uint32_t>(SIGUSR2));
  ASSERT_THAT(read(fd.get(), si, sizeof si), SyscallSucceedsWithValue(256));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(si[i].ssi_signo, static_cast<uint32_t>(rt));
    EXPECT_EQ(si[i].ssi_code, SI_QUEUE);
    EXPECT_EQ(si[i].ssi_int, 7 + i);
    EXPECT_EQ(si[i].ssi_pid, static_cast<uint32_t>(getpid()));
  }
}

TEST(Signalfd, OnlyTheMask) {
  ScopedBlock block({SIGUSR1, SIGUSR2});
  FileDescriptor fd = Signalfd({SIGUSR1});
  ASSERT_THAT(kill(getpid(), SIGUSR2), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  signalfd_siginfo si;
  EXPECT_THAT(read(fd.get(), &si, sizeof si), SyscallFailsWithErrno(EAGAIN));
  // Widening the mask makes it readable.
  sigset_t both = SetOf({SIGUSR1, SIGUSR2});
  ASSERT_THAT(signalfd(fd.get(), &both, 0), SyscallSucceedsWithValue(fd.get()));
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  ASSERT_THAT(read(fd.get(), &si, sizeof si), SyscallSucceedsWithValue(128));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGUSR2));
}

TEST(Signalfd, TimerSignal) {
  ScopedBlock block({SIGALRM});
  FileDescriptor fd = Signalfd({SIGALRM}, SFD_CLOEXEC);
  sigevent ev = {};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGALRM;
  ev.sigev_value.sival_int = 42;
  timer_t timer;
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &ev, &timer), SyscallSucceeds());
  itimerspec its = {};
  its.it_value.tv_nsec = 1000000;
  ASSERT_THAT(timer_settime(timer, 0, &its, nullptr), SyscallSucceeds());
  signalfd_siginfo si = {};
  ASSERT_THAT(read(fd.get(), &si, sizeof si), SyscallSucceedsWithValue(128));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGALRM));
  EXPECT_EQ(si.ssi_code, SI_TIMER);
  EXPECT_EQ(si.ssi_int, 42);
  EXPECT_EQ(si.ssi_overrun, 0u);
  timer_delete(timer);
}

TEST(Signalfd, Sigchld) {
  ScopedBlock block({SIGCHLD});
  FileDescriptor fd = Signalfd({SIGCHLD}, SFD_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) _exit(3);
  ASSERT_GT(pid, 0);
  signalfd_siginfo si = {};
  ASSERT_THAT(read(fd.get(), &si, sizeof si), SyscallSucceedsWithValue(128));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGCHLD));
  EXPECT_EQ(si.ssi_code, CLD_EXITED);
  EXPECT_EQ(si.ssi_pid, static_cast<uint32_t>(pid));
  EXPECT_EQ(si.ssi_status, 3);
  ASSERT_THAT(waitpid(pid, nullptr, 0), SyscallSucceedsWithValue(pid));
}

// A signal sent to another thread is that thread's to read.
TEST(Signalfd, ThreadDirected) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1});
  std::atomic<pid_t> tid{0};
  std::atomic<bool> sent{false};
  long got = -1;
  std::thread other([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!sent) sched_yield();
    signalfd_siginfo si = {};
    got = read(fd.get(), &si, sizeof si) == 128 ? si.ssi_code : -1;
  });
  while (tid == 0) sched_yield();
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), tid.load(), SIGUSR1),
              SyscallSucceeds());
  signalfd_siginfo si;
  EXPECT_THAT(read(fd.get(), &si, sizeof si), SyscallFailsWithErrno(EAGAIN));
  struct pollfd p = {fd.get(), POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  sent = true;
  other.join();
  EXPECT_EQ(got, SI_TKILL);
}

TEST(Signalfd, BlockingReadWokenBySignal) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1}, SFD_CLOEXEC);
  BlockedCall reader([&] {
    signalfd_siginfo si = {};
    return read(fd.get(), &si, sizeof si) == 128 ? long{si.ssi_signo} : -1;
  });
  reader.WaitBlocked();
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(reader.Join(), SIGUSR1);
}

TEST(Signalfd, PollWokenBySignal) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1});
  BlockedCall poller([&] {
    struct pollfd p = {fd.get(), POLLIN, 0};
    return poll(&p, 1, -1) == 1 ? long{p.revents} : -1;
  });
  poller.WaitBlocked();
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(poller.Join(), POLLIN);
}

TEST(Signalfd, BlockingReadInterrupted) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1}, SFD_CLOEXEC);
  ExpectInterrupted(
      [&] {
        signalfd_siginfo si;
        return static_cast<long>(read(fd.get(), &si, sizeof si));
      },
      SIGUSR2);
}

TEST(Signalfd, CloseWhileBlocked) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor fd = Signalfd({SIGUSR1}, SFD_CLOEXEC);
  const int raw = fd.release();
  BlockedCall reader([&] {
    signalfd_siginfo si = {};
    return read(raw, &si, sizeof si) == 128 ? long{si.ssi_signo} : -1;
  });
  reader.WaitBlocked();
  ASSERT_THAT(close(raw), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(reader.Join(), SIGUSR1);
}

// After fork each process reads its own signals through the shared fd.
TEST(Signalfd, Fork) {
  ScopedBlock block({SIGUSR1, SIGUSR2});
  FileDescriptor fd = Signalfd({SIGUSR1, SIGUSR2});
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  const int code = InChild([&] {
    signalfd_siginfo si = {};
    // The parent's pending signal is not the child's.
    if (read(fd.get(), &si, sizeof si) != -1 || errno != EAGAIN) return 1;
    if (kill(getpid(), SIGUSR2) != 0) return 2;
    if (read(fd.get(), &si, sizeof si) != 128) return 3;
    return si.ssi_signo == SIGUSR2 ? 0 : 4;
  });
  EXPECT_EQ(code, 0);
  signalfd_siginfo si = {};
  ASSERT_THAT(read(fd.get(), &si, sizeof si), SyscallSucceedsWithValue(128));
  EXPECT_EQ(si.ssi_signo, static_cast<uint32_t>(SIGUSR1));
}

}  // namespace
}  // namespace syscall_test
