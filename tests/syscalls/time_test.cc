// clock_gettime/clock_getres/gettimeofday/time/nanosleep/clock_nanosleep
// called directly (glibc would use the vDSO or other syscalls), plus
// agreement with the libc (vDSO) readings. Only lower bounds on sleeps.
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kSleepNs = 20'000'000;  // 20 ms.

long RawClockGettime(clockid_t c, struct timespec* ts) {
  return syscall(SYS_clock_gettime, c, ts);
}
long RawClockGetres(clockid_t c, struct timespec* ts) {
  return syscall(SYS_clock_getres, c, ts);
}
long RawGettimeofday(struct timeval* tv, struct timezone* tz) {
  return syscall(SYS_gettimeofday, tv, tz);
}
long RawTime(time_t* t) { return syscall(SYS_time, t); }
long RawNanosleep(const struct timespec* req, struct timespec* rem) {
  return syscall(SYS_nanosleep, req, rem);
}
long RawClockNanosleep(clockid_t c, int flags, const struct timespec* req) {
  return syscall(SYS_clock_nanosleep, c, flags, req, nullptr);
}

int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSec + ts.tv_nsec;
}
struct timespec FromNs(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSec),
          static_cast<long>(ns % kNsPerSec)};
}

int64_t NowNs(clockid_t c) {
  struct timespec ts = {};
  EXPECT_THAT(RawClockGettime(c, &ts), SyscallSucceeds());
  return ToNs(ts);
}

constexpr clockid_t kClocks[] = {
    CLOCK_REALTIME,           CLOCK_MONOTONIC,        CLOCK_BOOTTIME,
    CLOCK_MONOTONIC_RAW,      CLOCK_REALTIME_COARSE,  CLOCK_MONOTONIC_COARSE,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};

TEST(ClockGettimeTest, EveryClockGivesANormalizedTime) {
  for (clockid_t c : kClocks) {
    SCOPED_TRACE(c);
    struct timespec ts = {-1, -1};
    ASSERT_THAT(RawClockGettime(c, &ts), SyscallSucceeds());
    EXPECT_GE(ts.tv_sec, 0);
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, kNsPerSec);
  }
  // Any real machine's wall clock is past 2020-01-01.
  EXPECT_GT(NowNs(CLOCK_REALTIME) / kNsPerSec, 1577836800);
}

TEST(ClockGettimeTest, MonotonicClocksNeverGoBackwards) {
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
                      CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID}) {
    SCOPED_TRACE(c);
    int64_t prev = NowNs(c);
    for (int i = 0; i < 1000; ++i) {
      const int64_t now = NowNs(c);
      ASSERT_GE(now, prev);
      prev = now;
    }
  }
}

TEST(ClockGettimeTest, BoottimeIsAtLeastMonotonic) {
  const int64_t mono = NowNs(CLOCK_MONOTONIC);
  EXPECT_GE(NowNs(CLOCK_BOOTTIME), mono);
}

TEST(ClockGettimeTest, LibcReadingLiesBetweenSyscallReadings) {
  const int64_t before = NowNs(CLOCK_MONOTONIC);
  struct timespec libc;
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &libc), 0);
  const int64_t after = NowNs(CLOCK_MONOTONIC);
  EXPECT_LE(before, ToNs(libc));
  EXPECT_LE(ToNs(libc), after);
}

TEST(ClockGettimeTest, CpuClocksAdvanceWhileSpinning) {
  const int64_t proc0 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  const int64_t thread0 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  const int64_t deadline = NowNs(CLOCK_MONOTONIC) + 10 * kNsPerSec;
  volatile uint64_t sink = 0;
  while (NowNs(CLOCK_THREAD_CPUTIME_ID) < thread0 + 5'000'000 &&
         NowNs(CLOCK_MONOTONIC) < deadline) {
    for (int i = 0; i < 10000; ++i) sink = sink + i;
  }
  const int64_t thread1 = NowNs(CLOCK_THREAD_CPUTIME_ID);
  const int64_t proc1 = NowNs(CLOCK_PROCESS_CPUTIME_ID);
  EXPECT_GE(thread1, thread0 + 5'000'000);
  EXPECT_GE(proc1, proc0 + 5'000'000);
  // With one thread, the process has used at least the thread's CPU time.
  EXPECT_GE(proc1, thread1);
}

