// POSIX timers: timer_create/settime/gettime/getoverrun/delete on host
// clocks, SIGEV_SIGNAL/NONE/THREAD_ID, glibc's SIGEV_THREAD, overruns,
// one queued signal at a time, errors.
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cpu_spin.h"
#include "test_util.h"
#include "timer_util.h"

namespace syscall_test {
namespace {

TEST(TimerTest, SignalCarriesTimerIdAndValue) {
  ScopedBlock block({SIGUSR1});
  struct sigevent sev = SignalEvent(SIGUSR1, reinterpret_cast<void*>(0x1234));
  Timer t(CLOCK_MONOTONIC, &sev);
  const struct itimerspec spec = Spec(kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  siginfo_t info = Await(SIGUSR1);
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_timerid, t.id());
  EXPECT_EQ(info.si_overrun, 0);
  EXPECT_EQ(info.si_value.sival_ptr, reinterpret_cast<void*>(0x1234));
}

TEST(TimerTest, NoSigeventMeansSigalrmWithTheId) {
  ScopedBlock block({SIGALRM});
  Timer t(CLOCK_REALTIME, nullptr);
  const struct itimerspec spec = Spec(kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  siginfo_t info = Await(SIGALRM);
  EXPECT_EQ(info.si_code, SI_TIMER);
  EXPECT_EQ(info.si_timerid, t.id());
  EXPECT_EQ(info.si_value.sival_int, t.id());
}

volatile sig_atomic_t g_handled = 0;

TEST(TimerTest, HandlerRunsForTimerSignal) {
  ScopedHandler handler(SIGUSR2, [](int, siginfo_t* info, void*) {
    if (info->si_code == SI_TIMER) g_handled = 1;
  });
  g_handled = 0;
  struct sigevent sev = SignalEvent(SIGUSR2);
  Timer t(CLOCK_MONOTONIC, &sev);
  const struct itimerspec spec = Spec(kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSafetyNs;
  while (!g_handled && ClockNs(CLOCK_MONOTONIC) < give_up) usleep(1000);
  EXPECT_TRUE(g_handled);
}

TEST(TimerTest, ExpiresNoEarlierThanAskedRelativeAndAbsolute) {
  ScopedBlock block({SIGUSR1});
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME}) {
    SCOPED_TRACE(c);
    struct sigevent sev = SignalEvent(SIGUSR1);
    Timer t(c, &sev);
    int64_t start = ClockNs(c);
    struct itimerspec rel = Spec(30 * kNsPerMs);
    ASSERT_THAT(Settime(t.id(), 0, &rel), SyscallSucceeds());
    Await(SIGUSR1);
    EXPECT_GE(ClockNs(c) - start, 30 * kNsPerMs);

    const int64_t deadline = ClockNs(c) + 30 * kNsPerMs;
    struct itimerspec abs = Spec(deadline);
    ASSERT_THAT(Settime(t.id(), TIMER_ABSTIME, &abs), SyscallSucceeds());
    Await(SIGUSR1);
    EXPECT_GE(ClockNs(c), deadline);

    // A deadline in the past expires at once.
    struct itimerspec past = Spec(1);
    ASSERT_THAT(Settime(t.id(), TIMER_ABSTIME, &past), SyscallSucceeds());
    Await(SIGUSR1);
  }
}

TEST(TimerTest, GettimeShowsTimeLeftAndSettimeTheOldSetting) {
  struct sigevent sev = SignalEvent(SIGUSR1);
  Timer t(CLOCK_MONOTONIC, &sev);
  struct itimerspec cur, old;
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  const struct itimerspec spec = Spec(10 * kNsPerSecond, 2 * kNsPerSecond);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), 10 * kNsPerSecond);
  EXPECT_EQ(ToNs(cur.it_interval), 2 * kNsPerSecond);
  const struct itimerspec off = Spec(0, kNsPerSecond);
  ASSERT_THAT(Settime(t.id(), 0, &off, &old), SyscallSucceeds());
  EXPECT_GT(ToNs(old.it_value), 0);
  EXPECT_EQ(ToNs(old.it_interval), 2 * kNsPerSecond);
  // Disarmed: nothing left, and no interval either.
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);
  EXPECT_EQ(ToNs(cur.it_interval), 0);
}

