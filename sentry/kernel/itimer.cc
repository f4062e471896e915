#include "sentry/kernel/itimer.h"

#include <signal.h>
#include <sys/time.h>

#include <algorithm>

#include "sentry/kernel/signal_state.h"
#include "sentry/kernel/thread_group.h"

namespace kernel {
namespace {

// An armed timer whose deadline has passed but has not rung yet reports
// this much left: Linux says 1 us for ITIMER_REAL and a tick for CPU ones.
constexpr int64_t kRealAboutToFireNs = 1000;

// ITIMER_REAL may reload every nanosecond; the service is asked to ring it
// no more often than this (the signal is standard and coalesces anyway).
constexpr int64_t kMinRealPeriodNs = 100'000;

int SignalFor(int which) {
  switch (which) {
    case ITIMER_VIRTUAL:
      return SIGVTALRM;
    case ITIMER_PROF:
      return SIGPROF;
    default:
      return SIGALRM;
  }
}

}  // namespace

Itimer::Itimer(ThreadGroup& tg, int which)
    : tg_(tg), which_(which), signo_(SignalFor(which)) {}

TimerClock Itimer::Clock() const {
  if (which_ == ITIMER_REAL) return TimerClock{.host = CLOCK_MONOTONIC};
  // The timer lives in the process it measures, so `tg_` outlives it.
  ThreadGroup* tg = &tg_;
  const bool user_only = which_ == ITIMER_VIRTUAL;
  return TimerClock{.cpu = [tg, user_only]() -> std::optional<int64_t> {
    CpuTimes t = tg->CpuTime();
    return user_only ? t.user_ns : t.total_ns();
  }};
}

Itimer::Setting Itimer::GetLocked(int64_t now) const {
  // A disarmed CPU timer keeps its interval (Linux's it->incr).
  if (!armed_) return {0, which_ == ITIMER_REAL ? 0 : interval_};
  int64_t left = deadline_ - now;
  if (left <= 0) left = which_ == ITIMER_REAL ? kRealAboutToFireNs : kCpuTickNs;
  return {left, interval_};
}

Itimer::Setting Itimer::Get() const {
  const int64_t now = Clock().Now().value_or(0);
  absl::MutexLock lock(&mu_);
  return GetLocked(now);
}

Itimer::Setting Itimer::Set(Setting next) {
  const TimerClock clock = Clock();
  absl::MutexLock lock(&mu_);
  const int64_t now = clock.Now().value_or(0);
  const Setting old = GetLocked(now);
  interval_ = next.interval_ns;
  armed_ = next.value_ns > 0 && !stopped_;
  if (!armed_) {
    if (which_ == ITIMER_REAL) interval_ = 0;
    alarm_.Unset();
    return old;
  }
  deadline_ = AddNs(now, next.value_ns);
  alarm_.Set(clock, deadline_);
  return old;
}

void Itimer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    armed_ = false;
  }
  alarm_.Cancel();
}

void Itimer::Ring() {
  const TimerClock clock = Clock();
  {
    absl::MutexLock lock(&mu_);
    if (!armed_) return;
    const int64_t now = clock.Now().value_or(0);
    if (now < deadline_) {  // rung for an earlier setting
      alarm_.Set(clock, deadline_);
      return;
    }
    if (interval_ <= 0) {
      armed_ = false;
    } else if (which_ == ITIMER_REAL) {
      Forward(&deadline_, interval_, now);
      alarm_.Set(clock, std::max(deadline_, AddNs(now, kMinRealPeriodNs)));
    } else {
      // CPU timers reload by one interval per check, as Linux's
      // check_cpu_itimer: a short interval fires once per tick.
      deadline_ = AddNs(deadline_, interval_);
      alarm_.Set(clock, deadline_);
    }
  }
  const siginfo_t info = MakeSigInfo(signo_, SI_KERNEL);
  // REAL is for the process; the CPU timers go to a thread using CPU.
  if (which_ == ITIMER_REAL) {
    tg_.SendSignal(info);
  } else {
    tg_.signals().SendCpuTimerSignal(info);
  }
}

}  // namespace kernel
