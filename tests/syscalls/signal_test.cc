// Signal sending and handling: rt_sigaction flags, masks, rt_sigpending,
// rt_sigsuspend, rt_sigtimedwait, kill/tkill/tgkill, rt_(tg)sigqueueinfo,
// restart_syscall, SA_RESTART (where a timer exists to interrupt a call).
#include <linux/futex.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "test_util.h"

namespace syscall_test {
namespace {

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

// Installs an action for the test's duration.
class ScopedSigaction {
 public:
  ScopedSigaction(int sig, void (*fn)(int, siginfo_t*, void*), int flags,
                  uint64_t mask = 0)
      : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    for (int s = 1; s <= 64; ++s)
      if (mask & Bit(s)) sigaddset(&sa.sa_mask, s);
    EXPECT_THAT(sigaction(sig, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_;
};

// Restores the signal mask at the end of the test.
class ScopedMask {
 public:
  ScopedMask() { sigprocmask(SIG_SETMASK, nullptr, &old_); }
  ~ScopedMask() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  void Block(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    EXPECT_THAT(sigprocmask(SIG_BLOCK, &s, nullptr), SyscallSucceeds());
  }

 private:
  sigset_t old_;
};

uint64_t CurrentMask() {
  uint64_t m = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &m, 8);
  return m;
}

// What the last handler saw.
std::atomic<int> g_count;
siginfo_t g_info;
uint64_t g_mask_in_handler;

void Record(int sig, siginfo_t* info, void*) {
  g_count++;
  g_info = *info;
  g_mask_in_handler = CurrentMask();
}

void Reset() {
  g_count = 0;
  g_info = {};
  g_mask_in_handler = 0;
}

TEST(SignalTest, KillRunsHandlerWithSenderInfo) {
  Reset();
  ScopedSigaction sa(SIGUSR1, Record, 0);
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_USER);
  EXPECT_EQ(g_info.si_pid, getpid());
  EXPECT_EQ(g_info.si_uid, getuid());
}

TEST(SignalTest, RaiseIsTgkill) {
  Reset();
  ScopedSigaction sa(SIGUSR2, Record, 0);
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_code, SI_TKILL);
  EXPECT_EQ(g_info.si_pid, getpid());
}

TEST(SignalTest, SigqueueCarriesValue) {
  Reset();
  ScopedSigaction sa(SIGRTMIN, Record, 0);
  ASSERT_THAT(sigqueue(getpid(), SIGRTMIN, sigval{.sival_int = 1234}),
              SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_code, SI_QUEUE);
  EXPECT_EQ(g_info.si_value.sival_int, 1234);
}

TEST(SignalTest, MaskDuringHandler) {
  Reset();
  ScopedMask m;
  ScopedSigaction sa(SIGUSR1, Record, 0, Bit(SIGUSR2) | Bit(SIGKILL));
  const uint64_t before = CurrentMask();
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_mask_in_handler, before | Bit(SIGUSR1) | Bit(SIGUSR2));
  EXPECT_EQ(CurrentMask(), before);  // sigreturn restored it
}

TEST(SignalTest, NodeferLeavesSignalUnblocked) {
  Reset();
  ScopedMask m;
  ScopedSigaction sa(SIGUSR1, Record, SA_NODEFER);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_mask_in_handler & Bit(SIGUSR1), 0u);
}

TEST(SignalTest, ResethandRestoresDefault) {
  Reset();
  ScopedSigaction sa(SIGUSR1, Record, SA_RESETHAND);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  struct sigaction now;
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  EXPECT_EQ(g_mask_in_handler & Bit(SIGUSR1), Bit(SIGUSR1));
}

TEST(SignalTest, UnknownFlagsReadBackAsZero) {
  struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
  } act = {reinterpret_cast<uint64_t>(SIG_IGN), 0x400 | SA_RESTART, 0, 0},
    old = {};
  ASSERT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8),
              SyscallSucceeds());
  kernel_sigaction got = {};
  ASSERT_THAT(syscall(SYS_rt_sigaction, SIGUSR1, &old, &got, 8),
              SyscallSucceeds());
  EXPECT_EQ(got.flags, uint64_t{SA_RESTART});  // SA_UNSUPPORTED dropped
}

TEST(SignalTest, BlockedSignalIsPendingUntilUnblocked) {
  Reset();
  ScopedMask m;
  ScopedSigaction sa(SIGUSR1, Record, 0);
  m.Block(SIGUSR1);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(g_count, 0);
  uint64_t pending = 0;
  ASSERT_THAT(syscall(SYS_rt_sigpending, &pending, 8), SyscallSucceeds());
  EXPECT_EQ(pending, Bit(SIGUSR1));
  // A second standard signal coalesces with the first.
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  sigset_t none;
  sigemptyset(&none);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &none, nullptr), SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  ASSERT_THAT(syscall(SYS_rt_sigpending, &pending, 8), SyscallSucceeds());
  EXPECT_EQ(pending, 0u);
}

