#include "sentry/kernel/cpu_limit.h"

#include <signal.h>
#include <sys/resource.h>

#include <cstdint>
#include <limits>

#include "sentry/kernel/signal_state.h"
#include "sentry/kernel/thread_group.h"

namespace kernel {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

// A limit in seconds as a deadline in CPU nanoseconds, saturated ("never").
int64_t LimitNs(rlim_t seconds) {
  constexpr auto kMax = std::numeric_limits<int64_t>::max();
  if (seconds >= static_cast<rlim_t>(kMax / kNsPerSecond)) return kMax;
  return static_cast<int64_t>(seconds) * kNsPerSecond;
}

}  // namespace

TimerClock CpuLimit::Clock() const {
  // The limit lives in the process it measures, so `tg_` outlives it.
  ThreadGroup* tg = &tg_;
  return TimerClock{.cpu = [tg]() -> std::optional<int64_t> {
    return tg->CpuTime().total_ns();
  }};
}

void CpuLimit::Update() {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  const rlimit r = tg_.GetRlimit(RLIMIT_CPU);
  const int64_t deadline = LimitNs(r.rlim_cur);
  // A limit no CPU clock reaches (292 years and more) costs no sampling.
  if (r.rlim_cur == RLIM_INFINITY ||
      deadline == std::numeric_limits<int64_t>::max()) {
    alarm_.Unset();
    return;
  }
  alarm_.Set(Clock(), deadline);
}

void CpuLimit::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  alarm_.Cancel();
}

void CpuLimit::Ring() {
  const TimerClock clock = Clock();
  int signo = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    const std::optional<int64_t> now = clock.Now();
    if (!now) return;
    rlimit r = tg_.GetRlimit(RLIMIT_CPU);
    if (r.rlim_cur == RLIM_INFINITY) return;  // lifted since
    if (r.rlim_max != RLIM_INFINITY && *now >= LimitNs(r.rlim_max)) {
      signo = SIGKILL;  // and nothing more
    } else {
      if (*now >= LimitNs(r.rlim_cur)) {
        signo = SIGXCPU;
        const rlimit old = r;
        ++r.rlim_cur;
        // Unless the app changed it meanwhile (then Update re-arms).
        if (!tg_.ReplaceRlimit(RLIMIT_CPU, old, r)) return;
      }
      alarm_.Set(clock, LimitNs(r.rlim_cur));
    }
  }
  // To a thread using CPU, as Linux's check_process_timers.
  tg_.signals().SendCpuTimerSignal(MakeSigInfo(signo, SI_KERNEL));
}

}  // namespace kernel
