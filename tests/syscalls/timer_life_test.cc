// POSIX timers on CPU clocks, and a timer's life: ids, the
// RLIMIT_SIGPENDING bound, fork, execve, the end of a clock's process.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cpu_spin.h"
#include "test_util.h"
#include "timer_util.h"

namespace syscall_test {
namespace {

volatile sig_atomic_t g_cpu_fired = 0;

TEST(TimerTest, CpuClockTimersFireWhileSpinning) {
  for (clockid_t c : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID}) {
    SCOPED_TRACE(c);
    SafetyNet net;
    ScopedHandler handler(SIGUSR1,
                          [](int, siginfo_t*, void*) { g_cpu_fired = 1; });
    g_cpu_fired = 0;
    struct sigevent sev = SignalEvent(SIGUSR1);
    Timer t(c, &sev);
    const int64_t start = ClockNs(c);
    const struct itimerspec spec = Spec(50 * kNsPerMs);
    ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
    while (!g_cpu_fired && !SafetyNet::TimedOut()) {
    }
    ASSERT_TRUE(g_cpu_fired);
    EXPECT_GE(ClockNs(c) - start, 50 * kNsPerMs);
  }
}

TEST(TimerTest, TimerOnAnotherProcessClockEndsWithIt) {
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    close(fds[1]);
    char c;
    read(fds[0], &c, 1);  // idle: its CPU clock stands still
    _exit(0);
  }
  struct sigevent sev = {};
  sev.sigev_notify = SIGEV_NONE;
  int id;
  ASSERT_THAT(Create(ProcessCpuClock(pid, kCpuSched), &sev, &id),
              SyscallSucceeds());
  const struct itimerspec spec = Spec(10 * kNsPerSecond);
  ASSERT_THAT(Settime(id, 0, &spec), SyscallSucceeds());
  struct itimerspec cur;
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  close(fds[1]);
  close(fds[0]);
  ASSERT_THAT(waitpid(pid, nullptr, 0), SyscallSucceedsWithValue(pid));
  ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
}

TEST(TimerTest, IdsAreDistinct) {
  std::vector<int> ids(3);
  for (int& id : ids)
    ASSERT_THAT(Create(CLOCK_MONOTONIC, nullptr, &id), SyscallSucceeds());
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[1], ids[2]);
  EXPECT_NE(ids[0], ids[2]);
  for (int id : ids) {
    EXPECT_GE(id, 0);
    EXPECT_THAT(Delete(id), SyscallSucceeds());
  }
}

TEST(TimerTest, RlimitSigpendingBoundsTheNumberOfTimers) {
  struct rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_SIGPENDING, &old), SyscallSucceeds());
  const struct rlimit small = {5, old.rlim_max};
  ASSERT_THAT(setrlimit(RLIMIT_SIGPENDING, &small), SyscallSucceeds());
  std::vector<int> ids;
  int id, err = 0;
  for (int i = 0; i < 100; ++i) {
    if (Create(CLOCK_MONOTONIC, nullptr, &id) != 0) {
      err = errno;
      break;
    }
    ids.push_back(id);
  }
  ASSERT_THAT(setrlimit(RLIMIT_SIGPENDING, &old), SyscallSucceeds());
  for (int i : ids) Delete(i);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_LE(ids.size(), 5u);
}

TEST(TimerTest, ForkedChildDoesNotInheritTimers) {
  struct sigevent sev = SignalEvent(SIGUSR1);
  Timer t(CLOCK_MONOTONIC, &sev);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    struct itimerspec cur;
    _exit(Gettime(t.id(), &cur) == -1 && errno == EINVAL ? 0 : 1);
  }
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Run by ExecDeletesTimersButKeepsItimers in an exec'd copy of this
// binary; skipped otherwise.
TEST(TimerTest, AfterExecHelper) {
  const char* id = getenv("TIMER_TEST_ID_BEFORE_EXEC");
  if (!id) GTEST_SKIP() << "only run after an exec";
  struct itimerspec cur;
  EXPECT_THAT(Gettime(atoi(id), &cur), SyscallFailsWithErrno(EINVAL));
  struct itimerval real;
  ASSERT_THAT(getitimer(ITIMER_REAL, &real), SyscallSucceeds());
  EXPECT_GT(real.it_value.tv_sec, 0);
}

TEST(TimerTest, ExecDeletesTimersButKeepsItimers) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    int id;
    if (Create(CLOCK_MONOTONIC, nullptr, &id) != 0) _exit(2);
    struct itimerval real = {{0, 0}, {100, 0}};
    if (setitimer(ITIMER_REAL, &real, nullptr) != 0) _exit(3);
    std::string env = "TIMER_TEST_ID_BEFORE_EXEC=" + std::to_string(id);
    char* argv[] = {
        const_cast<char*>("syscalls_timer"),
        const_cast<char*>("--gtest_filter=TimerTest.AfterExecHelper"), nullptr};
    char* envp[] = {env.data(), nullptr};
    execve("/proc/self/exe", argv, envp);
    _exit(4);
  }
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace syscall_test
