// The real-time interval timer: alarm(2), setitimer(2), getitimer(2).
#include <sys/syscall.h>
#include <sys/time.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::RealTimer;

absl::Duration FromTimeval(const timeval& tv) {
  return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
}

timeval TimevalOf(absl::Duration d) {
  timeval tv = absl::ToTimeval(d);
  return tv;
}

std::shared_ptr<kernel::ThreadGroup> Self(Task& t) {
  return t.kernel().processes().Find(t.thread_group().pid());
}

// Alarm implements Linux syscall alarm(2).
Result<unsigned> Alarm(Task& t, unsigned seconds) {
  auto tg = Self(t);
  if (!tg) return Err(ESRCH);
  RealTimer::Setting old = RealTimer::Set(
      tg, {absl::Seconds(seconds), absl::ZeroDuration()});
  // Linux rounds the time left to the nearest second, and never says 0 for
  // an armed timer.
  if (old.value == absl::ZeroDuration()) return 0u;
  int64_t s = absl::ToInt64Seconds(old.value + absl::Milliseconds(500));
  return static_cast<unsigned>(s ? s : 1);
}

// Getitimer implements Linux syscall getitimer(2).
Result<void> Getitimer(Task& t, int which, UserPtr<itimerval> out) {
  if (which != ITIMER_REAL) {
    if (which == ITIMER_VIRTUAL || which == ITIMER_PROF)
      return t.mm().CopyOutObj(out, itimerval{});  // TODO: CPU-time timers
    return Err(EINVAL);
  }
  RealTimer::Setting s = t.thread_group().real_timer().Get();
  return t.mm().CopyOutObj(out, itimerval{TimevalOf(s.interval),
                                          TimevalOf(s.value)});
}

// Setitimer implements Linux syscall setitimer(2).
Result<void> Setitimer(Task& t, int which, UserPtr<itimerval> in,
                       UserPtr<itimerval> out) {
  if (which != ITIMER_REAL) return Err(which == ITIMER_VIRTUAL ||
                                               which == ITIMER_PROF
                                           ? ENOSYS
                                           : EINVAL);
  itimerval v{};
  if (!in.IsNull()) v = TRY(t.mm().CopyInObj(in));
  for (const timeval& tv : {v.it_value, v.it_interval})
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
      return Err(EINVAL);
  auto tg = Self(t);
  if (!tg) return Err(ESRCH);
  RealTimer::Setting old = RealTimer::Set(
      tg, {FromTimeval(v.it_value), FromTimeval(v.it_interval)});
  if (!out.IsNull())
    TRY(t.mm().CopyOutObj(out, itimerval{TimevalOf(old.interval),
                                         TimevalOf(old.value)}));
  return {};
}

}  // namespace

void RegisterAlarm(Registrar& r) {
  r.Full<&Alarm>(SYS_alarm);
  r.Partial<&Getitimer>(SYS_getitimer,
                        "ITIMER_VIRTUAL and ITIMER_PROF always read as off");
  r.Partial<&Setitimer>(SYS_setitimer,
                        "ITIMER_REAL only; VIRTUAL and PROF are ENOSYS");
}

}  // namespace syscalls
