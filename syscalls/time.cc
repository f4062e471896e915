// Clocks and sleeping: clock_gettime(2), clock_getres(2), gettimeofday(2),
// time(2), nanosleep(2), clock_nanosleep(2).
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

// The clocks the sandbox serves. Wall and monotonic clocks come from the
// host's (the sandbox has no clock of its own to drift); CPU-time clocks
// are the sentry's process CPU time for now.
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
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      return CLOCK_PROCESS_CPUTIME_ID;
    default:
      return Err(EINVAL);
  }
}

Result<timespec> Now(clockid_t id) {
  clockid_t host = TRY(HostClock(id));
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
  timespec ts = TRY(Now(clock));
  return t.mm().CopyOutObj(tp, ts);
}

// ClockGetres implements Linux syscall clock_getres(2).
Result<void> ClockGetres(Task& t, int clock, UserPtr<timespec> res) {
  clockid_t host = TRY(HostClock(clock));
  if (res.IsNull()) return {};
  timespec ts;
  if (clock_getres(host, &ts) != 0) return Err(errno);
  return t.mm().CopyOutObj(res, ts);
}

// Gettimeofday implements Linux syscall gettimeofday(2).
Result<void> Gettimeofday(Task& t, UserPtr<timeval> tv, UserPtr<uint8_t> tz) {
  if (!tv.IsNull()) {
    timespec ts = TRY(Now(CLOCK_REALTIME));
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
  timespec ts = TRY(Now(CLOCK_REALTIME));
  if (!tloc.IsNull()) TRY(t.mm().CopyOutObj(tloc, int64_t{ts.tv_sec}));
  return ts.tv_sec;
}

absl::Time ToAbsl(clockid_t clock, const timespec& ts, bool absolute) {
  absl::Duration d = absl::DurationFromTimespec(ts);
  if (!absolute) return absl::Now() + d;
  // An absolute deadline on `clock`: convert through the time left on it.
  timespec now{};
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
  return Sleep(t, ToAbsl(CLOCK_MONOTONIC, ts, false), rem, false);
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2).
Result<void> ClockNanosleep(Task& t, int clock, int flags,
                            UserPtr<timespec> req, UserPtr<timespec> rem) {
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
  return Sleep(t, ToAbsl(clock, ts, absolute),
               absolute ? UserPtr<timespec>() : rem, absolute);
}

}  // namespace

void RegisterTime(Registrar& r) {
  const char* kCpuClocks =
      "CPU-time clocks report the whole sandbox's CPU time; no per-process "
      "or per-thread clock ids";
  r.Partial<&ClockGettime>(SYS_clock_gettime, kCpuClocks);
  r.Partial<&ClockGetres>(SYS_clock_getres, kCpuClocks);
  r.Full<&Gettimeofday>(SYS_gettimeofday);
  r.Full<&Time>(SYS_time);
  r.Full<&Nanosleep>(SYS_nanosleep);
  r.Partial<&ClockNanosleep>(SYS_clock_nanosleep, "no CPU-time clocks");
}

}  // namespace syscalls
