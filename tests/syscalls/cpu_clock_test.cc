// CPU-time clocks: CLOCK_PROCESS/THREAD_CPUTIME_ID and the encoded ids of
// clock_getcpuclockid(3)/pthread_getcpuclockid(3) in clock_gettime(2),
// clock_getres(2) and clock_nanosleep(2).
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cpu_spin.h"
#include "test_util.h"

namespace syscall_test {
namespace {

long RawGetres(clockid_t c, struct timespec* ts) {
  return syscall(SYS_clock_getres, c, ts);
}
long RawGettime(clockid_t c, struct timespec* ts) {
  return syscall(SYS_clock_gettime, c, ts);
}
long RawNanosleep(clockid_t c, int flags, const struct timespec* req) {
  return syscall(SYS_clock_nanosleep, c, flags, req, nullptr);
}

// A child process that waits until the pipe closes.
class IdleChild {
 public:
  IdleChild() {
    EXPECT_THAT(pipe(fds_), SyscallSucceeds());
    pid_ = fork();
    if (pid_ == 0) {
      close(fds_[1]);
      char c;
      read(fds_[0], &c, 1);
      _exit(0);
    }
    close(fds_[0]);
  }
  ~IdleChild() {
    close(fds_[1]);
    int status;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  int fds_[2];
  pid_t pid_;
};

// A thread that burns CPU until told to stop.
class Spinner {
 public:
  Spinner()
      : thread_([this] {
          tid_ = syscall(SYS_gettid);
          const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSafetyNs;
          while (!stop_ && ClockNs(CLOCK_MONOTONIC) < give_up) BurnABit();
        }) {
    while (tid_ == 0) usleep(100);
  }
  ~Spinner() {
    stop_ = true;
    thread_.join();
  }
  pid_t tid() const { return tid_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

TEST(CpuClockTest, AdvancesWithBusyWorkButNotWhileAsleep) {
  for (clockid_t c : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                      ProcessCpuClock(getpid(), kCpuSched),
                      ThreadCpuClock(syscall(SYS_gettid), kCpuSched)}) {
    SCOPED_TRACE(c);
    const int64_t busy0 = ClockNs(c);
    SpinCpu(CLOCK_THREAD_CPUTIME_ID, 50 * kNsPerMs);
    EXPECT_GE(ClockNs(c) - busy0, 50 * kNsPerMs);
    const int64_t sleep0 = ClockNs(c);
    const struct timespec nap = FromNs(200 * kNsPerMs);
    ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
    EXPECT_LT(ClockNs(c) - sleep0, 100 * kNsPerMs);
  }
}

TEST(CpuClockTest, VirtualIsUserTimeOnly) {
  SpinCpu(CLOCK_PROCESS_CPUTIME_ID, 20 * kNsPerMs);
  const int64_t virt = ClockNs(ProcessCpuClock(0, kCpuVirt));
  const int64_t prof = ClockNs(ProcessCpuClock(0, kCpuProf));
  EXPECT_GT(virt, 0);
  EXPECT_LE(virt, prof);
}

TEST(CpuClockTest, LibcIdsReadTheSameClocks) {
  clockid_t c;
  ASSERT_EQ(clock_getcpuclockid(getpid(), &c), 0);
  EXPECT_EQ(c, ProcessCpuClock(getpid(), kCpuSched));
  const int64_t own = ClockNs(CLOCK_PROCESS_CPUTIME_ID);
  EXPECT_GE(ClockNs(c), own);
  ASSERT_EQ(pthread_getcpuclockid(pthread_self(), &c), 0);
  EXPECT_GE(ClockNs(c), 0);
  // No such process: the clock id is refused (glibc turns it into ESRCH).
  EXPECT_EQ(clock_getcpuclockid(4194305, &c), ESRCH);
}

TEST(CpuClockTest, AnotherThreadsClockAdvancesWhileItSpins) {
  Spinner spinner;
  const clockid_t c = ThreadCpuClock(spinner.tid(), kCpuSched);
  const int64_t start = ClockNs(c);
  const int64_t mine = ClockNs(CLOCK_THREAD_CPUTIME_ID);
  // Sleep until the spinner has used 50 ms (on its own clock).
  const struct timespec wait = FromNs(50 * kNsPerMs);
  ASSERT_THAT(RawNanosleep(c, 0, &wait), SyscallSucceeds());
  EXPECT_GE(ClockNs(c) - start, 50 * kNsPerMs);
  // ...while this thread slept.
  EXPECT_LT(ClockNs(CLOCK_THREAD_CPUTIME_ID) - mine, 50 * kNsPerMs);
}

TEST(CpuClockTest, NanosleepOnTheProcessClockWaitsForOtherThreads) {
  Spinner spinner;
  const int64_t start = ClockNs(CLOCK_PROCESS_CPUTIME_ID);
  const struct timespec rel = FromNs(50 * kNsPerMs);
  ASSERT_THAT(RawNanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &rel),
              SyscallSucceeds());
  EXPECT_GE(ClockNs(CLOCK_PROCESS_CPUTIME_ID) - start, 50 * kNsPerMs);
  const struct timespec abs =
      FromNs(ClockNs(CLOCK_PROCESS_CPUTIME_ID) + 30 * kNsPerMs);
  ASSERT_THAT(RawNanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &abs),
              SyscallSucceeds());
  EXPECT_GE(ClockNs(CLOCK_PROCESS_CPUTIME_ID), ToNs(abs));
}

TEST(CpuClockTest, NanosleepToAPastCpuTimeReturnsAtOnce) {
  const struct timespec past = {0, 0};
  EXPECT_THAT(RawNanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past),
              SyscallSucceeds());
  EXPECT_THAT(
      RawNanosleep(ProcessCpuClock(getpid(), kCpuProf), TIMER_ABSTIME, &past),
      SyscallSucceeds());
}

TEST(CpuClockTest, OtherProcessesClocksCanBeReadNotTheirThreads) {
  IdleChild child;
  struct timespec ts;
  EXPECT_THAT(RawGettime(ProcessCpuClock(child.pid(), kCpuSched), &ts),
              SyscallSucceeds());
  EXPECT_THAT(RawGetres(ProcessCpuClock(child.pid(), kCpuSched), nullptr),
              SyscallSucceeds());
  EXPECT_THAT(RawGettime(ThreadCpuClock(child.pid(), kCpuSched), &ts),
              SyscallFailsWithErrno(EINVAL));
}

TEST(CpuClockTest, ThreadIdAsProcessClockOnlyForGettime) {
  // A thread that is not the leader: clock_gettime accepts the caller's
  // own tid as its process; clock_getres wants a process id.
  std::thread([] {
    const pid_t tid = syscall(SYS_gettid);
    struct timespec ts;
    EXPECT_THAT(RawGettime(ProcessCpuClock(tid, kCpuSched), &ts),
                SyscallSucceeds());
    EXPECT_THAT(RawGetres(ProcessCpuClock(tid, kCpuSched), &ts),
                SyscallFailsWithErrno(EINVAL));
  }).join();
}

TEST(CpuClockTest, Resolution) {
  struct timespec res;
  ASSERT_THAT(RawGetres(ProcessCpuClock(0, kCpuSched), &res),
              SyscallSucceeds());
  EXPECT_EQ(ToNs(res), 1);
  for (int kind : {kCpuProf, kCpuVirt}) {
    ASSERT_THAT(RawGetres(ProcessCpuClock(0, kind), &res), SyscallSucceeds());
    EXPECT_GT(ToNs(res), 0);
    EXPECT_LE(ToNs(res), 10 * kNsPerMs);  // a tick, HZ >= 100
  }
}

TEST(CpuClockTest, Errors) {
  struct timespec ts;
  const struct timespec ten_ms = FromNs(10 * kNsPerMs);
  // Kind 3 is an fd clock: the process's fd... there is no such clock.
  EXPECT_THAT(RawGettime(ProcessCpuClock(getpid(), 3), &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGettime(ProcessCpuClock(4194305, kCpuSched), &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGettime(ThreadCpuClock(4194305, kCpuSched), &ts),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGettime(CLOCK_PROCESS_CPUTIME_ID, BadAddress<timespec>()),
              SyscallFailsWithErrno(EFAULT));
  // Sleeping on one's own thread clock could never end.
  EXPECT_THAT(RawNanosleep(ThreadCpuClock(0, kCpuSched), 0, &ten_ms),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(
      RawNanosleep(ThreadCpuClock(syscall(SYS_gettid), kCpuSched), 0, &ten_ms),
      SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawNanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ten_ms),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(RawNanosleep(ProcessCpuClock(getpid(), 3), 0, &ten_ms),
              SyscallFailsWithErrno(EOPNOTSUPP));
  const struct timespec bad = {0, kNsPerSecond};
  EXPECT_THAT(RawNanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace syscall_test
