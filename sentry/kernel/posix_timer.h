// POSIX per-process timers: timer_create(2), timer_settime(2),
// timer_gettime(2), timer_getoverrun(2), timer_delete(2).
//
// A PosixTimer measures a TimerClock (a host clock or a CPU-time clock)
// and, when it expires, sends its signal (SI_TIMER, with si_timerid and
// si_value) to the process, or to one of its threads (SIGEV_THREAD_ID),
// or nothing (SIGEV_NONE). As on Linux, a timer has at most one signal
// queued: expiring again while it waits only counts an overrun, and an
// interval timer stops until the signal is taken from the queue; then it
// moves past the present and the intervals it skipped become si_overrun
// (and what timer_getoverrun(2) reports). A signal that is ignored is
// never queued, so an interval timer then keeps ticking, at most once a
// tick. SIGEV_NONE timers are never scheduled: timer_gettime computes.
//
// How the signal queue tells a timer about its signal: the sentry marks
// the siginfo it queues with a random cookie in bytes Linux always
// leaves zero; PendingQueue (signal_state.cc) calls the hooks in
// timer_signal.h on queueing and on removal, and the cookie is wiped
// before the app can see it. A forged SI_TIMER siginfo (rt_sigqueueinfo)
// has no registered cookie and is an ordinary signal.
//
// Timers belong to one process (PosixTimers, in ThreadGroup): fork does
// not copy them, execve and exit delete them. Ids are per process,
// allocated upwards and wrapping like Linux's.
//
// Lock order: SignalState::mu_ -> the cookie registry -> PosixTimer::mu_
// -> ProcessCpu::mu_ (CPU clocks) and TimerService::mu_; PosixTimers::mu_
// -> the registry (a new timer registers). An expiring timer sends its
// signal after releasing mu_.
#ifndef SENTRY_KERNEL_POSIX_TIMER_H_
#define SENTRY_KERNEL_POSIX_TIMER_H_

#include <signal.h>

#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/kernel/timer_service.h"

namespace kernel {

class Kernel;
class ThreadGroup;

// Where a timer's expiry goes: a checked struct sigevent.
struct TimerNotify {
  bool none = false;  // SIGEV_NONE
  int signo = SIGALRM;
  int thread_id = 0;  // SIGEV_THREAD_ID: that thread, else the process
  sigval_t value{};
  bool value_is_id = false;  // no sigevent given: si_value is the timer id
};

class PosixTimer {
 public:
  struct Setting {
    int64_t value_ns = 0;     // time left (or the absolute deadline to Set)
    int64_t interval_ns = 0;  // reload; zero for one shot
  };

  PosixTimer(Kernel& kernel, ThreadGroup& tg, int id, TimerClock clock,
             TimerNotify notify);
  ~PosixTimer();
  PosixTimer(const PosixTimer&) = delete;
  PosixTimer& operator=(const PosixTimer&) = delete;

  int id() const { return id_; }
  Setting Get() const;
  // Arms (value > 0; on the clock when `absolute`) or disarms; returns
  // the setting before.
  Setting Set(bool absolute, Setting next);
  // Overruns counted for the last signal taken (timer_getoverrun(2)).
  int Overrun() const;
  // timer_delete: no signal from now on.
  void Delete();

  // The signal-queue hooks (timer_signal.h), under the signal lock.
  void SignalQueued();
  void SignalTaken(siginfo_t* info);

 private:
  void Expire();
  // Delivers `info` to the target; false if it is gone.
  bool Send(const siginfo_t& info);
  Setting GetLocked(int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Kernel& kernel_;
  ThreadGroup& tg_;
  const int id_;
  const TimerClock clock_;
  const TimerNotify notify_;
  const uint64_t cookie_;

  mutable absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool deleted_ ABSL_GUARDED_BY(mu_) = false;
  int64_t deadline_ ABSL_GUARDED_BY(mu_) = 0;  // on clock_
  int64_t interval_ ABSL_GUARDED_BY(mu_) = 0;
  // Its signal is in a pending queue (SignalQueued .. SignalTaken).
  bool queued_ ABSL_GUARDED_BY(mu_) = false;
  // Set by SignalQueued, so that Expire learns whether its send queued.
  bool sent_queued_ ABSL_GUARDED_BY(mu_) = false;
  // An interval timer that expired while its signal was queued, or just
  // queued it, waits for SignalTaken to move on (Linux's requeue).
  bool rearm_on_take_ ABSL_GUARDED_BY(mu_) = false;
  // Expirations skipped since the last signal went out, and expirations
  // while it was queued (Linux's it_overrun and the queued si_overrun).
  int64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t queued_overrun_ ABSL_GUARDED_BY(mu_) = 0;
  int overrun_last_ ABSL_GUARDED_BY(mu_) = 0;
  // Last: destroyed (so cancelled) before the state its ring reads.
  Alarm alarm_{[this] { Expire(); }};
};

// A process's timers, by id.
class PosixTimers {
 public:
  // At most this many per process (and RLIMIT_SIGPENDING, as on Linux
  // where each timer holds a preallocated signal): EAGAIN beyond.
  static constexpr size_t kMaxTimers = 4096;

  explicit PosixTimers(ThreadGroup& tg) : tg_(tg) {}
  ~PosixTimers();

  base::Result<int> Create(Kernel& kernel, TimerClock clock, TimerNotify notify,
                           size_t limit);
  // EINVAL for an id that names no timer.
  base::Result<std::shared_ptr<PosixTimer>> Find(int id);
  base::Result<void> Delete(int id);
  // execve and exit.
  void DeleteAll();

 private:
  ThreadGroup& tg_;
  absl::Mutex mu_;
  std::map<int, std::shared_ptr<PosixTimer>> timers_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_POSIX_TIMER_H_
