// kill/tkill/tgkill/rt_sigqueueinfo/rt_tgsigqueueinfo aimed at other
// processes and at process groups (signal_test.cc covers the caller).
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "cap_util.h"
#include "test_util.h"

namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

// A child that waits for EOF on a pipe, then exits 0.
struct Sleeper {
  pid_t pid = -1;
  int release = -1;
  Sleeper() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid = fork();
    if (pid == 0) {
      char c;
      close(fds[1]);
      _exit(read(fds[0], &c, 1) == 0 ? 0 : 1);
    }
    close(fds[0]);
    release = fds[1];
  }
  // The wait status once released.
  int Wait() {
    close(release);
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
  }
};

int TermSig(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }

TEST(KillTest, AnotherProcess) {
  Sleeper s;
  ASSERT_GT(s.pid, 0);
  EXPECT_THAT(kill(s.pid, 0), SyscallSucceeds());
  EXPECT_THAT(kill(s.pid, SIGTERM), SyscallSucceeds());
  EXPECT_EQ(TermSig(s.Wait()), SIGTERM);
  EXPECT_THAT(kill(s.pid, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, AProcessGroup) {
  Sleeper a, b;
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  ASSERT_THAT(setpgid(a.pid, a.pid), SyscallSucceeds());
  ASSERT_THAT(setpgid(b.pid, a.pid), SyscallSucceeds());
  EXPECT_THAT(kill(-a.pid, SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(TermSig(a.Wait()), SIGUSR1);
  EXPECT_EQ(TermSig(b.Wait()), SIGUSR1);
  EXPECT_THAT(kill(-a.pid, SIGUSR1), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, OwnGroupWithPidZero) {
  // A child leads a new group with a grandchild, signals the group with
  // kill(0, ...), and reports how both fared.
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    if (setpgid(0, 0) != 0) _exit(1);
    // The grandchild keeps the default action (it dies of the signal);
    // this process catches it.
    Sleeper g;
    if (g.pid < 0) _exit(2);
    static volatile sig_atomic_t got = 0;
    struct sigaction sa {};
    sa.sa_handler = +[](int) { got = 1; };
    sigaction(SIGUSR2, &sa, nullptr);
    if (kill(0, SIGUSR2) != 0) _exit(3);
    if (TermSig(g.Wait()) != SIGUSR2) _exit(4);
    _exit(got ? 0 : 5);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(KillTest, ThreadOfAnotherProcess) {
  Sleeper s;
  ASSERT_GT(s.pid, 0);
  // A process's first thread has its pid as tid.
  EXPECT_THAT(syscall(SYS_tgkill, s.pid, getpid(), SIGKILL),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tgkill, s.pid, s.pid, 0), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_tkill, s.pid, SIGKILL), SyscallSucceeds());
  EXPECT_EQ(TermSig(s.Wait()), SIGKILL);
  EXPECT_THAT(syscall(SYS_tkill, s.pid, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillTest, QueuedValueReachesAnotherProcess) {
  // The child must not take the signal before its handler is in place:
  // it is blocked until sigsuspend.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGRTMIN);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &block, &old), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    static volatile sig_atomic_t value = -1, sender = -1;
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = +[](int, siginfo_t* info, void*) {
      value = info->si_value.sival_int;
      sender = info->si_pid;
    };
    sigaction(SIGRTMIN, &sa, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigsuspend(&none);
    _exit(sender == getppid() ? value : 99);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  sigprocmask(SIG_SETMASK, &old, nullptr);
  siginfo_t info{};
  info.si_signo = SIGRTMIN;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = 42;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &info),
              SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST(KillTest, ForgedKernelSiginfoForAnotherProcessIsEperm) {
  Sleeper s;
  ASSERT_GT(s.pid, 0);
  siginfo_t info{};
  info.si_signo = SIGUSR1;
  info.si_code = SI_KERNEL;  // >= 0: only the kernel may claim it
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, s.pid, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(syscall(SYS_rt_tgsigqueueinfo, s.pid, s.pid, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  EXPECT_TRUE(WIFEXITED(s.Wait()));
}

TEST(KillTest, AnotherUsersProcessIsEperm) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  // A root process alone in its group.
  Sleeper victim;
  ASSERT_GT(victim.pid, 0);
  ASSERT_THAT(setpgid(victim.pid, victim.pid), SyscallSucceeds());
  const pid_t v = victim.pid;
  pid_t pid = fork();
  if (pid == 0) {
    if (setresuid(65534, 65534, 65534) != 0) _exit(1);
    if (kill(v, 0) != -1 || errno != EPERM) _exit(2);
    if (syscall(SYS_tgkill, v, v, 0) != -1 || errno != EPERM) _exit(3);
    // A group with no process the caller may signal: EPERM, not ESRCH.
    if (kill(-v, SIGKILL) != -1 || errno != EPERM) _exit(4);
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(WIFEXITED(victim.Wait()));
}

// Runs `body` in a child that drops to uid `uid` (keeping nothing), and
// returns its exit code.
int AsUser(uid_t uid, const std::function<int()>& body) {
  return syscall_test::InChild([&] {
    if (setresuid(uid, uid, uid) != 0) return 100;
    return body();
  });
}

TEST(KillTest, SigcontWithinTheSessionNeedsNoPermission) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  Sleeper victim;  // root, in our session
  ASSERT_GT(victim.pid, 0);
  const pid_t v = victim.pid;
  EXPECT_EQ(AsUser(65534,
                   [v] {
                     if (kill(v, SIGCONT) != 0) return 1;
                     if (kill(v, SIGTERM) != -1 || errno != EPERM) return 2;
                     // An invalid signal is EINVAL before the permission check.
                     if (kill(v, 1000) != -1 || errno != EINVAL) return 3;
                     // From another session, SIGCONT needs permission too.
                     if (setsid() < 0) return 4;
                     if (kill(v, SIGCONT) != -1 || errno != EPERM) return 5;
                     return 0;
                   }),
            0);
  EXPECT_TRUE(WIFEXITED(victim.Wait()));
}

TEST(KillTest, RootWithoutCapKillIsEperm) {
  if (getuid() != 0) GTEST_SKIP() << "needs root with CAP_KILL";
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  // A process of another user, in a session of its own.
  pid_t victim = fork();
  ASSERT_THAT(victim, SyscallSucceeds());
  if (victim == 0) {
    close(ready[0]);
    if (setsid() < 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    close(ready[1]);
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), syscall_test::SyscallSucceedsWithValue(0));
  close(ready[0]);
  EXPECT_EQ(syscall_test::InChild([victim] {
              // uid 0 still, but without CAP_KILL in the effective set.
              if (!syscall_test::DropEffectiveCap(CAP_KILL)) return 1;
              if (kill(victim, 0) != -1 || errno != EPERM) return 3;
              return 0;
            }),
            0);
  ASSERT_THAT(kill(victim, SIGKILL), SyscallSucceeds());
  ASSERT_THAT(waitpid(victim, nullptr, 0),
              syscall_test::SyscallSucceedsWithValue(victim));
}

}  // namespace
