// What kill/tkill/tgkill/rt_(tg)sigqueueinfo find: zombies (signalled in
// vain, their status kept), a thread id given to kill(2) (its process),
// a leader that exited before its process, threads that are gone.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "test_util.h"

namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

long Tkill(pid_t tid, int sig) { return syscall(SYS_tkill, tid, sig); }
long Tgkill(pid_t tgid, pid_t tid, int sig) {
  return syscall(SYS_tgkill, tgid, tid, sig);
}
siginfo_t QueueInfo(int sig, int value) {
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = value;
  return info;
}
long Sigqueue(pid_t pid, int sig, int value) {
  siginfo_t info = QueueInfo(sig, value);
  return syscall(SYS_rt_sigqueueinfo, pid, sig, &info);
}
long Tgsigqueue(pid_t tgid, pid_t tid, int sig, int value) {
  siginfo_t info = QueueInfo(sig, value);
  return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &info);
}

// A child that exits with `code` at once, left a zombie: waitid(WNOWAIT)
// sees it exited without reaping it.
pid_t Zombie(int code) {
  pid_t pid = fork();
  if (pid == 0) _exit(code);
  siginfo_t info{};
  if (pid < 0 || waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0) return -1;
  return pid;
}

// The wait status of `pid`, reaped.
int Reap(pid_t pid) {
  int status = -1;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

// Waits until thread `tid` of this process no longer exists (after
// pthread_join, its exit may still be under way).
bool AwaitThreadGone(pid_t tid) {
  for (int i = 0; i < 1000000; ++i) {
    if (Tgkill(getpid(), tid, 0) != 0) return errno == ESRCH;
    sched_yield();
  }
  return false;
}

TEST(KillZombieTest, EveryCallSucceedsAndTheStatusStays) {
  const pid_t z = Zombie(7);
  ASSERT_GT(z, 0);
  EXPECT_THAT(kill(z, 0), SyscallSucceeds());
  EXPECT_THAT(kill(z, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(kill(z, SIGTERM), SyscallSucceeds());
  EXPECT_THAT(Tkill(z, 0), SyscallSucceeds());
  EXPECT_THAT(Tkill(z, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(Tgkill(z, z, SIGKILL), SyscallSucceeds());
  EXPECT_THAT(Sigqueue(z, SIGUSR1, 1), SyscallSucceeds());
  EXPECT_THAT(Tgsigqueue(z, z, SIGUSR1, 1), SyscallSucceeds());
  // Still the wrong thread group for tgkill.
  EXPECT_THAT(Tgkill(getpid(), z, 0), SyscallFailsWithErrno(ESRCH));
  // An invalid signal is still EINVAL.
  EXPECT_THAT(kill(z, 1000), SyscallFailsWithErrno(EINVAL));
  const int status = Reap(z);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  // Reaped: gone.
  EXPECT_THAT(kill(z, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(Tkill(z, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillZombieTest, AGroupOfZombiesCanBeSignalled) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    _exit(read(p[0], &c, 1) == 0 ? 3 : 4);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  close(p[0]);
  ASSERT_THAT(setpgid(pid, pid), SyscallSucceeds());
  close(p[1]);
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_THAT(kill(-pid, 0), SyscallSucceeds());
  EXPECT_THAT(kill(-pid, SIGKILL), SyscallSucceeds());
  const int status = Reap(pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_THAT(kill(-pid, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillZombieTest, AnotherUsersZombieIsEperm) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  const pid_t z = Zombie(5);  // root's
  ASSERT_GT(z, 0);
  EXPECT_EQ(syscall_test::InChild([z] {
              if (setresuid(65534, 65534, 65534) != 0) return 1;
              if (kill(z, 0) != -1 || errno != EPERM) return 2;
              if (Tkill(z, 0) != -1 || errno != EPERM) return 3;
              if (Sigqueue(z, SIGUSR1, 0) != -1 || errno != EPERM) return 4;
              return 0;
            }),
            0);
  const int status = Reap(z);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 5) << status;
}

// A thread that reports its tid, then waits until `go` is set.
struct Waiter {
  std::atomic<int> tid{0};
  std::atomic<int> go{0};
  pthread_t thread{};
  bool Start() {
    if (pthread_create(&thread, nullptr, Body, this) != 0) return false;
    while (tid.load() == 0)
      syscall(SYS_futex, &tid, FUTEX_WAIT_PRIVATE, 0, nullptr);
    return true;
  }
  void Finish() {
    go.store(1);
    syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1);
    pthread_join(thread, nullptr);
  }
  static void* Body(void* arg) {
    auto* w = static_cast<Waiter*>(arg);
    w->tid.store(syscall(SYS_gettid));
    syscall(SYS_futex, &w->tid, FUTEX_WAKE_PRIVATE, 1);
    while (w->go.load() == 0)
      syscall(SYS_futex, &w->go, FUTEX_WAIT_PRIVATE, 0, nullptr);
    return nullptr;
  }
};

// Blocks `sig` in this thread (and threads it creates) for the scope.
class ScopedBlock {
 public:
  explicit ScopedBlock(int sig) {
    sigemptyset(&set_);
    sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~ScopedBlock() {
    // Drain what is still pending before unblocking.
    timespec zero{};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  // Takes the pending signal (thread's or process's) if there is one.
  bool Take(siginfo_t* info) {
    timespec zero{};
    return sigtimedwait(&set_, info, &zero) > 0;
  }

 private:
  sigset_t set_, old_;
};

TEST(KillThreadIdTest, KillWithAnotherThreadsTidSignalsTheProcess) {
  ScopedBlock block(SIGUSR1);
  Waiter w;
  ASSERT_TRUE(w.Start());
  const pid_t tid = w.tid.load();
  ASSERT_NE(tid, getpid());
  EXPECT_THAT(kill(tid, 0), SyscallSucceeds());
  // Process-directed: pending for this thread too, from us, as SI_USER.
  ASSERT_THAT(kill(tid, SIGUSR1), SyscallSucceeds());
  siginfo_t info{};
  ASSERT_TRUE(block.Take(&info));
  EXPECT_EQ(info.si_code, SI_USER);
  EXPECT_EQ(info.si_pid, getpid());
  ASSERT_THAT(Sigqueue(tid, SIGUSR1, 42), SyscallSucceeds());
  ASSERT_TRUE(block.Take(&info));
  EXPECT_EQ(info.si_code, SI_QUEUE);
  EXPECT_EQ(info.si_value.sival_int, 42);
  // tgkill still wants the right thread group; a tid names no group.
  EXPECT_THAT(Tgkill(getpid(), tid, 0), SyscallSucceeds());
  EXPECT_THAT(Tgkill(tid, tid, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(kill(-tid, 0), SyscallFailsWithErrno(ESRCH));
  w.Finish();
  ASSERT_TRUE(AwaitThreadGone(tid));
  EXPECT_THAT(kill(tid, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(Tkill(tid, 0), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(Sigqueue(tid, SIGUSR1, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(KillThreadIdTest, KillWithAThreadOfAnotherProcessKillsIt) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    Waiter w;
    if (!w.Start()) _exit(1);
    const int tid = w.tid.load();
    if (write(p[1], &tid, sizeof(tid)) != sizeof(tid)) _exit(2);
    for (;;) pause();
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  close(p[1]);
  int tid = 0;
  ASSERT_EQ(read(p[0], &tid, sizeof(tid)), static_cast<ssize_t>(sizeof(tid)));
  close(p[0]);
  EXPECT_THAT(kill(tid, 0), SyscallSucceeds());
  EXPECT_THAT(Tgkill(pid, tid, 0), SyscallSucceeds());
  EXPECT_THAT(Tgkill(getpid(), tid, 0), SyscallFailsWithErrno(ESRCH));
  // The default action of a process-directed SIGTERM ends the process.
  EXPECT_THAT(kill(tid, SIGTERM), SyscallSucceeds());
  if (HasFailure()) kill(pid, SIGKILL);  // not left behind
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
}

// In a child: the leader exits first (raw exit) and a thread checks what
// the leader's id still names. Each check is a step number.
int LeaderGoneChecks(pid_t pid) {
  if (kill(pid, 0) != 0) return 11;
  if (Tkill(pid, 0) != 0) return 12;
  if (Tgkill(pid, pid, 0) != 0) return 13;
  // Sent to the dead leader: accepted, never delivered to this thread.
  if (Tkill(pid, SIGUSR1) != 0) return 14;
  if (Tgsigqueue(pid, pid, SIGUSR1, 1) != 0) return 15;
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGUSR1)) return 16;
  // To the process: this thread takes it.
  if (kill(pid, SIGUSR1) != 0) return 17;
  sigpending(&pending);
  if (!sigismember(&pending, SIGUSR1)) return 18;
  return 0;
}

std::atomic<int> leader_tid_word;

void* AfterTheLeader(void*) {
  // The leader's tid word is cleared (and woken) when it has exited.
  for (int v = leader_tid_word.load(); v != 0; v = leader_tid_word.load())
    syscall(SYS_futex, &leader_tid_word, FUTEX_WAIT, v, nullptr);
  syscall(SYS_exit, LeaderGoneChecks(getpid()));
  return nullptr;
}

TEST(KillThreadIdTest, LeaderThatExitedFirstCanStillBeNamed) {
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    leader_tid_word.store(getpid());
    syscall(SYS_set_tid_address, &leader_tid_word);
    pthread_t t;
    if (pthread_create(&t, nullptr, AfterTheLeader, nullptr) != 0) _exit(1);
    syscall(SYS_exit, 0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  const int status = Reap(pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
