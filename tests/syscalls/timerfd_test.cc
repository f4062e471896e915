// timerfd_create/settime/gettime: clocks (the _ALARM ones need
// CAP_WAKE_ALARM), flags and argument errors, one-shot and interval timers,
// relative and absolute (TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET
// accepted), the expiration count read as 8 bytes, EAGAIN and blocking
// (woken, interrupted, the fd closed meanwhile), poll readiness, fdinfo.
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdint>

#include "cap_util.h"
#include "event_util.h"

namespace syscall_test {
namespace {

constexpr int64_t kMs = 1'000'000;

itimerspec Spec(int64_t value_ns, int64_t interval_ns = 0) {
  itimerspec s{};
  s.it_value = {value_ns / 1'000'000'000, value_ns % 1'000'000'000};
  s.it_interval = {interval_ns / 1'000'000'000, interval_ns % 1'000'000'000};
  return s;
}

int64_t NowNs(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1'000'000'000 + ts.tv_nsec;
}

int64_t Ns(const timespec& ts) { return ts.tv_sec * 1'000'000'000 + ts.tv_nsec; }

FileDescriptor Timer(clockid_t c, int flags = TFD_CLOEXEC) {
  const int fd = timerfd_create(c, flags);
  EXPECT_GE(fd, 0) << ErrnoName(errno);
  return FileDescriptor(fd);
}

TEST(Timerfd, CreateErrors) {
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC_RAW, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_TAI, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(-1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC, 0x10), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_create(CLOCK_MONOTONIC, TFD_TIMER_ABSTIME),
              SyscallFailsWithErrno(EINVAL));
}

TEST(Timerfd, AlarmClocksNeedCapWakeAlarm) {
  for (clockid_t c : {CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM}) {
    if (HasEffectiveCap(CAP_WAKE_ALARM)) {
      FileDescriptor fd(timerfd_create(c, 0));
      EXPECT_GE(fd.get(), 0) << ErrnoName(errno);
    } else {
      EXPECT_THAT(timerfd_create(c, 0), SyscallFailsWithErrno(EPERM));
    }
  }
}

TEST(Timerfd, Flags) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(read(fd.get(), &v, 4), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), &v, 8), SyscallFailsWithErrno(EINVAL));
  itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_value), 0);
  EXPECT_EQ(Ns(cur.it_interval), 0);
}

