// wait4(2)/waitid(2) when no child can report what is asked for: a zombie
// counts only for WEXITED (else ECHILD, never a wait without end), also
// one that stopped or continued before it died; __WCLONE/__WALL and
// __WNOTHREAD choose which children count.
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "test_util.h"

namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

// The raw call: glibc's waitid has no rusage argument.
long Waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  return syscall(SYS_waitid, type, id, info, options, nullptr);
}

// A child that exits with `code` at once (with exit signal `sig`), left
// a zombie: waitid(WNOWAIT) sees it exited without reaping it.
pid_t Zombie(int code, int sig = SIGCHLD) {
  pid_t pid = syscall(SYS_clone, sig, 0, 0, 0, 0);
  if (pid == 0) _exit(code);
  siginfo_t info{};
  if (pid < 0 || Waitid(P_PID, pid, &info, WEXITED | WNOWAIT | __WALL) != 0)
    return -1;
  return pid;
}

// Reaps `pid` (with wait4 `options`) and returns its exit code, -1 if it
// did not exit normally.
int ExitCode(pid_t pid, int options = 0) {
  int status = 0;
  if (waitpid(pid, &status, options) != pid) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A child blocked reading a pipe until Release(); it then exits with 3.
struct Blocked {
  pid_t pid = -1;
  int release = -1;
  Blocked() {
    int p[2];
    if (pipe(p) != 0) return;
    pid = fork();
    if (pid == 0) {
      char c;
      close(p[1]);
      _exit(read(p[0], &c, 1) == 0 ? 3 : 4);
    }
    close(p[0]);
    release = p[1];
  }
  void Release() {
    close(release);
    release = -1;
  }
  ~Blocked() {
    if (release >= 0) close(release);
  }
};

constexpr int kNotExited[] = {WSTOPPED, WCONTINUED, WSTOPPED | WCONTINUED};

TEST(WaitWithoutWexitedTest, AZombieAloneIsEchild) {
  const pid_t z = Zombie(7);
  ASSERT_GT(z, 0);
  for (int flags : kNotExited) {
    SCOPED_TRACE(flags);
    siginfo_t info{};
    EXPECT_THAT(Waitid(P_ALL, 0, &info, flags | WNOHANG),
                SyscallFailsWithErrno(ECHILD));
    EXPECT_THAT(Waitid(P_PID, z, &info, flags | WNOHANG),
                SyscallFailsWithErrno(ECHILD));
    EXPECT_THAT(Waitid(P_PGID, 0, &info, flags | WNOHANG),
                SyscallFailsWithErrno(ECHILD));
    EXPECT_THAT(Waitid(P_ALL, 0, &info, flags | WNOHANG | __WALL),
                SyscallFailsWithErrno(ECHILD));
  }
  // Without WNOHANG too (only if the above holds: else this never ends).
  ASSERT_FALSE(HasFailure());
  for (int flags : kNotExited) {
    SCOPED_TRACE(flags);
    EXPECT_THAT(Waitid(P_ALL, 0, nullptr, flags),
                SyscallFailsWithErrno(ECHILD));
  }
  // The zombie is still there for WEXITED, its status intact.
  EXPECT_EQ(ExitCode(z), 7);
}

TEST(WaitWithoutWexitedTest, ALiveChildCounts) {
  Blocked b;
  ASSERT_GT(b.pid, 0);
  const pid_t z = Zombie(5);
  ASSERT_GT(z, 0);
  for (int flags : kNotExited) {
    SCOPED_TRACE(flags);
    siginfo_t info;
    memset(&info, 0xff, sizeof(info));
    EXPECT_THAT(Waitid(P_ALL, 0, &info, flags | WNOHANG), SyscallSucceeds());
    EXPECT_EQ(info.si_pid, 0);  // nothing to report yet
    EXPECT_THAT(Waitid(P_PID, z, &info, flags | WNOHANG),
                SyscallFailsWithErrno(ECHILD));
  }
  b.Release();
  EXPECT_EQ(ExitCode(b.pid), 3);
  EXPECT_EQ(ExitCode(z), 5);
}

TEST(WaitWithoutWexitedTest, TheOnlyChildExitingEndsTheWait) {
  // A zombie must not count (else the wait below never ends).
  const pid_t z = Zombie(1);
  ASSERT_GT(z, 0);
  ASSERT_THAT(Waitid(P_ALL, 0, nullptr, WSTOPPED | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  ASSERT_EQ(ExitCode(z), 1);
  for (int flags : kNotExited) {
    SCOPED_TRACE(flags);
    Blocked b;
    ASSERT_GT(b.pid, 0);
    // Released while we wait (or just before: ECHILD either way).
    std::thread releaser([&] { b.Release(); });
    EXPECT_THAT(Waitid(P_ALL, 0, nullptr, flags),
                SyscallFailsWithErrno(ECHILD));
    releaser.join();
    EXPECT_EQ(ExitCode(b.pid), 3);
  }
}

TEST(WaitWithoutWexitedTest, StopOrContinueOfAZombieIsNotReported) {
  // Stopped, then killed before the parent asked about the stop.
  pid_t pid = fork();
  if (pid == 0) {
    raise(SIGSTOP);
    _exit(1);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(Waitid(P_PID, pid, &info, WSTOPPED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  ASSERT_THAT(Waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_THAT(Waitid(P_PID, pid, &info, WSTOPPED | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  // Continued, then killed before the parent asked about the continue.
  pid = fork();
  if (pid == 0) {
    raise(SIGSTOP);
    for (;;) pause();
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFSTOPPED(status));
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(Waitid(P_PID, pid, &info, WCONTINUED | WNOWAIT),
              SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  ASSERT_THAT(Waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_THAT(Waitid(P_PID, pid, &info, WCONTINUED | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  ASSERT_THAT(waitpid(pid, &status, WCONTINUED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST(WaitCloneTest, ACloneZombieCountsOnlyForWcloneOrWall) {
  const pid_t z = Zombie(9, /*sig=*/0);
  ASSERT_GT(z, 0);
  siginfo_t info{};
  EXPECT_THAT(Waitid(P_ALL, 0, &info, WEXITED | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(-1, nullptr, WNOHANG), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(-1, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(z, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(Waitid(P_ALL, 0, &info, WSTOPPED | __WCLONE | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  ASSERT_FALSE(HasFailure());  // else the wait below never ends
  EXPECT_THAT(Waitid(P_ALL, 0, &info, WSTOPPED | __WCLONE),
              SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(z, __WCLONE), 9);

  // A SIGCHLD zombie does not count for __WCLONE.
  const pid_t y = Zombie(8);
  ASSERT_GT(y, 0);
  EXPECT_THAT(waitpid(-1, nullptr, __WCLONE), SyscallFailsWithErrno(ECHILD));
  int status = 0;
  EXPECT_THAT(waitpid(-1, &status, __WALL), SyscallSucceedsWithValue(y));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 8) << status;
}

// fork(2) from another thread, which waits (with __WNOTHREAD) only once
// `go` is set; returns what that wait found.
struct ForkingThread {
  std::atomic<pid_t> child{0};
  std::atomic<int> go{0};
  pid_t found = 0;
  std::thread thread{[this] {
    pid_t pid = fork();
    if (pid == 0) _exit(6);
    child.store(pid);
    syscall(SYS_futex, &child, FUTEX_WAKE_PRIVATE, 1);
    while (go.load() == 0)
      syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, nullptr);
    found = waitpid(-1, nullptr, __WNOTHREAD);
  }};
  pid_t Child() {
    while (child.load() == 0)
      syscall(SYS_futex, &child, FUTEX_WAIT_PRIVATE, 0, nullptr);
    return child.load();
  }
  pid_t Finish() {
    go.store(1);
    syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1);
    thread.join();
    return found;
  }
};

TEST(WaitNothreadTest, OnlyTheCallingThreadsChildren) {
  ForkingThread t;
  const pid_t c = t.Child();
  ASSERT_GT(c, 0);
  siginfo_t info{};
  ASSERT_THAT(Waitid(P_PID, c, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, c);  // any thread's child, without __WNOTHREAD
  EXPECT_THAT(Waitid(P_ALL, 0, &info, WEXITED | WNOHANG | __WNOTHREAD),
              SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(c, nullptr, __WNOTHREAD), SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(t.Finish(), c);
}

}  // namespace
