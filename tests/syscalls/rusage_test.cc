// getrusage(2) and times(2): user and system time of the process, the
// thread and the waited-for children; wait4(2)/waitid(2) rusage.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "cpu_spin.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int64_t kBusyNs = 100 * kNsPerMs;
// What a 100 ms busy loop must at least show: half, for tick accounting.
constexpr int64_t kAtLeastNs = kBusyNs / 2;

struct rusage Usage(int who) {
  struct rusage ru = {};
  EXPECT_THAT(syscall(SYS_getrusage, who, &ru), SyscallSucceeds());
  return ru;
}

int64_t TotalNs(const struct rusage& ru) {
  return ToNs(ru.ru_utime) + ToNs(ru.ru_stime);
}

// Forks a child that burns kBusyNs of CPU (with `grandchild`, through a
// child of its own that it waits for) and exits 0.
pid_t ForkBusyChild(bool grandchild) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (grandchild) {
    pid_t inner = fork();
    if (inner == 0) {
      SpinCpu(CLOCK_PROCESS_CPUTIME_ID, kBusyNs);
      _exit(0);
    }
    int status;
    _exit(waitpid(inner, &status, 0) == inner && status == 0 ? 0 : 1);
  }
  SpinCpu(CLOCK_PROCESS_CPUTIME_ID, kBusyNs);
  _exit(0);
}

TEST(GetrusageTest, UserTimeGrowsWithBusyWork) {
  const struct rusage self0 = Usage(RUSAGE_SELF);
  const struct rusage thread0 = Usage(RUSAGE_THREAD);
  SpinCpu(CLOCK_THREAD_CPUTIME_ID, kBusyNs);
  const struct rusage thread1 = Usage(RUSAGE_THREAD);
  const struct rusage self1 = Usage(RUSAGE_SELF);
  EXPECT_GE(ToNs(self1.ru_utime) - ToNs(self0.ru_utime), kAtLeastNs);
  EXPECT_GE(ToNs(thread1.ru_utime) - ToNs(thread0.ru_utime), kAtLeastNs);
  // Never backwards, and normalized.
  EXPECT_GE(ToNs(self1.ru_stime), ToNs(self0.ru_stime));
  for (const struct rusage& ru : {self1, thread1}) {
    EXPECT_GE(ru.ru_utime.tv_usec, 0);
    EXPECT_LT(ru.ru_utime.tv_usec, 1000000);
    EXPECT_LT(ru.ru_stime.tv_usec, 1000000);
  }
}

TEST(GetrusageTest, SleepingUsesNoCpuTime) {
  const struct rusage before = Usage(RUSAGE_SELF);
  const struct timespec nap = FromNs(300 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  const struct rusage after = Usage(RUSAGE_SELF);
  EXPECT_LT(TotalNs(after) - TotalNs(before), 150 * kNsPerMs);
}

TEST(GetrusageTest, ExitedThreadsStayInTheProcess) {
  const struct rusage self0 = Usage(RUSAGE_SELF);
  const struct rusage thread0 = Usage(RUSAGE_THREAD);
  std::thread([] { SpinCpu(CLOCK_THREAD_CPUTIME_ID, kBusyNs); }).join();
  const struct rusage self1 = Usage(RUSAGE_SELF);
  const struct rusage thread1 = Usage(RUSAGE_THREAD);
  EXPECT_GE(TotalNs(self1) - TotalNs(self0), kAtLeastNs);
  // The other thread's time is not this thread's.
  EXPECT_LT(TotalNs(thread1) - TotalNs(thread0), kAtLeastNs);
}

TEST(GetrusageTest, ChildrenCountOnceWaitedFor) {
  const struct rusage before = Usage(RUSAGE_CHILDREN);
  pid_t pid = ForkBusyChild(false);
  ASSERT_THAT(pid, SyscallSucceeds());
  // Not before it is waited for (WNOWAIT leaves it a zombie).
  siginfo_t info = {};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  EXPECT_EQ(TotalNs(Usage(RUSAGE_CHILDREN)), TotalNs(before));
  struct rusage child = {};
  int status = -1;
  ASSERT_THAT(wait4(pid, &status, 0, &child), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(status, 0);
  EXPECT_GE(TotalNs(child), kAtLeastNs);
  const struct rusage after = Usage(RUSAGE_CHILDREN);
  EXPECT_GE(TotalNs(after) - TotalNs(before), kAtLeastNs);
}

TEST(GetrusageTest, GrandchildrenCountThroughTheirParent) {
  const struct rusage before = Usage(RUSAGE_CHILDREN);
  pid_t pid = ForkBusyChild(true);
  ASSERT_THAT(pid, SyscallSucceeds());
  struct rusage child = {};
  siginfo_t info = {};
  ASSERT_THAT(syscall(SYS_waitid, P_PID, pid, &info, WEXITED, &child),
              SyscallSucceeds());
  EXPECT_EQ(info.si_pid, pid);
  EXPECT_EQ(info.si_status, 0);
  // The child's rusage includes what it waited for.
  EXPECT_GE(TotalNs(child), kAtLeastNs);
  EXPECT_GE(TotalNs(Usage(RUSAGE_CHILDREN)) - TotalNs(before), kAtLeastNs);
}

TEST(GetrusageTest, Errors) {
  struct rusage ru;
  for (int who : {2, -2, 100})
    EXPECT_THAT(syscall(SYS_getrusage, who, &ru),
                SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_getrusage, RUSAGE_SELF, BadAddress<struct rusage>()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimesTest, CountsTicksAndChildren) {
  struct tms t0 = {}, t1 = {};
  const long c0 = syscall(SYS_times, &t0);
  pid_t pid = ForkBusyChild(false);
  ASSERT_THAT(pid, SyscallSucceeds());
  int status = -1;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  const struct timespec nap = FromNs(50 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  const long c1 = syscall(SYS_times, &t1);
  // 100 ticks a second: more than 50 ms passed.
  EXPECT_GE(c1 - c0, 4);
  EXPECT_GE((t1.tms_cutime + t1.tms_cstime) - (t0.tms_cutime + t0.tms_cstime),
            kAtLeastNs / 10'000'000);
  EXPECT_GE(t1.tms_utime, t0.tms_utime);
  EXPECT_GE(syscall(SYS_times, nullptr), c1);
  EXPECT_THAT(syscall(SYS_times, BadAddress<struct tms>()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimesTest, SelfTimeGrowsWithBusyWork) {
  struct tms t0 = {}, t1 = {};
  syscall(SYS_times, &t0);
  SpinCpu(CLOCK_PROCESS_CPUTIME_ID, kBusyNs);
  syscall(SYS_times, &t1);
  EXPECT_GE((t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime),
            kAtLeastNs / 10'000'000);
}

}  // namespace
}  // namespace syscall_test
