// CpuLimit: RLIMIT_CPU of a process, enforced as Linux's
// check_process_timers does: when the process's CPU time (user + system)
// reaches the soft limit it gets SIGXCPU and the soft limit moves up by a
// second (so one more SIGXCPU comes each second, and getrlimit shows it);
// at the hard limit, SIGKILL. Both signals are SI_KERNEL. The CPU clock
// is sampled by the TimerService, so the limit bites while the app spins
// in user mode.
//
// Lock order: CpuLimit::mu_ -> ThreadGroup::mu_ (the limit, the clock) and
// -> TimerService::mu_; signals are sent after mu_ is released.
#ifndef SENTRY_KERNEL_CPU_LIMIT_H_
#define SENTRY_KERNEL_CPU_LIMIT_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/timer_service.h"

namespace kernel {

class ThreadGroup;

class CpuLimit {
 public:
  explicit CpuLimit(ThreadGroup& tg) : tg_(tg) {}

  // The limit may have changed (setrlimit, prlimit64, fork): re-arm for
  // the soft limit. Call without ThreadGroup::mu_.
  void Update();
  // The process is exiting: never again.
  void Stop();

 private:
  TimerClock Clock() const;
  void Ring();

  ThreadGroup& tg_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Last: destroyed (so cancelled) before the state its ring reads.
  Alarm alarm_{[this] { Ring(); }};
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_CPU_LIMIT_H_
