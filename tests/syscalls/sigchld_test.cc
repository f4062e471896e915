// The parent's SIGCHLD: queued before wait(2) can see the event, what
// SA_NOCLDWAIT, SA_NOCLDSTOP and SIG_IGN change.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

// Blocks SIGCHLD for the test and drains it afterwards; restores the
// old mask and action.
class ScopedSigchld {
 public:
  explicit ScopedSigchld(const struct sigaction* act = nullptr) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set_, &old_mask_);
    sigaction(SIGCHLD, act, &old_act_);
  }
  ~ScopedSigchld() {
    Drain();
    sigaction(SIGCHLD, &old_act_, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  bool Pending() {
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGCHLD);
  }
  void Drain() {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) == SIGCHLD) {
    }
  }

 private:
  sigset_t set_, old_mask_;
  struct sigaction old_act_;
};

TEST(SigchldTest, PendingOnceWaitFindsTheExit) {
  ScopedSigchld chld;
  // A race, if there is one, shows up in some of the rounds.
  for (int i = 0; i < 50; ++i) {
    chld.Drain();
    pid_t pid = fork();
    ASSERT_THAT(pid, SyscallSucceeds());
    if (pid == 0) _exit(0);
    ASSERT_THAT(waitpid(pid, nullptr, 0), SyscallSucceedsWithValue(pid));
    ASSERT_TRUE(chld.Pending()) << "round " << i;
  }
}

TEST(SigchldTest, PendingOnceWaitFindsTheStop) {
  ScopedSigchld chld;
  for (int i = 0; i < 10; ++i) {
    chld.Drain();
    pid_t pid = fork();
    ASSERT_THAT(pid, SyscallSucceeds());
    if (pid == 0) {
      raise(SIGSTOP);
      _exit(0);
    }
    int status;
    ASSERT_THAT(waitpid(pid, &status, WUNTRACED),
                SyscallSucceedsWithValue(pid));
    ASSERT_TRUE(WIFSTOPPED(status));
    EXPECT_TRUE(chld.Pending()) << "round " << i;
    ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
    ASSERT_THAT(waitpid(pid, nullptr, 0), SyscallSucceedsWithValue(pid));
  }
}

TEST(SigchldTest, NocldwaitReapsButStillSignals) {
  struct sigaction sa = {};
  sa.sa_handler = +[](int) {};
  sa.sa_flags = SA_NOCLDWAIT;
  ScopedSigchld chld(&sa);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(0);
  // No zombie is left to wait for: wait blocks until the child is gone,
  // then fails.
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_TRUE(chld.Pending());
}

TEST(SigchldTest, IgnoredReapsWithoutASignal) {
  struct sigaction sa = {};
  sa.sa_handler = SIG_IGN;
  ScopedSigchld chld(&sa);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(0);
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  // Blocked and ignored: Linux queues a blocked signal even when ignored,
  // but do_notify_parent does not send it at all.
  EXPECT_FALSE(chld.Pending());
}

TEST(SigchldTest, NocldstopSilencesStopsNotExits) {
  struct sigaction sa = {};
  sa.sa_handler = +[](int) {};
  sa.sa_flags = SA_NOCLDSTOP;
  ScopedSigchld chld(&sa);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    raise(SIGSTOP);
    _exit(3);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, WUNTRACED), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFSTOPPED(status));
  EXPECT_FALSE(chld.Pending());
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
  EXPECT_TRUE(chld.Pending());
}

}  // namespace
}  // namespace syscall_test
