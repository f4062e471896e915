// The interval timers: alarm(2), setitimer(2), getitimer(2). The timers
// themselves are in sentry/kernel/itimer.h.
#include <sys/syscall.h>
#include <sys/time.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::Itimer;

constexpr int64_t kNsPerUs = 1000;
constexpr int64_t kUsPerSec = 1'000'000;

Result<int64_t> CheckedNs(const timeval& tv) {
  if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= kUsPerSec)
    return Err(EINVAL);
  return kernel::TimespecNs(
      timespec{.tv_sec = tv.tv_sec, .tv_nsec = tv.tv_usec * kNsPerUs});
}

timeval TimevalOf(int64_t ns) {
  const int64_t us = ns / kNsPerUs;  // Linux truncates
  return timeval{.tv_sec = us / kUsPerSec, .tv_usec = us % kUsPerSec};
}

itimerval ItimervalOf(const Itimer::Setting& s) {
  return itimerval{.it_interval = TimevalOf(s.interval_ns),
                   .it_value = TimevalOf(s.value_ns)};
}

bool ValidWhich(int which) {
  return which == ITIMER_REAL || which == ITIMER_VIRTUAL ||
         which == ITIMER_PROF;
}

// Alarm implements Linux syscall alarm(2).
Result<unsigned> Alarm(Task& t, unsigned seconds) {
  Itimer::Setting old =
      t.thread_group()
          .itimer(ITIMER_REAL)
          .Set({.value_ns = int64_t{seconds} * kNsPerUs * kUsPerSec});
  // Linux rounds the time left to the nearest second, and never says 0 for
  // an armed timer.
  if (old.value_ns == 0) return 0u;
  const int64_t s = (old.value_ns + 500'000'000) / (kNsPerUs * kUsPerSec);
  return static_cast<unsigned>(s ? s : 1);
}

// Getitimer implements Linux syscall getitimer(2).
Result<void> Getitimer(Task& t, int which, UserPtr<itimerval> out) {
  if (!ValidWhich(which)) return Err(EINVAL);
  return t.mm().CopyOutObj(out,
                           ItimervalOf(t.thread_group().itimer(which).Get()));
}

// Setitimer implements Linux syscall setitimer(2).
Result<void> Setitimer(Task& t, int which, UserPtr<itimerval> in,
                       UserPtr<itimerval> out) {
  if (!ValidWhich(which)) return Err(EINVAL);
  // A null new value disarms, as Linux (with a warning) still allows.
  itimerval v{};
  if (!in.IsNull()) v = TRY(t.mm().CopyInObj(in));
  const Itimer::Setting next{.value_ns = TRY(CheckedNs(v.it_value)),
                             .interval_ns = TRY(CheckedNs(v.it_interval))};
  Itimer::Setting old = t.thread_group().itimer(which).Set(next);
  if (!out.IsNull()) TRY(t.mm().CopyOutObj(out, ItimervalOf(old)));
  return {};
}

}  // namespace

void RegisterAlarm(Registrar& r) {
  r.Full<&Alarm>(SYS_alarm);
  r.Full<&Getitimer>(SYS_getitimer);
  r.Partial<&Setitimer>(
      SYS_setitimer,
      "ITIMER_VIRTUAL and ITIMER_PROF are checked every 10 ms of CPU time; "
      "ITIMER_REAL rings at most every 100 us");
}

}  // namespace syscalls
