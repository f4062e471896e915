// ITIMER_PROF and ITIMER_VIRTUAL in a multi-threaded process: Linux sends
// the signal to the thread whose CPU time made the timer expire, so every
// thread that keeps a CPU busy receives some. No timing thresholds: each
// busy thread must get at least one signal before the threads together
// have received kMaxSignals (with fair delivery the chance that one of
// three misses out on 300 is nil; with all signals going to one thread
// it always does).
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cpu_spin.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kThreads = 3;
constexpr int kMaxSignals = 300;

std::atomic<int> g_total{0};
thread_local volatile sig_atomic_t t_mine = 0;

void CountOnThisThread(int, siginfo_t*, void*) {
  t_mine = t_mine + 1;
  g_total.fetch_add(1, std::memory_order_relaxed);
}

void ExpectEveryBusyThreadGetsSome(int which, int sig) {
  ScopedHandler handler(sig, CountOnThisThread);
  // The main thread only waits: it blocks the signal, the spinners take
  // it (they unblock it themselves).
  ScopedBlock block({sig});
  SafetyNet net;
  g_total = 0;
  std::atomic<int> satisfied{0};
  std::vector<int> got(kThreads, 0);
  std::vector<std::thread> threads;
  const struct itimerval it = {{0, 1000}, {0, 1000}};
  ASSERT_THAT(syscall(SYS_setitimer, which, &it, nullptr), SyscallSucceeds());
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      bool counted = false;
      // No syscalls while spinning: only the signal interrupts us.
      while (satisfied.load() < kThreads &&
             g_total.load(std::memory_order_relaxed) < kMaxSignals &&
             !SafetyNet::TimedOut()) {
        if (!counted && t_mine > 0) {
          counted = true;
          satisfied.fetch_add(1);
        }
      }
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      got[i] = t_mine;
    });
  }
  for (auto& th : threads) th.join();
  const struct itimerval off = {};
  syscall(SYS_setitimer, which, &off, nullptr);
  ASSERT_FALSE(SafetyNet::TimedOut()) << "too few signals in the safety time";
  for (int i = 0; i < kThreads; ++i)
    EXPECT_GT(got[i], 0) << "thread " << i << " of " << kThreads << " got none of "
                         << g_total.load();
}

TEST(ItimerThreadsTest, ProfSignalsReachEveryBusyThread) {
  ExpectEveryBusyThreadGetsSome(ITIMER_PROF, SIGPROF);
}

TEST(ItimerThreadsTest, VirtualSignalsReachEveryBusyThread) {
  ExpectEveryBusyThreadGetsSome(ITIMER_VIRTUAL, SIGVTALRM);
}

}  // namespace
}  // namespace syscall_test
