// Itimer: one of a process's three interval timers (setitimer(2),
// alarm(2)). ITIMER_REAL counts wall time (CLOCK_MONOTONIC) and sends
// SIGALRM; ITIMER_VIRTUAL counts the process's user CPU time and sends
// SIGVTALRM; ITIMER_PROF counts its user and system CPU time and sends
// SIGPROF. The CPU ones are checked every kCpuTickNs by the
// TimerService, so they expire while the app spins without syscalls.
//
// Linux's details kept: the signal is SI_KERNEL from no one; ITIMER_REAL
// reloads past the present, CPU timers by one interval per check; a
// disarmed CPU timer keeps its interval, a disarmed ITIMER_REAL does not;
// an armed timer never reports zero time left. Not inherited by fork,
// kept across execve, stopped when the process exits.
//
// Lock order: Itimer::mu_ -> TimerService::mu_; the signal is sent after
// mu_ is released.
#ifndef SENTRY_KERNEL_ITIMER_H_
#define SENTRY_KERNEL_ITIMER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/timer_service.h"

namespace kernel {

class ThreadGroup;

class Itimer {
 public:
  struct Setting {
    int64_t value_ns = 0;     // time left; zero when disarmed
    int64_t interval_ns = 0;  // reload; zero for one shot
  };

  // `which` is ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF.
  Itimer(ThreadGroup& tg, int which);

  Setting Get() const;
  // Arms (value > 0) or disarms the timer; returns the previous setting.
  Setting Set(Setting next);
  // The process is exiting: disarm for good.
  void Stop();

 private:
  TimerClock Clock() const;
  void Ring();
  Setting GetLocked(int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ThreadGroup& tg_;
  const int which_;
  const int signo_;

  mutable absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int64_t deadline_ ABSL_GUARDED_BY(mu_) = 0;  // on Clock()
  int64_t interval_ ABSL_GUARDED_BY(mu_) = 0;
  // Last: destroyed (so cancelled) before the state its ring reads.
  Alarm alarm_{[this] { Ring(); }};
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_ITIMER_H_
