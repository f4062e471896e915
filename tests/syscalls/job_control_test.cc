// Job control of multithreaded processes: a stop signal stops every thread
// (a group stop), the parent hears of the stop and of the continue once,
// blocked calls resume after SIGCONT, and signals wait for it; orphaned
// process groups ignore the terminal's stop signals, and one orphaned while
// stopped gets SIGHUP and SIGCONT.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kThreads = 3;

// Counters the spinning threads of a child bump, shared with the parent.
struct SharedCounters {
  std::atomic<uint64_t> count[kThreads];
};

SharedCounters* MapCounters() {
  void* p = mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  return new (p) SharedCounters{};
}

void* Spin(void* arg) {
  auto* c = static_cast<std::atomic<uint64_t>*>(arg);
  for (;;) c->fetch_add(1, std::memory_order_relaxed);  // no syscalls
}

void* PauseForever(void*) {
  for (;;) pause();
}

// In a forked child: starts `n` threads running `fn` (arg i: &counters[i]).
void StartThreads(int n, void* (*fn)(void*), SharedCounters* counters) {
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    void* arg = counters ? &counters->count[i] : nullptr;
    if (pthread_create(&t, nullptr, fn, arg) != 0) _exit(100);
  }
}

// A child whose threads (kThreads and its main one) all sleep in pause().
pid_t ForkPausingThreads() {
  pid_t pid = fork();
  if (pid == 0) {
    StartThreads(kThreads, PauseForever, nullptr);
    for (;;) pause();
  }
  return pid;
}

// Status of `pid` once it has changed as `options` asks.
int WaitChange(pid_t pid, int options) {
  int status = 0;
  EXPECT_THAT(waitpid(pid, &status, options), SyscallSucceedsWithValue(pid));
  return status;
}

void StopAndWait(pid_t pid, int sig = SIGSTOP) {
  ASSERT_THAT(kill(pid, sig), SyscallSucceeds());
  const int status = WaitChange(pid, WUNTRACED);
  ASSERT_TRUE(WIFSTOPPED(status)) << status;
  EXPECT_EQ(WSTOPSIG(status), sig);
}

void ContinueAndWait(pid_t pid) {
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  const int status = WaitChange(pid, WCONTINUED);
  EXPECT_TRUE(WIFCONTINUED(status)) << std::hex << status;
}

