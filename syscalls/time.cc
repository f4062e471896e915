// Clocks and sleeping: clock_gettime(2), clock_getres(2), gettimeofday(2),
// time(2), nanosleep(2), clock_nanosleep(2).
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include <atomic>

#include "sentry/kernel/cpu_clock.h"
#include "sentry/kernel/timer_service.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

using kernel::TimerClock;

// The host clocks the sandbox serves: wall and monotonic clocks come from
// the host's (the sandbox has no clock of its own to drift). CPU-time
// clocks (kernel/cpu_clock.h) are the sentry's accounting of its tasks.
Result<clockid_t> HostClock(clockid_t id) {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
      return id;
    case CLOCK_REALTIME_ALARM:
      return CLOCK_REALTIME;
    case CLOCK_BOOTTIME_ALARM:
      return CLOCK_BOOTTIME;
    default:
      return Err(EINVAL);
  }
}

timespec TimespecOf(int64_t ns) {
  return timespec{.tv_sec = ns / kNanosPerSecond,
                  .tv_nsec = ns % kNanosPerSecond};
}

Result<timespec> Now(Task& t, clockid_t id) {
  if (kernel::IsCpuClockId(id)) {
    TimerClock clock = TRY(kernel::CpuClockFor(t, id, /*gettime=*/true));
    std::optional<int64_t> ns = clock.Now();
    if (!ns) return Err(EINVAL);  // gone since it was looked up
    return TimespecOf(*ns);
  }
  clockid_t host = TRY(HostClock(id));
  // The clocks the vDSO computes come from the same lines here, so that a
  // time read either way is one clock (kernel/timekeeper.h).
  if (std::optional<int64_t> ns = t.kernel().timekeeper().Now(host))
    return TimespecOf(*ns);
  timespec ts;
  if (clock_gettime(host, &ts) != 0) return Err(errno);
  return ts;
}

Result<timespec> CopyInTimespec(Task& t, UserPtr<timespec> p) {
  timespec ts = TRY(t.mm().CopyInObj(p));
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= kNanosPerSecond)
    return Err(EINVAL);
  return ts;
}

// ClockGettime implements Linux syscall clock_gettime(2).
Result<void> ClockGettime(Task& t, int clock, UserPtr<timespec> tp) {
  timespec ts = TRY(Now(t, clock));
  return t.mm().CopyOutObj(tp, ts);
}

// ClockGetres implements Linux syscall clock_getres(2).
Result<void> ClockGetres(Task& t, int clock, UserPtr<timespec> res) {
  if (kernel::IsCpuClockId(clock)) {
    // Validates the id (glibc's clock_getcpuclockid relies on it).
    TRY(kernel::CpuClockFor(t, clock, /*gettime=*/false));
    if (res.IsNull()) return {};
    return t.mm().CopyOutObj(res, TimespecOf(kernel::CpuClockResolutionNs(
                                      *kernel::DecodeCpuClockId(clock))));
  }
  clockid_t host = TRY(HostClock(clock));
  if (res.IsNull()) return {};
  timespec ts;
  if (clock_getres(host, &ts) != 0) return Err(errno);
  return t.mm().CopyOutObj(res, ts);
}

// Gettimeofday implements Linux syscall gettimeofday(2).
Result<void> Gettimeofday(Task& t, UserPtr<timeval> tv, UserPtr<uint8_t> tz) {
  if (!tv.IsNull()) {
    timespec ts = TRY(Now(t, CLOCK_REALTIME));
    timeval v{.tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000};
    TRY(t.mm().CopyOutObj(tv, v));
  }
  if (!tz.IsNull()) {
    struct { int minuteswest, dsttime; } zone{0, 0};  // struct timezone
    TRY(t.mm().CopyOut(tz.addr, &zone, sizeof(zone)));
  }
  return {};
}

// Time implements Linux syscall time(2).
Result<int64_t> Time(Task& t, UserPtr<int64_t> tloc) {
  timespec ts = TRY(Now(t, CLOCK_REALTIME));
  if (!tloc.IsNull()) TRY(t.mm().CopyOutObj(tloc, int64_t{ts.tv_sec}));
  return ts.tv_sec;
}

absl::Time ToAbsl(Task& t, clockid_t clock, const timespec& ts, bool absolute) {
  absl::Duration d = absl::DurationFromTimespec(ts);
  if (!absolute) return absl::Now() + d;
  // An absolute deadline on `clock`: convert through the time left on it,
  // as the app reads the clock.
  timespec now{};
  if (std::optional<int64_t> ns = t.kernel().timekeeper().Now(clock))
    now = TimespecOf(*ns);
  else
    clock_gettime(clock, &now);
  return absl::Now() + (d - absl::DurationFromTimespec(now));
}