TEST(ClockGettimeTest, Errors) {
  struct timespec ts;
  EXPECT_THAT(RawClockGettime(1000, &ts), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawClockGettime(CLOCK_MONOTONIC, BadAddress<struct timespec>()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ClockGetresTest, ResolutionIsPositiveAndAtMostATick) {
  for (clockid_t c : kClocks) {
    SCOPED_TRACE(c);
    struct timespec res = {-1, -1};
    ASSERT_THAT(RawClockGetres(c, &res), SyscallSucceeds());
    EXPECT_EQ(res.tv_sec, 0);
    EXPECT_GT(res.tv_nsec, 0);
    EXPECT_LE(res.tv_nsec, 10'000'000);  // HZ >= 100.
    EXPECT_THAT(RawClockGetres(c, nullptr), SyscallSucceeds());
  }
  struct timespec res;
  EXPECT_THAT(RawClockGetres(1000, &res), SyscallFailsWithErrno(EINVAL));
}

TEST(GettimeofdayTest, AgreesWithRealtimeClock) {
  struct timeval tv = {-1, -1};
  struct timezone tz;
  const int64_t before = NowNs(CLOCK_REALTIME);
  ASSERT_THAT(RawGettimeofday(&tv, &tz), SyscallSucceeds());
  EXPECT_GE(tv.tv_usec, 0);
  EXPECT_LT(tv.tv_usec, 1'000'000);
  const int64_t tv_ns = tv.tv_sec * kNsPerSec + tv.tv_usec * 1000;
  EXPECT_LT(std::abs(tv_ns - before), kNsPerSec);
  EXPECT_THAT(RawGettimeofday(nullptr, nullptr), SyscallSucceeds());
  EXPECT_THAT(RawGettimeofday(BadAddress<struct timeval>(), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(TimeTest, AgreesWithRealtimeClockAndStoresResult) {
  time_t stored = 0;
  const int64_t rt = NowNs(CLOCK_REALTIME) / kNsPerSec;
  const long t = RawTime(&stored);
  EXPECT_EQ(t, stored);
  EXPECT_LE(std::abs(t - rt), 1);
  EXPECT_LE(std::abs(RawTime(nullptr) - rt), 1);
  EXPECT_THAT(RawTime(BadAddress<time_t>()), SyscallFailsWithErrno(EFAULT));
}

TEST(NanosleepTest, SleepsAtLeastTheRequestedTime) {
  const struct timespec req = FromNs(kSleepNs);
  const int64_t start = NowNs(CLOCK_MONOTONIC);
  ASSERT_THAT(RawNanosleep(&req, nullptr), SyscallSucceeds());
  EXPECT_GE(NowNs(CLOCK_MONOTONIC) - start, kSleepNs);
  const struct timespec zero = {0, 0};
  EXPECT_THAT(RawNanosleep(&zero, nullptr), SyscallSucceeds());
}

TEST(NanosleepTest, InvalidTimespec) {
  for (struct timespec bad :
       {timespec{0, kNsPerSec}, timespec{0, -1}, timespec{-1, 0}}) {
    EXPECT_THAT(RawNanosleep(&bad, nullptr), SyscallFailsWithErrno(EINVAL));
  }
  EXPECT_THAT(RawNanosleep(BadAddress<struct timespec>(), nullptr),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ClockNanosleepTest, RelativeSleepsAtLeastTheRequestedTime) {
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME}) {
    SCOPED_TRACE(c);
    const struct timespec req = FromNs(kSleepNs);
    const int64_t start = NowNs(CLOCK_MONOTONIC);
    ASSERT_THAT(RawClockNanosleep(c, 0, &req), SyscallSucceeds());
    EXPECT_GE(NowNs(CLOCK_MONOTONIC) - start, kSleepNs);
  }
}

TEST(ClockNanosleepTest, AbsoluteSleepsUntilTheDeadline) {
  const int64_t deadline = NowNs(CLOCK_MONOTONIC) + kSleepNs;
  const struct timespec req = FromNs(deadline);
  ASSERT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req),
              SyscallSucceeds());
  EXPECT_GE(NowNs(CLOCK_MONOTONIC), deadline);
  // A deadline in the past returns at once without error.
  const struct timespec past = FromNs(NowNs(CLOCK_MONOTONIC) - kNsPerSec);
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past),
              SyscallSucceeds());
}

TEST(ClockNanosleepTest, Errors) {
  const struct timespec bad = {0, kNsPerSec};
  const struct timespec ok = {0, 1000};
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC, 0, &bad),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawClockNanosleep(1000, 0, &ok), SyscallFailsWithErrno(EINVAL));
  // Valid clocks without sleep support: the raw syscall says EOPNOTSUPP
  // (glibc's wrapper turns the thread CPU clock case into EINVAL).
  EXPECT_THAT(RawClockNanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ok),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(RawClockNanosleep(CLOCK_MONOTONIC_RAW, 0, &ok),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

}  // namespace
}  // namespace syscall_test
