#include "sentry/kernel/real_timer.h"

#include <signal.h>

#include <thread>

#include "sentry/kernel/signal_state.h"
#include "sentry/kernel/thread_group.h"

namespace kernel {

RealTimer::Setting RealTimer::Get() const {
  absl::MutexLock lock(&mu_);
  if (deadline_ == absl::InfiniteFuture()) return {absl::ZeroDuration(), interval_};
  absl::Duration left = deadline_ - absl::Now();
  // An armed timer never reports zero left (Linux reports 1 us minimum).
  if (left <= absl::ZeroDuration()) left = absl::Microseconds(1);
  return {left, interval_};
}

RealTimer::Setting RealTimer::Set(const std::shared_ptr<ThreadGroup>& tg,
                                  Setting next) {
  RealTimer& t = tg->real_timer();
  Setting old = t.Get();
  uint64_t generation;
  {
    absl::MutexLock lock(&t.mu_);
    generation = ++t.generation_;
    t.interval_ = next.interval;
    t.deadline_ = next.value > absl::ZeroDuration() ? absl::Now() + next.value
                                                    : absl::InfiniteFuture();
    t.changed_.SignalAll();  // an older sleeper sees the new generation
  }
  if (next.value > absl::ZeroDuration())
    std::thread(Sleeper, std::weak_ptr<ThreadGroup>(tg), generation).detach();
  return old;
}

void RealTimer::Sleeper(std::weak_ptr<ThreadGroup> weak, uint64_t generation) {
  for (;;) {
    std::shared_ptr<ThreadGroup> tg = weak.lock();
    if (!tg || tg->exiting()) return;
    RealTimer& t = tg->real_timer();
    {
      absl::MutexLock lock(&t.mu_);
      // Wake early only when re-armed; re-check the deadline after waits
      // (absl's clock and the deadline are both absl::Now based).
      while (t.generation_ == generation && absl::Now() < t.deadline_)
        t.changed_.WaitWithDeadline(&t.mu_, t.deadline_);
      if (t.generation_ != generation) return;
      if (t.interval_ > absl::ZeroDuration())
        t.deadline_ += t.interval_;
      else
        t.deadline_ = absl::InfiniteFuture();
    }
    tg->SendSignal(MakeSigInfo(SIGALRM, SI_KERNEL));
    absl::MutexLock lock(&t.mu_);
    if (t.generation_ != generation || t.deadline_ == absl::InfiniteFuture())
      return;
  }
}

}  // namespace kernel
