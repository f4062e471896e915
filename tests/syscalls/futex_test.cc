// futex(2): WAIT/WAKE(_BITSET), argument errors, timeouts, signals,
// REQUEUE and CMP_REQUEUE.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <vector>

#include "futex_util.h"
#include "test_util.h"

namespace futex_test {
namespace {

using syscall_test::Opaque;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using ::testing::Ge;

TEST(FutexTest, WaitOnDifferentValueIsEagain) {
  Word word{1};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT, 0), SyscallFailsWithErrno(EAGAIN));
}

TEST(FutexTest, MisalignedWordIsEinval) {
  alignas(8) char buf[16] = {};
  void* odd = buf + 2;
  EXPECT_THAT(Futex(odd, FUTEX_WAIT_PRIVATE, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(odd, FUTEX_WAKE, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(FutexVal2(buf, FUTEX_REQUEUE_PRIVATE, 1, 1, odd, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(FutexVal2(buf, FUTEX_WAKE_OP_PRIVATE, 1, 1, odd, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, ZeroBitsetIsEinval) {
  Word word{0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, nullptr, nullptr, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(FutexTest, BadTimespecIsEinval) {
  Word word{0};
  for (timespec ts :
       {timespec{0, 1000000000}, timespec{0, -1}, timespec{-1, 0}}) {
    EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts),
                SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, nullptr,
                      FUTEX_BITSET_MATCH_ANY),
                SyscallFailsWithErrno(EINVAL));
    // The timeout is checked before the clock flag.
    EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts),
                SyscallFailsWithErrno(EINVAL));
  }
  EXPECT_THAT(
      Futex(&word, FUTEX_WAIT_PRIVATE, 0, syscall_test::BadAddress<timespec>()),
      SyscallFailsWithErrno(EFAULT));
}

TEST(FutexTest, ClockRealtimeOnlyForWaitBitset) {
  Word word{1};
  timespec ts = {1, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
                    &ts, nullptr, FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(FutexTest, FutexFdIsEnosys) {
  Word word{0};
  EXPECT_THAT(Futex(&word, 2 /* FUTEX_FD */, 0), SyscallFailsWithErrno(ENOSYS));
}

TEST(FutexTest, WakeWithoutWaitersIsZero) {
  Word word{0};
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(&word, FUTEX_WAKE, 1), SyscallSucceedsWithValue(0));
}

// A private futex is named by its address alone: calls that do not read the
// word work on unmapped memory. Shared ones must find the mapping.
TEST(FutexTest, OnlySharedAndReadingCallsNeedTheMapping) {
  Word* bad = UnmappedWord();
  EXPECT_THAT(Futex(bad, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(FutexVal2(bad, FUTEX_REQUEUE_PRIVATE, 1, 1, bad, 0),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(bad, FUTEX_WAKE, 1), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Futex(bad, FUTEX_WAIT_PRIVATE, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(FutexVal2(bad, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, bad, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST(FutexTest, RelativeTimeoutExpires) {
  Word word{0};
  const timespec rel = {0, 50 * 1000 * 1000};
  const int64_t start = Nanos(Now(CLOCK_MONOTONIC));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &rel),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_GE(Nanos(Now(CLOCK_MONOTONIC)) - start, Nanos(rel));
}

TEST(FutexTest, AbsoluteTimeoutExpiresOnEitherClock) {
  Word word{0};
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME}) {
    const int flag = clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0;
    const int64_t deadline = Nanos(Now(clock)) + 50 * 1000 * 1000;
    const timespec abs = FromNanos(deadline);
    EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE | flag, 0, &abs, nullptr,
                      FUTEX_BITSET_MATCH_ANY),
                SyscallFailsWithErrno(ETIMEDOUT));
    EXPECT_GE(Nanos(Now(clock)), deadline) << "clock " << clock;
  }
}

TEST(FutexTest, PastDeadlineChecksTheValueFirst) {
  Word word{0};
  const timespec past = {0, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(ETIMEDOUT));
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, nullptr,
                    FUTEX_BITSET_MATCH_ANY),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(FutexTest, WakeWakesAWaiter) {
  Word word{0};
  WaiterThread waiter(&word, 0, true);
  AwaitWaiters(&word, 1, true);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(waiter.Join(), 0);
}

TEST(FutexTest, WakeCountsAndWakesAtLeastOne) {
  Word word{0};
  std::vector<std::unique_ptr<WaiterThread>> waiters;
  for (int i = 0; i < 4; ++i)
    waiters.push_back(std::make_unique<WaiterThread>(&word, 0, true));
  AwaitWaiters(&word, 4, true);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(Waiters(&word, true), 2);
  // A count of 0 (or negative) still wakes one, as Linux.
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(Waiters(&word, true), 1);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  for (auto& w : waiters) EXPECT_EQ(w->Join(), 0);
}

TEST(FutexTest, BitsetsSelectWaiters) {
  Word word{0};
  WaiterThread one(&word, 0, true, 0x1);
  WaiterThread two(&word, 0, true, 0x2);
  AwaitWaiters(&word, 2, true);
  EXPECT_THAT(
      Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, nullptr, 0x4),
      SyscallSucceedsWithValue(0));
  EXPECT_THAT(
      Futex(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, nullptr, 0x2),
      SyscallSucceedsWithValue(1));
  EXPECT_EQ(two.Join(), 0);
  EXPECT_EQ(Waiters(&word, true), 1);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(one.Join(), 0);
}

// As on Linux, a private and a shared futex on the same word are different
// futexes.
TEST(FutexTest, PrivateAndSharedWaitersDoNotMatch) {
  Word word{0};
  for (bool waiter_private : {true, false}) {
    WaiterThread waiter(&word, 0, waiter_private);
    AwaitWaiters(&word, 1, waiter_private);
    EXPECT_EQ(Waiters(&word, !waiter_private), 0);
    EXPECT_THAT(Futex(&word, FUTEX_WAKE | Private(!waiter_private), INT_MAX),
                SyscallSucceedsWithValue(0));
    EXPECT_THAT(Futex(&word, FUTEX_WAKE | Private(waiter_private), INT_MAX),
                SyscallSucceedsWithValue(1));
    EXPECT_EQ(waiter.Join(), 0);
  }
}

TEST(FutexTest, CmpRequeueWakesThenMoves) {
  Word from{0}, to{7};
  std::vector<std::unique_ptr<WaiterThread>> waiters;
  for (int i = 0; i < 4; ++i)
    waiters.push_back(std::make_unique<WaiterThread>(&from, 0, true));
  AwaitWaiters(&from, 4, true);
  // Wake one, move two: three are counted.
  EXPECT_THAT(FutexVal2(&from, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &to, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(Waiters(&from, true), 1);
  EXPECT_EQ(Waiters(&to, true), 2);
  // The moved waiters now answer to the other word only.
  EXPECT_THAT(Futex(&to, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(2));
  EXPECT_THAT(Futex(&from, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(1));
  for (auto& w : waiters) EXPECT_EQ(w->Join(), 0);
}

TEST(FutexTest, RequeueIgnoresTheValue) {
  Word from{0}, to{0};
  WaiterThread a(&from, 0, false), b(&from, 0, false);
  AwaitWaiters(&from, 2, false);
  from = 5;  // FUTEX_REQUEUE does not compare
  EXPECT_THAT(FutexVal2(&from, FUTEX_REQUEUE, 0, INT_MAX, &to, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(Waiters(&to, false), 2);
  EXPECT_THAT(Futex(&to, FUTEX_WAKE, INT_MAX), SyscallSucceedsWithValue(2));
  EXPECT_EQ(a.Join(), 0);
  EXPECT_EQ(b.Join(), 0);
}

TEST(FutexTest, CmpRequeueValueMismatchIsEagain) {
  Word from{0}, to{0};
  WaiterThread waiter(&from, 0, true);
  AwaitWaiters(&from, 1, true);
  EXPECT_THAT(FutexVal2(&from, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &to, 1),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(Waiters(&from, true), 1);  // nobody woken or moved
  EXPECT_THAT(Futex(&from, FUTEX_WAKE_PRIVATE, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(waiter.Join(), 0);
}

TEST(FutexTest, RequeueCounts) {
  Word from{0}, to{0};
  EXPECT_THAT(
      FutexVal2(&from, FUTEX_CMP_REQUEUE_PRIVATE, Opaque(-1), 1, &to, 0),
      SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(FutexVal2(&from, FUTEX_REQUEUE_PRIVATE, 1, 0xffffffff, &to, 0),
              SyscallFailsWithErrno(EINVAL));
  // The count is the low 32 bits of the timeout argument.
  EXPECT_THAT(
      FutexVal2(&from, FUTEX_REQUEUE_PRIVATE, 1, uintptr_t{1} << 32, &to, 0),
      SyscallSucceedsWithValue(0));
  // Only PI requeues refuse the same futex.
  EXPECT_THAT(FutexVal2(&from, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &from, 0),
              SyscallSucceedsWithValue(0));
}

// A timed wait resumes through restart_syscall(2) unless a handler runs;
// under a handler it fails with EINTR even with SA_RESTART (Linux's
// ERESTART_RESTARTBLOCK), where an untimed one would restart.
void Nothing(int) {}

TEST(FutexTest, TimedWaitInterruptedByHandlerIsEintr) {
  struct sigaction sa = {}, old;
  sa.sa_handler = Nothing;
  sa.sa_flags = SA_RESTART;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  Word word{0};
  std::atomic<bool> done{false};
  const pid_t tid = gettid();
  // Signal until the wait has returned: one signal may come before it.
  std::thread signaller([&] {
    while (!done) {
      syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
      usleep(1000);
    }
  });
  const timespec rel = {60, 0};
  EXPECT_THAT(Futex(&word, FUTEX_WAIT_PRIVATE, 0, &rel),
              SyscallFailsWithErrno(EINTR));
  done = true;
  signaller.join();
  sigaction(SIGUSR1, &old, nullptr);
}

// Stopped and continued (no handler runs), a timed wait resumes through
// restart_syscall(2) to its original deadline: no EINTR, no early return.
TEST(FutexTest, TimedWaitSurvivesStopAndContinue) {
  constexpr int64_t kTimeout = 300 * 1000 * 1000;
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    Word word{0};
    const timespec rel = FromNanos(kTimeout);
    const int64_t start = Nanos(Now(CLOCK_MONOTONIC));
    long r = Futex(&word, FUTEX_WAIT_PRIVATE, 0, &rel);
    bool ok = r == -1 && errno == ETIMEDOUT &&
              Nanos(Now(CLOCK_MONOTONIC)) - start >= kTimeout;
    _exit(ok ? 0 : 1);
  }
  // Stop and continue it until it is done (pacing only, no thresholds).
  int status = 0;
  pid_t done = 0;
  while (done == 0) {
    kill(pid, SIGSTOP);
    usleep(2000);
    kill(pid, SIGCONT);
    usleep(2000);
    ASSERT_THAT(done = waitpid(pid, &status, WNOHANG), SyscallSucceeds());
  }
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace futex_test