TEST(Timerfd, SettimeErrors) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC);
  itimerspec s = Spec(kMs);
  EXPECT_THAT(timerfd_settime(fd.get(), 4, &s, nullptr),
              SyscallFailsWithErrno(EINVAL));
  itimerspec bad = s;
  bad.it_value.tv_nsec = 1'000'000'000;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  bad = s;
  bad.it_interval.tv_sec = -1;
  EXPECT_THAT(timerfd_settime(fd.get(), 0, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_settime(fd.get(), 0, nullptr, nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(timerfd_settime(-1, 0, &s, nullptr), SyscallFailsWithErrno(EBADF));
  FileDescriptor other(eventfd(0, EFD_CLOEXEC));
  EXPECT_THAT(timerfd_settime(other.get(), 0, &s, nullptr),
              SyscallFailsWithErrno(EINVAL));
  itimerspec cur;
  EXPECT_THAT(timerfd_gettime(other.get(), &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(timerfd_gettime(fd.get(), BadAddress<itimerspec>()),
              SyscallFailsWithErrno(EFAULT));
}

class TimerfdClock : public testing::TestWithParam<clockid_t> {};

TEST_P(TimerfdClock, OneShotRelative) {
  FileDescriptor fd = Timer(GetParam());
  itimerspec s = Spec(kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  uint64_t ticks = 0;
  ASSERT_THAT(read(fd.get(), &ticks, sizeof ticks), SyscallSucceedsWithValue(8));
  EXPECT_EQ(ticks, 1u);
  itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_value), 0);
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(read(fd.get(), &ticks, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST_P(TimerfdClock, AbsoluteInThePastWithIntervals) {
  FileDescriptor fd = Timer(GetParam());
  // Ten intervals ago: the first read counts them all.
  itimerspec s = Spec(NowNs(GetParam()) - 10 * kMs, kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &s, nullptr),
              SyscallSucceeds());
  uint64_t ticks = 0;
  ASSERT_THAT(read(fd.get(), &ticks, 8), SyscallSucceedsWithValue(8));
  EXPECT_GE(ticks, 10u);
  // It goes on: the next read waits for the next interval.
  ASSERT_THAT(read(fd.get(), &ticks, 8), SyscallSucceedsWithValue(8));
  EXPECT_GE(ticks, 1u);
  itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_interval), kMs);
  EXPECT_LE(Ns(cur.it_value), kMs);
}

INSTANTIATE_TEST_SUITE_P(Clocks, TimerfdClock,
                         testing::Values(CLOCK_REALTIME, CLOCK_MONOTONIC,
                                         CLOCK_BOOTTIME));

TEST(Timerfd, OldValueAndGettime) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC);
  itimerspec s = Spec(100'000 * kMs, 7 * kMs);
  itimerspec old;
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, &old), SyscallSucceeds());
  EXPECT_EQ(Ns(old.it_value), 0);
  itimerspec cur;
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_GT(Ns(cur.it_value), 99'000 * kMs);
  EXPECT_LE(Ns(cur.it_value), 100'000 * kMs);
  EXPECT_EQ(Ns(cur.it_interval), 7 * kMs);
  itimerspec off = Spec(0);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &off, &old), SyscallSucceeds());
  EXPECT_GT(Ns(old.it_value), 99'000 * kMs);
  EXPECT_EQ(Ns(old.it_interval), 7 * kMs);
  ASSERT_THAT(timerfd_gettime(fd.get(), &cur), SyscallSucceeds());
  EXPECT_EQ(Ns(cur.it_value), 0);
}

TEST(Timerfd, SettimeForgetsExpirations) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC, TFD_NONBLOCK);
  itimerspec past = Spec(1);
  ASSERT_THAT(timerfd_settime(fd.get(), TFD_TIMER_ABSTIME, &past, nullptr),
              SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
  itimerspec later = Spec(100'000 * kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &later, nullptr), SyscallSucceeds());
  uint64_t ticks;
  EXPECT_THAT(read(fd.get(), &ticks, 8), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(Timerfd, CancelOnSetAccepted) {
  FileDescriptor fd = Timer(CLOCK_REALTIME);
  itimerspec s = Spec(NowNs(CLOCK_REALTIME) + kMs);
  ASSERT_THAT(timerfd_settime(fd.get(),
                              TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s,
                              nullptr),
              SyscallSucceeds());
  uint64_t ticks = 0;
  ASSERT_THAT(read(fd.get(), &ticks, 8), SyscallSucceedsWithValue(8));
  EXPECT_EQ(ticks, 1u);
}

TEST(Timerfd, PollWokenByExpiry) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC);
  itimerspec s = Spec(2 * kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  struct pollfd p = {fd.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN);
}

TEST(Timerfd, BlockingReadInterrupted) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC);
  ExpectInterrupted(
      [&] {
        uint64_t v;
        return static_cast<long>(read(fd.get(), &v, 8));
      },
      SIGUSR1);
}

// A read blocked on the description goes on after its fd is closed, and
// ends when the timer (armed through another fd) expires.
TEST(Timerfd, CloseWhileBlocked) {
  const int raw = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  ASSERT_GE(raw, 0);
  FileDescriptor other(dup(raw));
  BlockedCall reader([&] {
    uint64_t v = 0;
    return read(raw, &v, 8) == 8 ? static_cast<long>(v) : -1;
  });
  reader.WaitBlocked();
  ASSERT_THAT(close(raw), SyscallSucceeds());
  itimerspec s = Spec(kMs);
  ASSERT_THAT(timerfd_settime(other.get(), 0, &s, nullptr), SyscallSucceeds());
  EXPECT_EQ(reader.Join(), 1);
}

// The child shares the description: its read takes the expiration.
TEST(Timerfd, SharedAcrossFork) {
  FileDescriptor fd = Timer(CLOCK_MONOTONIC);
  itimerspec s = Spec(kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    uint64_t v = 0;
    _exit(read(fd.get(), &v, 8) == 8 && v == 1 ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(status, 0);
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST(Timerfd, Fdinfo) {
  FileDescriptor fd = Timer(CLOCK_BOOTTIME);
  itimerspec s = Spec(100'000 * kMs, 3 * kMs);
  ASSERT_THAT(timerfd_settime(fd.get(), 0, &s, nullptr), SyscallSucceeds());
  EXPECT_EQ(FdinfoField(fd.get(), "clockid:"), std::to_string(CLOCK_BOOTTIME));
  EXPECT_EQ(FdinfoField(fd.get(), "ticks:"), "0");
  EXPECT_EQ(FdinfoField(fd.get(), "settime flags:"), "00");
  EXPECT_EQ(FdinfoField(fd.get(), "it_interval:"), "(0, 3000000)");
  char link[64] = {};
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_THAT(readlink(proc.c_str(), link, sizeof link - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[timerfd]");
}

}  // namespace
}  // namespace syscall_test
