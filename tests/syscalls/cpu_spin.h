// Helpers for tests of CPU time: burning CPU in user mode, reading clocks
// with the raw syscall, and a safety net for loops that make no syscalls.
#ifndef TESTS_SYSCALLS_CPU_SPIN_H_
#define TESTS_SYSCALLS_CPU_SPIN_H_

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <thread>

#include "test_util.h"

namespace syscall_test {

inline constexpr int64_t kNsPerMs = 1'000'000;
inline constexpr int64_t kNsPerSecond = 1'000'000'000;
// How long any wait in these tests may last before it counts as a hang.
inline constexpr int64_t kSafetyNs = 15 * kNsPerSecond;

// Linux's CPU clock ids (clock_getcpuclockid(3) makes the process ones).
inline clockid_t ProcessCpuClock(pid_t pid, int kind) {
  return static_cast<clockid_t>((~static_cast<unsigned>(pid) << 3) | kind);
}
inline clockid_t ThreadCpuClock(pid_t tid, int kind) {
  return ProcessCpuClock(tid, kind | 4);
}
inline constexpr int kCpuProf = 0;   // user + system
inline constexpr int kCpuVirt = 1;   // user
inline constexpr int kCpuSched = 2;  // scheduler runtime

inline int64_t ToNs(const struct timespec& ts) {
  return ts.tv_sec * kNsPerSecond + ts.tv_nsec;
}
inline int64_t ToNs(const struct timeval& tv) {
  return tv.tv_sec * kNsPerSecond + tv.tv_usec * 1000;
}
inline struct timespec FromNs(int64_t ns) {
  return {static_cast<time_t>(ns / kNsPerSecond),
          static_cast<long>(ns % kNsPerSecond)};
}

// clock_gettime(2) itself (glibc would use the vDSO for some clocks).
inline int64_t ClockNs(clockid_t c) {
  struct timespec ts = {};
  EXPECT_THAT(syscall(SYS_clock_gettime, c, &ts), SyscallSucceeds());
  return ToNs(ts);
}

// About a millisecond of arithmetic, no syscalls.
inline void BurnABit() {
  static volatile uint64_t sink = 0;
  for (int i = 0; i < 300000; ++i) sink = sink + i;
}

// Burns CPU until `clock` has advanced by `ns` (or the safety time has
// passed on the wall clock). Mostly user time: one clock read per ~1 ms.
inline void SpinCpu(clockid_t clock, int64_t ns) {
  const int64_t start = ClockNs(clock);
  const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSafetyNs;
  while (ClockNs(clock) < start + ns && ClockNs(CLOCK_MONOTONIC) < give_up)
    BurnABit();
}

// For loops that must make no syscalls at all: after kSafetyNs a watchdog
// thread sets TimedOut(). It blocks every signal, so signals sent to the
// process interrupt the spinning thread, and it uses no timer (the code
// under test).
class SafetyNet {
 public:
  SafetyNet() {
    timed_out_ = false;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // the watchdog inherits it
    watchdog_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!done_cv_.wait_for(lock, std::chrono::nanoseconds(kSafetyNs),
                             [this] { return done_; }))
        timed_out_ = true;
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~SafetyNet() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    done_cv_.notify_all();
    watchdog_.join();
  }
  static bool TimedOut() { return timed_out_; }

 private:
  static inline std::atomic<bool> timed_out_{false};
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread watchdog_;
};

// Installs an SA_SIGINFO handler for one signal for the scope.
class ScopedHandler {
 public:
  ScopedHandler(int sig, void (*fn)(int, siginfo_t*, void*)) : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, &old_);
  }
  ~ScopedHandler() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ = {};
};

// Blocks signals for the scope (this thread). On the way out it first
// takes any still pending (a timer may have sent one more before it was
// deleted), so that unblocking cannot run their default action.
class ScopedBlock {
 public:
  explicit ScopedBlock(std::initializer_list<int> sigs) {
    sigemptyset(&set_);
    for (int s : sigs) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~ScopedBlock() {
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_;
  sigset_t old_;
};

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_CPU_SPIN_H_
