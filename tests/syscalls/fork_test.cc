// fork(2), vfork(2), clone(2) as fork, wait4(2), waitid(2) (execve(2)
// is exec_test.cc's).
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "test_util.h"

namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

int g_value = 1;

// Waits for `pid` and returns its wait status.
int WaitFor(pid_t pid) {
  int status = -1;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  return status;
}

TEST(ForkTest, ChildExitStatusReachesParent) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(42);
  int status = WaitFor(pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST(ForkTest, ChildSeesItsParentAndNewPid) {
  pid_t parent = getpid();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    bool ok = getppid() == parent && getpid() != parent &&
              syscall(SYS_gettid) == getpid();
    _exit(ok ? 0 : 1);
  }
  EXPECT_NE(pid, parent);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
}

TEST(ForkTest, MemoryIsCopiedNotShared) {
  g_value = 1;
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    g_value = 2;
    _exit(g_value == 2 ? 0 : 1);
  }
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
  EXPECT_EQ(g_value, 1);
}

TEST(ForkTest, FdsAreInherited) {
  int fd = open("/dev/null", O_WRONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(write(fd, "x", 1) == 1 ? 0 : 1);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
  close(fd);
}

TEST(ForkTest, ChildKilledBySignal) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // The default action of SIGSEGV ends the child.
    *static_cast<volatile int*>(nullptr) = 1;
    _exit(0);
  }
  int status = WaitFor(pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

TEST(ForkTest, RawCloneWithSigchldIsFork) {
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(7);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 7);
}

TEST(ForkTest, VforkParentResumesAfterChildExits) {
  pid_t pid = vfork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(3);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 3);
}

TEST(WaitTest, StopAndContinueAreReported) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    for (;;) pause();
  }
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFSTOPPED(status));
  EXPECT_EQ(WSTOPSIG(status), SIGSTOP);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, WCONTINUED),
              SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFCONTINUED(status));
  // The SIGCHLDs (CLD_STOPPED, CLD_CONTINUED) are pending: SIGCHLD is
  // ignored by default, so check through waitid's record only.
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  EXPECT_EQ(WTERMSIG(WaitFor(pid)), SIGKILL);
}

TEST(WaitTest, StopSendsSigchldWithCldStopped) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  // The child exits only when told: SIGCHLD is a standard signal, so an
  // exit right after the continue could merge with its CLD_CONTINUED.
  int go[2];
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(go[1]);
    raise(SIGSTOP);
    char c;
    _exit(read(go[0], &c, 1) == 0 ? 0 : 1);
  }
  close(go[0]);
  siginfo_t info{};
  ASSERT_THAT(sigwaitinfo(&set, &info), SyscallSucceedsWithValue(SIGCHLD));
  EXPECT_EQ(info.si_code, CLD_STOPPED);
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_status, SIGSTOP);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(sigwaitinfo(&set, &info), SyscallSucceedsWithValue(SIGCHLD));
  EXPECT_EQ(info.si_code, CLD_CONTINUED);
  close(go[1]);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
  // The exit's SIGCHLD.
  ASSERT_THAT(sigwaitinfo(&set, &info), SyscallSucceedsWithValue(SIGCHLD));
  EXPECT_EQ(info.si_code, CLD_EXITED);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

TEST(WaitTest, NoChildrenIsEchild) {
  EXPECT_THAT(waitpid(-1, nullptr, WNOHANG), SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(-1, nullptr, 0), SyscallFailsWithErrno(ECHILD));
}

TEST(WaitTest, NohangWhileChildRuns) {
  int hold[2];
  ASSERT_THAT(pipe(hold), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // Runs until the parent closes its end: EOF.
    char c;
    close(hold[1]);
    _exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
  }
  close(hold[0]);
  EXPECT_THAT(waitpid(pid, nullptr, WNOHANG), SyscallSucceedsWithValue(0));
  close(hold[1]);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
}

TEST(WaitTest, SpecificPidAmongSeveral) {
  pid_t a = fork();
  ASSERT_THAT(a, SyscallSucceeds());
  if (a == 0) _exit(1);
  pid_t b = fork();
  ASSERT_THAT(b, SyscallSucceeds());
  if (b == 0) _exit(2);
  EXPECT_EQ(WEXITSTATUS(WaitFor(b)), 2);
  EXPECT_EQ(WEXITSTATUS(WaitFor(a)), 1);
  EXPECT_THAT(waitpid(a, nullptr, 0), SyscallFailsWithErrno(ECHILD));
}

TEST(WaitTest, BadOptions) {
  EXPECT_THAT(waitpid(-1, nullptr, 0x4000000), SyscallFailsWithErrno(EINVAL));
  siginfo_t info;
  EXPECT_THAT(waitid(P_ALL, 0, &info, WNOHANG),
              SyscallFailsWithErrno(EINVAL));  // none of WEXITED...
}

TEST(WaitTest, WaitidNowaitLeavesTheZombie) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(5);
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_signo, SIGCHLD);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 5);
  info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_status, 5);
  EXPECT_THAT(waitid(P_PID, pid, &info, WEXITED),
              SyscallFailsWithErrno(ECHILD));
}

TEST(ProcessGroupTest, SetpgidAndSetsid) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    pid_t self = getpid();
    if (setpgid(0, 0) != 0 || getpgrp() != self || getpgid(0) != self)
      _exit(1);
    // A group leader may not start a session...
    if (setsid() != -1 || errno != EPERM) _exit(2);
    pid_t grandchild = fork();
    if (grandchild == 0) {
      // ...but its child, not a group leader, may.
      _exit(setsid() == getpid() && getsid(0) == getpid() &&
                    getpgrp() == getpid()
                ? 0
                : 3);
    }
    int status;
    if (waitpid(grandchild, &status, 0) != grandchild) _exit(4);
    _exit(WEXITSTATUS(status));
  }
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
}

TEST(ProcessGroupTest, ParentMovesChildToItsOwnGroup) {
  int go[2];
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // Wait until the parent has moved us, however slow it is.
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(2);
    _exit(getpgrp() == getpid() ? 0 : 1);
  }
  close(go[0]);
  EXPECT_THAT(setpgid(pid, pid), SyscallSucceeds());
  EXPECT_EQ(getpgid(pid), pid);
  ASSERT_THAT(write(go[1], "x", 1), SyscallSucceedsWithValue(1));
  close(go[1]);
  EXPECT_EQ(WEXITSTATUS(WaitFor(pid)), 0);
}

TEST(ProcessGroupTest, Errors) {
  EXPECT_THAT(setpgid(-1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(setpgid(0, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getpgid(-1), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(getsid(-1), SyscallFailsWithErrno(ESRCH));
}

}  // namespace