TEST(TimerTest, OverrunCountsExpirationsWhileTheSignalIsBlocked) {
  ScopedBlock block({SIGUSR1});
  struct sigevent sev = SignalEvent(SIGUSR1);
  Timer t(CLOCK_MONOTONIC, &sev);
  const struct itimerspec spec = Spec(kNsPerMs, kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  const struct timespec nap = FromNs(100 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  // Still pending, an interval timer goes on counting time left.
  struct itimerspec cur;
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), kNsPerMs);
  EXPECT_EQ(Getoverrun(t.id()), 0);  // nothing taken yet
  siginfo_t info = Await(SIGUSR1);
  // At least 100 ms passed since the first expiry at 1 ms: >= 98 more.
  EXPECT_GE(info.si_overrun, 98);
  EXPECT_EQ(Getoverrun(t.id()), info.si_overrun);
}

TEST(TimerTest, QueuesOneSignalAtATime) {
  const int sig = SIGRTMIN + 1;  // real-time: would queue every instance
  ScopedBlock block({sig});
  struct sigevent sev = SignalEvent(sig);
  Timer t(CLOCK_MONOTONIC, &sev);
  const struct itimerspec spec = Spec(kNsPerMs, kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &spec), SyscallSucceeds());
  const struct timespec nap = FromNs(50 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  // The first instance carries the 48+ expirations since: none of them
  // was queued on its own.
  siginfo_t info = Await(sig);
  EXPECT_EQ(info.si_timerid, t.id());
  EXPECT_GE(info.si_overrun, 48);
}

TEST(TimerTest, SigevNoneSendsNothing) {
  // SIGUSR1's default action would kill the test if it were sent.
  struct sigevent sev = {};
  sev.sigev_notify = SIGEV_NONE;
  sev.sigev_signo = SIGUSR1;
  Timer t(CLOCK_MONOTONIC, &sev);
  const struct itimerspec once = Spec(kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &once), SyscallSucceeds());
  const struct timespec nap = FromNs(20 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  struct itimerspec cur;
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_EQ(ToNs(cur.it_value), 0);  // expired
  const struct itimerspec every = Spec(5 * kNsPerMs, 5 * kNsPerMs);
  ASSERT_THAT(Settime(t.id(), 0, &every), SyscallSucceeds());
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  ASSERT_THAT(Gettime(t.id(), &cur), SyscallSucceeds());
  EXPECT_GT(ToNs(cur.it_value), 0);
  EXPECT_LE(ToNs(cur.it_value), 5 * kNsPerMs);
}

TEST(TimerTest, DeleteStopsTheTimer) {
  const int sig = SIGRTMIN + 2;
  ScopedBlock block({sig});
  struct sigevent sev = SignalEvent(sig);
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  const struct itimerspec spec = Spec(200 * kNsPerMs, kNsPerMs);
  ASSERT_THAT(Settime(id, 0, &spec), SyscallSucceeds());
  ASSERT_THAT(Delete(id), SyscallSucceeds());
  const struct timespec nap = FromNs(400 * kNsPerMs);
  ASSERT_THAT(syscall(SYS_nanosleep, &nap, nullptr), SyscallSucceeds());
  EXPECT_FALSE(Pending(sig));
  struct itimerspec cur;
  EXPECT_THAT(Gettime(id, &cur), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Delete(id), SyscallFailsWithErrno(EINVAL));
}

TEST(TimerTest, ThreadIdTargetsThatThread) {
  ScopedBlock block({SIGUSR2});  // the new thread inherits the mask
  int to_thread[2], from_thread[2];
  ASSERT_THAT(pipe(to_thread), SyscallSucceeds());
  ASSERT_THAT(pipe(from_thread), SyscallSucceeds());
  std::atomic<bool> thread_saw_it{false};
  siginfo_t thread_info = {};
  std::thread worker([&] {
    pid_t tid = syscall(SYS_gettid);
    write(from_thread[1], &tid, sizeof(tid));
    char go;
    read(to_thread[0], &go, 1);
    thread_saw_it = Pending(SIGUSR2);
    thread_info = Await(SIGUSR2);
  });
  pid_t tid = 0;
  ASSERT_EQ(read(from_thread[0], &tid, sizeof(tid)), sizeof(tid));
  struct sigevent sev = SignalEvent(SIGUSR2);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev._sigev_un._tid = tid;
  int id;
  ASSERT_THAT(Create(CLOCK_MONOTONIC, &sev, &id), SyscallSucceeds());
  const struct itimerspec spec = Spec(kNsPerMs);
  ASSERT_THAT(Settime(id, 0, &spec), SyscallSucceeds());
  // A one-shot timer reads zero once it has fired.
  struct itimerspec cur = Spec(1);
  const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSafetyNs;
  while (ToNs(cur.it_value) != 0 && ClockNs(CLOCK_MONOTONIC) < give_up) {
    usleep(1000);
    ASSERT_THAT(Gettime(id, &cur), SyscallSucceeds());
  }
  EXPECT_FALSE(Pending(SIGUSR2));  // not this thread's, not the process's
  write(to_thread[1], "g", 1);
  worker.join();
  EXPECT_TRUE(thread_saw_it);
  EXPECT_EQ(thread_info.si_code, SI_TIMER);
  EXPECT_EQ(thread_info.si_timerid, id);
  EXPECT_THAT(Delete(id), SyscallSucceeds());
  for (int fd : {to_thread[0], to_thread[1], from_thread[0], from_thread[1]})
    close(fd);
}