TEST(SignalTest, RealtimeSignalsQueue) {
  Reset();
  ScopedMask m;
  ScopedSigaction sa(SIGRTMIN + 1, Record, 0);
  m.Block(SIGRTMIN + 1);
  for (int i = 0; i < 3; ++i)
    ASSERT_THAT(raise(SIGRTMIN + 1), SyscallSucceeds());
  sigset_t none;
  sigemptyset(&none);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &none, nullptr), SyscallSucceeds());
  EXPECT_EQ(g_count, 3);
}

TEST(SignalTest, RealtimeQueueIsBoundedBySigpendingLimit) {
  ScopedMask m;
  const int sig = SIGRTMIN + 2;
  m.Block(sig);
  rlimit old;
  ASSERT_THAT(getrlimit(RLIMIT_SIGPENDING, &old), SyscallSucceeds());
  rlimit low = {2, old.rlim_max};
  ASSERT_THAT(setrlimit(RLIMIT_SIGPENDING, &low), SyscallSucceeds());
  // Linux counts per user, so other processes may use some of the two.
  int queued = 0;
  long r = 0;
  while (queued < 5 && (r = sigqueue(getpid(), sig, sigval{})) == 0) ++queued;
  const int err = errno;
  setrlimit(RLIMIT_SIGPENDING, &old);
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EAGAIN);
  EXPECT_LE(queued, 2);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  timespec zero = {0, 0};
  for (int i = 0; i < queued; ++i)
    EXPECT_THAT(sigtimedwait(&set, nullptr, &zero), SyscallSucceeds());
}

TEST(SignalTest, SigpendingErrors) {
  uint64_t pending;
  EXPECT_THAT(syscall(SYS_rt_sigpending, &pending, 9),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_rt_sigpending, BadAddress(), 8),
              SyscallFailsWithErrno(EFAULT));
}

TEST(SignalTest, SigsuspendReturnsEintrAfterHandler) {
  Reset();
  ScopedMask m;
  ScopedSigaction sa(SIGUSR1, Record, SA_RESTART);
  m.Block(SIGUSR1);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  const uint64_t before = CurrentMask();
  uint64_t none = 0;
  EXPECT_THAT(syscall(SYS_rt_sigsuspend, &none, 8),
              SyscallFailsWithErrno(EINTR));
  EXPECT_EQ(g_count, 1);
  // The handler ran with the temporary mask plus the signal.
  EXPECT_EQ(g_mask_in_handler, Bit(SIGUSR1));
  EXPECT_EQ(CurrentMask(), before);
}

TEST(SignalTest, SigtimedwaitTakesPendingSignal) {
  ScopedMask m;
  m.Block(SIGUSR2);
  ASSERT_THAT(raise(SIGUSR2), SyscallSucceeds());
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  siginfo_t info = {};
  timespec ts = {0, 0};
  // Raw: glibc's wrapper rewrites SI_TKILL to SI_USER.
  EXPECT_THAT(syscall(SYS_rt_sigtimedwait, &set, &info, &ts, 8),
              SyscallSucceedsWithValue(SIGUSR2));
  EXPECT_EQ(info.si_signo, SIGUSR2);
  EXPECT_EQ(info.si_code, SI_TKILL);
  // Consumed: nothing left.
  EXPECT_THAT(sigtimedwait(&set, &info, &ts), SyscallFailsWithErrno(EAGAIN));
}

TEST(SignalTest, SigtimedwaitTimesOut) {
  ScopedMask m;
  m.Block(SIGUSR2);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  timespec ts = {0, 20 * 1000 * 1000};
  timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  EXPECT_THAT(sigtimedwait(&set, nullptr, &ts), SyscallFailsWithErrno(EAGAIN));
  clock_gettime(CLOCK_MONOTONIC, &end);
  const int64_t ns = (end.tv_sec - start.tv_sec) * 1000000000LL +
                     (end.tv_nsec - start.tv_nsec);
  EXPECT_GE(ns, 19 * 1000 * 1000);
  timespec bad = {0, 1000000000};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &bad), SyscallFailsWithErrno(EINVAL));
}

TEST(SignalTest, DefaultIgnoredSignalsDoNothing) {
  for (int sig : {SIGCHLD, SIGURG, SIGWINCH, SIGCONT}) {
    EXPECT_THAT(kill(getpid(), sig), SyscallSucceeds()) << sig;
  }
  uint64_t pending = 0;
  ASSERT_THAT(syscall(SYS_rt_sigpending, &pending, 8), SyscallSucceeds());
  EXPECT_EQ(pending, 0u);
}