// Sleeps until `deadline`. Interrupted by a signal, a relative sleep
// stores the time left in `rem` and, if no handler runs, goes on sleeping
// to the same deadline through restart_syscall(2); an absolute sleep
// simply runs again. With a handler both fail with EINTR.
Result<void> Sleep(Task& t, absl::Time deadline, UserPtr<timespec> rem,
                   bool absolute) {
  if (t.Block(deadline) != Task::WakeReason::kInterrupted) return {};
  if (absolute) return Err(base::kERESTARTNOHAND);
  if (!rem.IsNull()) {
    absl::Duration left = deadline - absl::Now();
    if (left < absl::ZeroDuration()) left = absl::ZeroDuration();
    TRY(t.mm().CopyOutObj(rem, absl::ToTimespec(left)));
  }
  t.signal_state().restart = [deadline, rem](Task& t) -> Result<uint64_t> {
    TRY(Sleep(t, deadline, rem, false));
    return 0;
  };
  return Err(base::kERESTART_RESTARTBLOCK);
}

// Nanosleep implements Linux syscall nanosleep(2).
Result<void> Nanosleep(Task& t, UserPtr<timespec> req, UserPtr<timespec> rem) {
  timespec ts = TRY(CopyInTimespec(t, req));
  return Sleep(t, ToAbsl(t, CLOCK_MONOTONIC, ts, false), rem, false);
}

// Sleeps until the CPU clock reaches `deadline` (Linux's
// do_cpu_nanosleep): the TimerService rings an alarm, checked every tick.
// Interrupted, it behaves as Sleep does.
Result<void> CpuSleep(Task& t, const TimerClock& clock, int64_t deadline,
                      UserPtr<timespec> rem, bool absolute) {
  std::atomic<bool> rung{false};
  // Its destructor waits for a ring under way, so the ring never outlives
  // `rung` or the task.
  kernel::Alarm alarm([&rung, &t] {
    rung = true;
    t.Wake();
  });
  for (;;) {
    std::optional<int64_t> now = clock.Now();
    if (!now || *now >= deadline) return {};  // done, or the clock is gone
    rung = false;
    alarm.Set(clock, deadline);
    if (t.Block(absl::InfiniteFuture(), &rung) ==
        Task::WakeReason::kInterrupted)
      break;
  }
  if (absolute) return Err(base::kERESTARTNOHAND);
  if (!rem.IsNull()) {
    const int64_t left = deadline - clock.Now().value_or(deadline);
    TRY(t.mm().CopyOutObj(rem, TimespecOf(left > 0 ? left : 0)));
  }
  t.signal_state().restart = [clock, deadline,
                              rem](Task& t) -> Result<uint64_t> {
    TRY(CpuSleep(t, clock, deadline, rem, false));
    return 0;
  };
  return Err(base::kERESTART_RESTARTBLOCK);
}

// clock_nanosleep(2) on a CPU clock: the process clocks only, and never
// the caller's own thread clock (which could not advance while it sleeps).
Result<void> CpuClockNanosleep(Task& t, clockid_t clock, bool absolute,
                               UserPtr<timespec> req, UserPtr<timespec> rem) {
  std::optional<kernel::CpuClockId> id = kernel::DecodeCpuClockId(clock);
  if (!id || clock == CLOCK_THREAD_CPUTIME_ID) return Err(EOPNOTSUPP);
  timespec ts = TRY(CopyInTimespec(t, req));
  if (id->per_thread && (id->pid == 0 || id->pid == t.tid()))
    return Err(EINVAL);
  TimerClock c = TRY(kernel::CpuClockFor(t, clock, /*gettime=*/false));
  int64_t deadline = kernel::TimespecNs(ts);
  if (!absolute) {
    std::optional<int64_t> now = c.Now();
    if (!now) return Err(EINVAL);
    deadline = kernel::AddNs(*now, deadline);
  }
  return CpuSleep(t, c, deadline, absolute ? UserPtr<timespec>() : rem,
                  absolute);
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2).
Result<void> ClockNanosleep(Task& t, int clock, int flags,
                            UserPtr<timespec> req, UserPtr<timespec> rem) {
  if (kernel::IsCpuClockId(clock))
    return CpuClockNanosleep(t, clock, flags & TIMER_ABSTIME, req, rem);
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
      break;
    default:
      TRY(HostClock(clock));
      return Err(EOPNOTSUPP);
  }
  timespec ts = TRY(CopyInTimespec(t, req));
  bool absolute = flags & TIMER_ABSTIME;
  // Linux does not report the remaining time of an absolute sleep.
  return Sleep(t, ToAbsl(t, clock, ts, absolute),
               absolute ? UserPtr<timespec>() : rem, absolute);
}

}  // namespace

void RegisterTime(Registrar& r) {
  const char* kCpuClocks =
      "CPU-time clocks measure wall time in app code and in the sentry "
      "(sentry/kernel/cpu_time.h); no fd (PTP) clocks";
  r.Partial<&ClockGettime>(SYS_clock_gettime, kCpuClocks);
  r.Partial<&ClockGetres>(SYS_clock_getres, kCpuClocks);
  r.Full<&Gettimeofday>(SYS_gettimeofday);
  r.Full<&Time>(SYS_time);
  r.Full<&Nanosleep>(SYS_nanosleep);
  r.Partial<&ClockNanosleep>(
      SYS_clock_nanosleep,
      "CPU-time clocks are checked every 10 ms; the _ALARM clocks are "
      "EOPNOTSUPP");
}

}  // namespace syscalls