void KillAndReap(pid_t pid) {
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  const int status = WaitChange(pid, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

void SleepMs(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// A pipe's read end is readable within `ms`.
bool ReadableWithin(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

TEST(JobControlTest, StopHaltsEveryThread) {
  SharedCounters* c = MapCounters();
  ASSERT_NE(c, nullptr);
  int ready[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    StartThreads(kThreads, Spin, c);
    for (int i = 0; i < kThreads; ++i)
      while (c->count[i].load() == 0) sched_yield();
    (void)!write(ready[1], "r", 1);
    for (;;) pause();
  }
  close(ready[1]);  // a child that dies early means EOF, not a hang
  char byte;
  ASSERT_THAT(read(ready[0], &byte, 1), SyscallSucceedsWithValue(1));
  StopAndWait(pid);
  uint64_t before[kThreads];
  for (int i = 0; i < kThreads; ++i) before[i] = c->count[i].load();
  SleepMs(50);  // long enough for a running thread to count millions
  for (int i = 0; i < kThreads; ++i)
    EXPECT_EQ(c->count[i].load(), before[i]) << "thread " << i << " ran";
  ContinueAndWait(pid);
  // Each thread runs again (no sleep: spin until it has counted on).
  for (int i = 0; i < kThreads; ++i)
    while (c->count[i].load() == before[i]) sched_yield();
  KillAndReap(pid);
  close(ready[0]);
  munmap(c, sizeof(*c));
}

TEST(JobControlTest, StopAndContinueAreReportedOnce) {
  const pid_t pid = ForkPausingThreads();
  ASSERT_THAT(pid, SyscallSucceeds());
  StopAndWait(pid);
  int status;
  EXPECT_THAT(waitpid(pid, &status, WUNTRACED | WNOHANG),
              SyscallSucceedsWithValue(0));
  // A second stop signal while stopped reports nothing new.
  ASSERT_THAT(kill(pid, SIGSTOP), SyscallSucceeds());
  EXPECT_THAT(waitpid(pid, &status, WUNTRACED | WNOHANG),
              SyscallSucceedsWithValue(0));
  ContinueAndWait(pid);
  EXPECT_THAT(waitpid(pid, &status, WCONTINUED | WNOHANG),
              SyscallSucceedsWithValue(0));
  KillAndReap(pid);
}

TEST(JobControlTest, ContinueOfARunningProcessIsNotReported) {
  int hold[2];
  ASSERT_THAT(pipe(hold), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(hold[1]);
    char byte;
    (void)!read(hold[0], &byte, 1);
    _exit(0);
  }
  close(hold[0]);
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  int status;
  EXPECT_THAT(waitpid(pid, &status, WCONTINUED | WNOHANG),
              SyscallSucceedsWithValue(0));
  close(hold[1]);
  EXPECT_EQ(WaitChange(pid, 0), 0);
}

TEST(JobControlTest, BlockedReadResumesAfterContinue) {
  int data[2], ready[2];
  ASSERT_THAT(pipe(data), SyscallSucceeds());
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    StartThreads(1, PauseForever, nullptr);
    close(data[1]);
    char byte = 0;
    // Tells the parent it is about to block (the stop most likely finds it
    // in read). No handler runs for the stop: the read restarts after
    // SIGCONT and returns the byte, never EINTR.
    if (write(ready[1], "r", 1) != 1) _exit(100);
    _exit(read(data[0], &byte, 1) == 1 && byte == 'x' ? 0 : 1);
  }
  close(data[0]);
  close(ready[1]);
  char byte;
  ASSERT_THAT(read(ready[0], &byte, 1), SyscallSucceedsWithValue(1));
  StopAndWait(pid);
  ContinueAndWait(pid);
  ASSERT_THAT(write(data[1], "x", 1), SyscallSucceedsWithValue(1));
  const int status = WaitChange(pid, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(data[1]);
  close(ready[0]);
}

int g_handled_fd = -1;

TEST(JobControlTest, HandlersWaitForContinue) {
  int handled[2];
  ASSERT_THAT(pipe(handled), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    g_handled_fd = handled[1];
    struct sigaction sa = {};
    sa.sa_handler = +[](int) { (void)!write(g_handled_fd, "h", 1); };
    if (sigaction(SIGUSR1, &sa, nullptr) != 0) _exit(100);
    StartThreads(kThreads, PauseForever, nullptr);
    (void)!write(g_handled_fd, "r", 1);  // the handler is in place
    for (;;) pause();
  }
  close(handled[1]);
  char byte;
  ASSERT_THAT(read(handled[0], &byte, 1), SyscallSucceedsWithValue(1));
  StopAndWait(pid);
  ASSERT_THAT(kill(pid, SIGUSR1), SyscallSucceeds());
  EXPECT_FALSE(ReadableWithin(handled[0], 100)) << "handler ran while stopped";
  ContinueAndWait(pid);
  EXPECT_THAT(read(handled[0], &byte, 1), SyscallSucceedsWithValue(1));
  KillAndReap(pid);
  close(handled[0]);
}

TEST(JobControlTest, StopTakenByAnotherThreadStopsTheProcess) {
  SharedCounters* c = MapCounters();
  ASSERT_NE(c, nullptr);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // Linux discards SIGTSTP in an orphaned process group; a group of its
    // own, whose parent is in another group of the session, is not one.
    setpgid(0, 0);
    StartThreads(1, Spin, c);
    while (c->count[0].load() == 0) sched_yield();
    // The main thread blocks SIGTSTP: the spinning thread must take it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    kill(getpid(), SIGTSTP);
    for (;;) pause();
  }
  const int status = WaitChange(pid, WUNTRACED);
  ASSERT_TRUE(WIFSTOPPED(status)) << status;
  EXPECT_EQ(WSTOPSIG(status), SIGTSTP);
  const uint64_t before = c->count[0].load();
  SleepMs(50);
  EXPECT_EQ(c->count[0].load(), before);
  KillAndReap(pid);
  munmap(c, sizeof(*c));
}

TEST(JobControlTest, SigkillEndsAStoppedProcess) {
  const pid_t pid = ForkPausingThreads();
  ASSERT_THAT(pid, SyscallSucceeds());
  StopAndWait(pid);
  KillAndReap(pid);
}

TEST(JobControlTest, StoppedChildsExitStatusAfterContinue) {
  int go[2];
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    setpgid(0, 0);  // not orphaned, as above
    close(go[1]);
    StartThreads(kThreads, PauseForever, nullptr);
    char byte;
    (void)!read(go[0], &byte, 1);
    _exit(7);
  }
  close(go[0]);
  // Both sides set the group, so it is set before the signal is taken.
  setpgid(pid, pid);
  StopAndWait(pid, SIGTTIN);
  close(go[1]);  // EOF waits for the continue
  // (The child may exit before a WCONTINUED wait would look: wait for the
  // exit only.)
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  const int status = WaitChange(pid, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
}

TEST(JobControlTest, OrphanedGroupIgnoresTerminalStops) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // A session of its own: its parent is in another session, so its
    // group is orphaned, and nobody could continue it.
    if (setsid() < 0) _exit(100);
    raise(SIGTSTP);
    raise(SIGTTIN);
    raise(SIGTTOU);
    _exit(0);
  }
  const int status = WaitChange(pid, WUNTRACED);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(JobControlTest, SigstopStopsAnOrphanedGroup) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    if (setsid() < 0) _exit(100);
    raise(SIGSTOP);
    _exit(0);
  }
  const int status = WaitChange(pid, WUNTRACED);
  ASSERT_TRUE(WIFSTOPPED(status)) << status;
  ASSERT_THAT(kill(pid, SIGCONT), SyscallSucceeds());
  EXPECT_EQ(WaitChange(pid, 0), 0);
}