std::atomic<int> g_thread_calls{0};

TEST(TimerTest, GlibcSigevThreadRunsTheFunction) {
  // glibc runs the function on a helper thread that waits for the timer's
  // SIGEV_THREAD_ID signal.
  struct sigevent sev = {};
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = [](union sigval v) {
    g_thread_calls += v.sival_int;
  };
  sev.sigev_value.sival_int = 1;
  timer_t timer;
  ASSERT_THAT(timer_create(CLOCK_MONOTONIC, &sev, &timer), SyscallSucceeds());
  const struct itimerspec spec = Spec(kNsPerMs);
  ASSERT_THAT(timer_settime(timer, 0, &spec, nullptr), SyscallSucceeds());
  const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSafetyNs;
  while (g_thread_calls == 0 && ClockNs(CLOCK_MONOTONIC) < give_up)
    usleep(1000);
  EXPECT_EQ(g_thread_calls, 1);
  EXPECT_THAT(timer_delete(timer), SyscallSucceeds());
}

TEST(TimerTest, Errors) {
  int id;
  EXPECT_THAT(Create(1000, nullptr, &id), SyscallFailsWithErrno(EINVAL));
  for (clockid_t c :
       {CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE})
    EXPECT_THAT(Create(c, nullptr, &id), SyscallFailsWithErrno(EOPNOTSUPP));
  // A CPU clock of a thread that does not exist; an fd clock (none can
  // have timers).
  EXPECT_THAT(Create(ThreadCpuClock(4194305, kCpuSched), nullptr, &id),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Create(ProcessCpuClock(getpid(), 3), nullptr, &id),
              SyscallFailsWithErrno(EOPNOTSUPP));
  for (int signo : {0, -1, 65}) {
    struct sigevent sev = SignalEvent(signo);
    EXPECT_THAT(Create(CLOCK_MONOTONIC, &sev, &id),
                SyscallFailsWithErrno(EINVAL));
  }
  struct sigevent bad_notify = SignalEvent(SIGUSR1);
  bad_notify.sigev_notify = 7;
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &bad_notify, &id),
              SyscallFailsWithErrno(EINVAL));
  struct sigevent no_such_thread = SignalEvent(SIGUSR1);
  no_such_thread.sigev_notify = SIGEV_THREAD_ID;
  no_such_thread._sigev_un._tid = 4194305;  // above any pid_max
  EXPECT_THAT(Create(CLOCK_MONOTONIC, &no_such_thread, &id),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Create(CLOCK_MONOTONIC, BadAddress<struct sigevent>(), &id),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Create(CLOCK_MONOTONIC, nullptr, BadAddress<int>()),
              SyscallFailsWithErrno(EFAULT));

  struct sigevent sev = SignalEvent(SIGUSR1);
  Timer t(CLOCK_MONOTONIC, &sev);
  EXPECT_THAT(Settime(t.id(), 0, nullptr), SyscallFailsWithErrno(EINVAL));
  for (struct timespec bad :
       {timespec{0, kNsPerSecond}, timespec{0, -1}, timespec{-1, 0}}) {
    struct itimerspec v = {{0, 0}, bad}, i = {bad, {1, 0}};
    EXPECT_THAT(Settime(t.id(), 0, &v), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(Settime(t.id(), 0, &i), SyscallFailsWithErrno(EINVAL));
  }
  struct itimerspec cur = Spec(kNsPerSecond);
  EXPECT_THAT(Gettime(t.id(), BadAddress<struct itimerspec>()),
              SyscallFailsWithErrno(EFAULT));
  for (int bad_id : {-1, t.id() + 1000}) {
    EXPECT_THAT(Gettime(bad_id, &cur), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(Settime(bad_id, 0, &cur), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(Getoverrun(bad_id), SyscallFailsWithErrno(EINVAL));
    EXPECT_THAT(Delete(bad_id), SyscallFailsWithErrno(EINVAL));
  }
}

}  // namespace
}  // namespace syscall_test
