// timerfd_create(2), timerfd_settime(2), timerfd_gettime(2). The timer is
// sentry/event's (timerfd.h); blocking reads are syscalls/blocking.h's.
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "sentry/event/timerfd.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

using event::TimerFd;

constexpr int64_t kNsPerSec = 1'000'000'000;

// Linux's itimerspec64_valid, per field.
Result<int64_t> CheckedNs(const timespec& ts) {
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= kNsPerSec)
    return Err(EINVAL);
  return kernel::TimespecNs(ts);
}

itimerspec ItimerspecOf(const TimerFd::Setting& s) {
  return itimerspec{
      .it_interval = {.tv_sec = s.interval_ns / kNsPerSec,
                      .tv_nsec = s.interval_ns % kNsPerSec},
      .it_value = {.tv_sec = s.value_ns / kNsPerSec,
                   .tv_nsec = s.value_ns % kNsPerSec}};
}

// The timerfd behind `fd`: EBADF, or EINVAL for another file (Linux's
// timerfd_fget).
Result<std::shared_ptr<TimerFd>> TimerOf(Task& t, int fd) {
  FilePtr f = TRY(GetFile(t, Fd{fd}));
  auto timer = std::dynamic_pointer_cast<TimerFd>(f);
  if (!timer) return Err(EINVAL);
  return timer;
}

// TimerfdCreate implements Linux syscall timerfd_create(2).
Result<int> TimerfdCreate(Task& t, int clockid, int flags) {
  if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) return Err(EINVAL);
  clockid_t base;
  switch (clockid) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
      base = clockid;
      break;
    // Alarm timers would wake a suspended machine; the sandbox never
    // suspends, so they run on their base clock (as Linux's do while it
    // is awake), for those allowed to set them.
    case CLOCK_REALTIME_ALARM:
      base = CLOCK_REALTIME;
      break;
    case CLOCK_BOOTTIME_ALARM:
      base = CLOCK_BOOTTIME;
      break;
    default:
      return Err(EINVAL);
  }
  if (base != clockid && !t.creds().HasCap(CAP_WAKE_ALARM)) return Err(EPERM);
  auto timer =
      TimerFd::Create(base, clockid, flags & TFD_NONBLOCK ? O_NONBLOCK : 0);
  return t.fds().Install(std::move(timer), flags & TFD_CLOEXEC, 0,
                         NofileLimit(t));
}

// TimerfdSettime implements Linux syscall timerfd_settime(2).
Result<int> TimerfdSettime(Task& t, int fd, int flags,
                           UserPtr<itimerspec> new_value,
                           UserPtr<itimerspec> old_value) {
  // Linux's order: the new value, the flags and the value's fields, the fd.
  const itimerspec spec = TRY(t.mm().CopyInObj(new_value));
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) return Err(EINVAL);
  const TimerFd::Setting next{.value_ns = TRY(CheckedNs(spec.it_value)),
                              .interval_ns = TRY(CheckedNs(spec.it_interval))};
  auto timer = TRY(TimerOf(t, fd));
  // TFD_TIMER_CANCEL_ON_SET is accepted: the sandbox's clock is never set
  // (clock_settime fails), so no read ever ends in ECANCELED.
  const TimerFd::Setting old = timer->Set(flags, next);
  if (!old_value.IsNull()) TRY(t.mm().CopyOutObj(old_value, ItimerspecOf(old)));
  return 0;
}

// TimerfdGettime implements Linux syscall timerfd_gettime(2).
Result<int> TimerfdGettime(Task& t, int fd, UserPtr<itimerspec> cur) {
  auto timer = TRY(TimerOf(t, fd));
  TRY(t.mm().CopyOutObj(cur, ItimerspecOf(timer->Get())));
  return 0;
}

}  // namespace

void RegisterTimerfd(Registrar& r) {
  r.Full<&TimerfdCreate>(SYS_timerfd_create);
  r.Partial<&TimerfdSettime>(
      SYS_timerfd_settime,
      "TFD_TIMER_CANCEL_ON_SET is accepted but never cancels: the "
      "sandbox's clock cannot be set");
  r.Full<&TimerfdGettime>(SYS_timerfd_gettime);
}

}  // namespace syscalls
