// POSIX timers: timer_create(2), timer_settime(2), timer_gettime(2),
// timer_getoverrun(2), timer_delete(2). The timers themselves are in
// sentry/kernel/posix_timer.h.
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/kernel/cpu_clock.h"
#include "sentry/kernel/posix_timer.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::PosixTimer;
using kernel::TimerClock;
using kernel::TimerNotify;

constexpr int64_t kNsPerSec = 1'000'000'000;

// The kernel's struct sigevent (64 bytes): what the app asks for.
struct KernelSigevent {
  sigval_t value;
  int32_t signo;
  int32_t notify;
  int32_t thread_id;  // SIGEV_THREAD_ID's target
  int32_t pad[11];
};
static_assert(sizeof(KernelSigevent) == sizeof(sigevent));

// The clocks a timer may run on: the host clocks Linux gives timers, and
// the CPU clocks. The other valid clocks cannot have timers (EOPNOTSUPP).
Result<TimerClock> TimerClockFor(Task& t, clockid_t id) {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
      return TimerClock{.host = id};
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_REALTIME_ALARM:  // needs an RTC and CAP_WAKE_ALARM
    case CLOCK_BOOTTIME_ALARM:
      return Err(EOPNOTSUPP);
    default:
      if (!kernel::IsCpuClockId(id)) return Err(EINVAL);
      if (!kernel::DecodeCpuClockId(id)) return Err(EOPNOTSUPP);  // fd clock
      return kernel::CpuClockFor(t, id, /*gettime=*/false);
  }
}

// Linux's good_sigevent: SIGEV_THREAD is a process signal to the kernel
// (glibc makes its helper thread); SIGEV_THREAD_ID needs a thread of the
// caller's own process.
Result<TimerNotify> NotifyOf(Task& t, const KernelSigevent& ev) {
  TimerNotify n{.signo = ev.signo, .value = ev.value};
  switch (ev.notify) {
    case SIGEV_NONE:
      n.none = true;
      return n;
    case SIGEV_SIGNAL | SIGEV_THREAD_ID: {
      bool ours = false;
      t.thread_group().ForEachThread(
          [&](Task* other) { ours |= other->tid() == ev.thread_id; });
      if (!ours) return Err(EINVAL);
      n.thread_id = ev.thread_id;
      break;
    }
    case SIGEV_SIGNAL:
    case SIGEV_THREAD:
      break;
    default:
      return Err(EINVAL);
  }
  if (!kernel::ValidSignal(n.signo)) return Err(EINVAL);
  return n;
}

Result<int64_t> CheckedNs(const timespec& ts) {
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= kNsPerSec)
    return Err(EINVAL);
  return kernel::TimespecNs(ts);
}

timespec TimespecOf(int64_t ns) {
  return timespec{.tv_sec = ns / kNsPerSec, .tv_nsec = ns % kNsPerSec};
}

itimerspec ItimerspecOf(const PosixTimer::Setting& s) {
  return itimerspec{.it_interval = TimespecOf(s.interval_ns),
                    .it_value = TimespecOf(s.value_ns)};
}

// TimerCreate implements Linux syscall timer_create(2).
Result<void> TimerCreate(Task& t, int clock, UserPtr<KernelSigevent> sevp,
                         UserPtr<int> idp) {
  std::optional<KernelSigevent> ev;
  if (!sevp.IsNull()) ev = TRY(t.mm().CopyInObj(sevp));
  TimerClock c = TRY(TimerClockFor(t, clock));
  // No sigevent: SIGALRM to the process, with the timer id as its value.
  TimerNotify notify{.signo = SIGALRM, .value_is_id = true};
  if (ev) notify = TRY(NotifyOf(t, *ev));
  kernel::ThreadGroup& tg = t.thread_group();
  const int id =
      TRY(tg.posix_timers().Create(t.kernel(), std::move(c), notify,
                                   tg.GetRlimit(RLIMIT_SIGPENDING).rlim_cur));
  if (auto r = t.mm().CopyOutObj(idp, id); !r) {
    (void)tg.posix_timers().Delete(id);
    return r;
  }
  return {};
}

// TimerSettime implements Linux syscall timer_settime(2).
Result<void> TimerSettime(Task& t, int id, int flags,
                          UserPtr<itimerspec> new_value,
                          UserPtr<itimerspec> old_value) {
  if (new_value.IsNull()) return Err(EINVAL);
  const itimerspec spec = TRY(t.mm().CopyInObj(new_value));
  const PosixTimer::Setting next{
      .value_ns = TRY(CheckedNs(spec.it_value)),
      .interval_ns = TRY(CheckedNs(spec.it_interval))};
  auto timer = TRY(t.thread_group().posix_timers().Find(id));
  // Flags other than TIMER_ABSTIME are ignored, as by Linux.
  const PosixTimer::Setting old = timer->Set(flags & TIMER_ABSTIME, next);
  if (!old_value.IsNull()) TRY(t.mm().CopyOutObj(old_value, ItimerspecOf(old)));
  return {};
}

// TimerGettime implements Linux syscall timer_gettime(2).
Result<void> TimerGettime(Task& t, int id, UserPtr<itimerspec> cur) {
  auto timer = TRY(t.thread_group().posix_timers().Find(id));
  return t.mm().CopyOutObj(cur, ItimerspecOf(timer->Get()));
}

// TimerGetoverrun implements Linux syscall timer_getoverrun(2).
Result<int> TimerGetoverrun(Task& t, int id) {
  auto timer = TRY(t.thread_group().posix_timers().Find(id));
  return timer->Overrun();
}

// TimerDelete implements Linux syscall timer_delete(2).
Result<void> TimerDelete(Task& t, int id) {
  return t.thread_group().posix_timers().Delete(id);
}

}  // namespace

void RegisterTimer(Registrar& r) {
  r.Partial<&TimerCreate>(
      SYS_timer_create,
      "CPU-clock timers are checked every 10 ms; no _ALARM clocks "
      "(EOPNOTSUPP); at most 4096 timers per process");
  // Linux 6.13+ drops a signal still queued from the previous setting.
  const char* kQueued =
      "a signal still queued from before is delivered, as Linux before 6.13";
  r.Partial<&TimerSettime>(SYS_timer_settime, kQueued);
  r.Full<&TimerGettime>(SYS_timer_gettime);
  r.Full<&TimerGetoverrun>(SYS_timer_getoverrun);
  r.Partial<&TimerDelete>(SYS_timer_delete, kQueued);
}

}  // namespace syscalls
