// setitimer(2)/getitimer(2) with ITIMER_VIRTUAL and ITIMER_PROF (CPU
// time), and what all three interval timers share: settings, errors, fork.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpu_spin.h"
#include "test_util.h"

namespace syscall_test {
namespace {

volatile sig_atomic_t g_signals = 0;
volatile sig_atomic_t g_code = 0;

void Count(int, siginfo_t* info, void*) {
  g_signals = g_signals + 1;
  g_code = info->si_code;
}

// The syscalls themselves: glibc's wrappers take an enum, not an int.
long Setitimer(int which, const struct itimerval* v, struct itimerval* old) {
  return syscall(SYS_setitimer, which, v, old);
}
long Getitimer(int which, struct itimerval* cur) {
  return syscall(SYS_getitimer, which, cur);
}

struct itimerval Itimer(int64_t value_us, int64_t interval_us) {
  return {{interval_us / 1000000, interval_us % 1000000},
          {value_us / 1000000, value_us % 1000000}};
}

void Disarm(int which) {
  struct itimerval off = {};
  Setitimer(which, &off, nullptr);
}

// Arms `which` for 50 ms of CPU time and spins, without a single
// syscall, until its signal arrives: the sandbox must notice the expiry
// while the app runs.
void ExpectSignalWhileSpinning(int which, int sig, clockid_t clock) {
  SafetyNet net;
  ScopedHandler handler(sig, Count);
  g_signals = 0;
  const int64_t cpu0 = ClockNs(clock);
  struct itimerval it = Itimer(50'000, 0);
  ASSERT_THAT(Setitimer(which, &it, nullptr), SyscallSucceeds());
  while (!g_signals && !SafetyNet::TimedOut()) {
  }
  const int64_t cpu1 = ClockNs(clock);
  Disarm(which);
  ASSERT_EQ(g_signals, 1) << "no signal within the safety time";
  EXPECT_EQ(g_code, SI_KERNEL);
  // Not early: half the value allows for tick-based accounting.
  EXPECT_GE(cpu1 - cpu0, 25 * kNsPerMs);
}

TEST(ItimerTest, VirtualFiresWhileSpinningInUserMode) {
  ExpectSignalWhileSpinning(ITIMER_VIRTUAL, SIGVTALRM,
                            ProcessCpuClock(0, kCpuVirt));
}

TEST(ItimerTest, ProfFiresWhileSpinningInUserMode) {
  ExpectSignalWhileSpinning(ITIMER_PROF, SIGPROF, ProcessCpuClock(0, kCpuProf));
}

TEST(ItimerTest, IntervalReloads) {
  SafetyNet net;
  ScopedHandler handler(SIGPROF, Count);
  g_signals = 0;
  struct itimerval it = Itimer(10'000, 10'000);
  ASSERT_THAT(Setitimer(ITIMER_PROF, &it, nullptr), SyscallSucceeds());
  while (g_signals < 3 && !SafetyNet::TimedOut()) {
  }
  Disarm(ITIMER_PROF);
  EXPECT_GE(g_signals, 3);
}

TEST(ItimerTest, CpuTimersDoNotRunWhileSleeping) {
  for (int which : {ITIMER_VIRTUAL, ITIMER_PROF}) {
    SCOPED_TRACE(which);
    struct itimerval it = Itimer(1'000'000, 0), cur;
    ASSERT_THAT(Setitimer(which, &it, nullptr), SyscallSucceeds());
    const struct timespec nap = FromNs(300 * kNsPerMs);
    ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
    ASSERT_THAT(Getitimer(which, &cur), SyscallSucceeds());
    Disarm(which);
    // 300 ms asleep used almost no CPU time.
    EXPECT_GT(ToNs(cur.it_value), 800 * kNsPerMs);
  }
}

TEST(ItimerTest, GetitimerShowsTimeLeftAndInterval) {
  for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
    SCOPED_TRACE(which);
    struct itimerval it = Itimer(10'000'000, 2'000'000), cur, old;
    ASSERT_THAT(Setitimer(which, &it, nullptr), SyscallSucceeds());
    ASSERT_THAT(Getitimer(which, &cur), SyscallSucceeds());
    EXPECT_GT(ToNs(cur.it_value), 0);
    // Linux may show a CPU timer a little over its value (a cached sample).
    EXPECT_LE(ToNs(cur.it_value), 11 * kNsPerSecond);
    EXPECT_EQ(cur.it_interval.tv_sec, 2);
    EXPECT_EQ(cur.it_interval.tv_usec, 0);
    // Re-arming returns the old setting.
    struct itimerval again = Itimer(5'000'000, 0);
    ASSERT_THAT(Setitimer(which, &again, &old), SyscallSucceeds());
    EXPECT_GT(ToNs(old.it_value), 5 * kNsPerSecond);
    EXPECT_EQ(old.it_interval.tv_sec, 2);
    Disarm(which);
    ASSERT_THAT(Getitimer(which, &cur), SyscallSucceeds());
    EXPECT_EQ(ToNs(cur.it_value), 0);
  }
}

TEST(ItimerTest, DisarmedCpuTimerKeepsItsIntervalRealDoesNot) {
  struct itimerval it = Itimer(0, 5'000'000), cur;
  for (int which : {ITIMER_VIRTUAL, ITIMER_PROF}) {
    ASSERT_THAT(Setitimer(which, &it, nullptr), SyscallSucceeds());
    ASSERT_THAT(Getitimer(which, &cur), SyscallSucceeds());
    EXPECT_EQ(ToNs(cur.it_value), 0);
    EXPECT_EQ(cur.it_interval.tv_sec, 5);
  }
  ASSERT_THAT(Setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  ASSERT_THAT(Getitimer(ITIMER_REAL, &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  EXPECT_EQ(ToNs(cur.it_interval), 0);
  Disarm(ITIMER_VIRTUAL);
  Disarm(ITIMER_PROF);
}

TEST(ItimerTest, NullNewValueDisarms) {
  struct itimerval it = Itimer(10'000'000, 0), old;
  ASSERT_THAT(Setitimer(ITIMER_VIRTUAL, &it, nullptr), SyscallSucceeds());
  ASSERT_THAT(syscall(SYS_setitimer, ITIMER_VIRTUAL, nullptr, &old),
              SyscallSucceeds());
  EXPECT_GT(ToNs(old.it_value), 0);
  ASSERT_THAT(Getitimer(ITIMER_VIRTUAL, &old), SyscallSucceeds());
  EXPECT_EQ(ToNs(old.it_value), 0);
}

TEST(ItimerTest, Errors) {
  struct itimerval it = {};
  EXPECT_THAT(Setitimer(3, &it, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Getitimer(3, &it), SyscallFailsWithErrno(EINVAL));
  for (struct timeval bad :
       {timeval{0, 1000000}, timeval{0, -1}, timeval{-1, 0}}) {
    struct itimerval v = {{0, 0}, bad};
    EXPECT_THAT(Setitimer(ITIMER_VIRTUAL, &v, nullptr),
                SyscallFailsWithErrno(EINVAL));
    struct itimerval i = {bad, {1, 0}};
    EXPECT_THAT(Setitimer(ITIMER_PROF, &i, nullptr),
                SyscallFailsWithErrno(EINVAL));
  }
  EXPECT_THAT(Getitimer(ITIMER_PROF, BadAddress<struct itimerval>()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Setitimer(ITIMER_PROF, BadAddress<struct itimerval>(), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ItimerTest, ForkedChildDoesNotInheritTimers) {
  struct itimerval it = Itimer(100'000'000, 0);
  for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF})
    ASSERT_THAT(Setitimer(which, &it, nullptr), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    int armed = 0;
    for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
      struct itimerval cur;
      if (Getitimer(which, &cur) != 0 || cur.it_value.tv_sec ||
          cur.it_value.tv_usec)
        ++armed;
    }
    _exit(armed);
  }
  int status = 0;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) Disarm(which);
}

}  // namespace
}  // namespace syscall_test