TEST(SignalTest, IgnoredSignalIsDiscardedEvenWhenPending) {
  ScopedMask m;
  m.Block(SIGUSR1);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  struct sigaction ign = {}, old;
  ign.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR1, &ign, &old), SyscallSucceeds());
  uint64_t pending = 1;
  ASSERT_THAT(syscall(SYS_rt_sigpending, &pending, 8), SyscallSucceeds());
  EXPECT_EQ(pending, 0u);
  sigaction(SIGUSR1, &old, nullptr);
}

TEST(SignalTest, KillErrors) {
  EXPECT_THAT(kill(getpid(), 0), SyscallSucceeds());
  EXPECT_THAT(kill(0, 0), SyscallSucceeds());
  EXPECT_THAT(kill(getpid(), 65), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(kill(getpid(), -1), SyscallFailsWithErrno(EINVAL));
  // A pid no process has (the default pid_max is far below).
  EXPECT_THAT(kill(1 << 30, SIGUSR1), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(kill(1 << 30, 99), SyscallFailsWithErrno(ESRCH));
}

TEST(SignalTest, TkillTgkillErrors) {
  const int tid = static_cast<int>(syscall(SYS_gettid));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), tid, 0), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_tkill, tid, 0), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_tgkill, 0, tid, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), 0, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tkill, -1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, getpid(), tid, 65),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_tgkill, 1 << 30, tid, 0),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_tkill, 1 << 30, 0), SyscallFailsWithErrno(ESRCH));
}

TEST(SignalTest, SigqueueinfoForgeryRules) {
  Reset();
  ScopedSigaction sa(SIGUSR1, Record, 0);
  siginfo_t info = {};
  info.si_code = SI_KERNEL;  // positive: "from the kernel"
  info.si_value.sival_int = 7;
  // To oneself anything goes, and si_signo comes from the argument.
  info.si_signo = SIGUSR2;
  ASSERT_THAT(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &info),
              SyscallSucceeds());
  EXPECT_EQ(g_count, 1);
  EXPECT_EQ(g_info.si_signo, SIGUSR1);
  EXPECT_EQ(g_info.si_code, SI_KERNEL);
  // To another pid, si_code >= 0 or SI_TKILL is refused before the lookup.
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, 1 << 30, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  info.si_code = SI_TKILL;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, 1 << 30, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
  info.si_code = SI_QUEUE;
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, 1 << 30, SIGUSR1, &info),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  const int tid = static_cast<int>(syscall(SYS_gettid));
  EXPECT_THAT(syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGUSR1, &info),
              SyscallSucceeds());
  EXPECT_EQ(g_count, 2);
  EXPECT_THAT(syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR1, &info),
              SyscallFailsWithErrno(EINVAL));
  info.si_code = SI_USER;
  EXPECT_THAT(syscall(SYS_rt_tgsigqueueinfo, 1 << 30, 1 << 30, SIGUSR1, &info),
              SyscallFailsWithErrno(EPERM));
}

TEST(SignalTest, RestartSyscallWithoutRestartIsEintr) {
  EXPECT_THAT(syscall(SYS_restart_syscall), SyscallFailsWithErrno(EINTR));
}

// SA_RESTART needs something to interrupt a blocked call; single-threaded,
// that is a timer. Skipped where setitimer is not implemented yet.
std::atomic<uint32_t> g_futex_word;
void SetWord(int, siginfo_t*, void*) { g_futex_word = 1; }

bool ArmTimer(int usec) {
  itimerval it = {{0, 0}, {0, usec}};
  return syscall(SYS_setitimer, ITIMER_REAL, &it, nullptr) == 0;
}

long FutexWait(std::atomic<uint32_t>* word) {
  return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
}

TEST(SignalTest, FutexWaitEintrWithoutSaRestart) {
  ScopedSigaction sa(SIGALRM, SetWord, 0);
  g_futex_word = 0;
  if (!ArmTimer(20000)) GTEST_SKIP() << "no setitimer";
  EXPECT_THAT(FutexWait(&g_futex_word), SyscallFailsWithErrno(EINTR));
}

TEST(SignalTest, FutexWaitRestartsWithSaRestart) {
  ScopedSigaction sa(SIGALRM, SetWord, SA_RESTART);
  g_futex_word = 0;
  if (!ArmTimer(20000)) GTEST_SKIP() << "no setitimer";
  // Restarted, the wait sees the word the handler changed.
  EXPECT_THAT(FutexWait(&g_futex_word), SyscallFailsWithErrno(EAGAIN));
}

TEST(SignalTest, NanosleepEintrEvenWithSaRestart) {
  ScopedSigaction sa(SIGALRM, SetWord, SA_RESTART);
  if (!ArmTimer(20000)) GTEST_SKIP() << "no setitimer";
  timespec req = {5, 0}, rem = {};
  EXPECT_THAT(syscall(SYS_nanosleep, &req, &rem), SyscallFailsWithErrno(EINTR));
  EXPECT_GE(rem.tv_sec, 3);
  EXPECT_LE(rem.tv_sec, 5);
}

}  // namespace
}  // namespace syscall_test
