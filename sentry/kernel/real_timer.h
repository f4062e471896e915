// ITIMER_REAL: the per-process wall-clock timer behind alarm(2) and
// setitimer(2). Each arming starts a small sleeper thread that sends
// SIGALRM when due; re-arming or disarming bumps a generation so that an
// older sleeper sends nothing.
#ifndef SENTRY_KERNEL_REAL_TIMER_H_
#define SENTRY_KERNEL_REAL_TIMER_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kernel {

class ThreadGroup;

class RealTimer {
 public:
  struct Setting {
    absl::Duration value;     // time left; zero when disarmed
    absl::Duration interval;  // reload; zero for one shot
  };
  // Arms (value > 0) or disarms (value == 0) the timer of `tg`; returns
  // the previous setting.
  static Setting Set(const std::shared_ptr<ThreadGroup>& tg, Setting next);
  Setting Get() const;

 private:
  static void Sleeper(std::weak_ptr<ThreadGroup> tg, uint64_t generation);

  mutable absl::Mutex mu_;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Duration interval_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::CondVar changed_;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_REAL_TIMER_H_