// P (the test, a subreaper) forks A, which starts a session; A forks C
// into a group of its own and waits for C to stop. A is C's group's only
// link to a parent in the session, so A's exit orphans that group with a
// stopped member: C gets SIGHUP, then SIGCONT. Returns how C ended.
int OrphanAStoppedGroup(bool c_ignores_sighup) {
  EXPECT_THAT(prctl(PR_SET_CHILD_SUBREAPER, 1), SyscallSucceeds());
  int c_pid_pipe[2];
  EXPECT_THAT(pipe(c_pid_pipe), SyscallSucceeds());
  pid_t a = fork();
  if (a == 0) {
    if (setsid() < 0) _exit(100);
    pid_t c = fork();
    if (c == 0) {
      if (setpgid(0, 0) != 0) _exit(101);
      if (c_ignores_sighup) signal(SIGHUP, SIG_IGN);
      raise(SIGSTOP);
      _exit(5);
    }
    int status;
    if (waitpid(c, &status, WUNTRACED) != c || !WIFSTOPPED(status)) _exit(102);
    if (write(c_pid_pipe[1], &c, sizeof(c)) != sizeof(c)) _exit(103);
    _exit(0);
  }
  close(c_pid_pipe[1]);
  pid_t c = 0;
  EXPECT_THAT(read(c_pid_pipe[0], &c, sizeof(c)),
              SyscallSucceedsWithValue(sizeof(c)));
  close(c_pid_pipe[0]);
  EXPECT_EQ(WaitChange(a, 0), 0);
  const int status = c > 0 ? WaitChange(c, 0) : -1;  // C is ours now
  EXPECT_THAT(prctl(PR_SET_CHILD_SUBREAPER, 0), SyscallSucceeds());
  return status;
}

TEST(JobControlTest, OrphanedStoppedGroupIsHungUp) {
  const int status = OrphanAStoppedGroup(/*c_ignores_sighup=*/false);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) << status;
}

TEST(JobControlTest, OrphanedStoppedGroupIsContinued) {
  const int status = OrphanAStoppedGroup(/*c_ignores_sighup=*/true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 5) << status;
}

}  // namespace
}  // namespace syscall_test
