// Resource usage: getrusage(2), times(2).
#include "syscalls/rusage.h"

#include <sys/syscall.h>
#include <sys/times.h>

#include "syscalls/common.h"

namespace syscalls {

namespace {

constexpr int64_t kNsPerUs = 1000;
constexpr int64_t kUsPerSec = 1'000'000;
// times(2) counts in USER_HZ ticks: 100 a second on x86-64.
constexpr int64_t kNsPerClockTick = 10'000'000;

timeval TimevalOf(int64_t ns) {
  const int64_t us = ns / kNsPerUs;  // Linux truncates
  return timeval{.tv_sec = us / kUsPerSec, .tv_usec = us % kUsPerSec};
}

clock_t Ticks(int64_t ns) { return static_cast<clock_t>(ns / kNsPerClockTick); }

// Getrusage implements Linux syscall getrusage(2).
Result<void> Getrusage(Task& t, int who, UserPtr<struct rusage> usage) {
  kernel::CpuTimes times;
  switch (who) {
    case RUSAGE_SELF:
      times = t.thread_group().CpuTime();
      break;
    case RUSAGE_THREAD:
      times = t.cpu().Sample();
      break;
    case RUSAGE_CHILDREN:
      times = t.thread_group().ChildrenCpuTime();
      break;
    default:
      return Err(EINVAL);
  }
  return t.mm().CopyOutObj(usage, RusageOf(times));
}

// Times implements Linux syscall times(2).
Result<int64_t> Times(Task& t, UserPtr<struct tms> buf) {
  if (!buf.IsNull()) {
    const kernel::CpuTimes self = t.thread_group().CpuTime();
    const kernel::CpuTimes children = t.thread_group().ChildrenCpuTime();
    TRY(t.mm().CopyOutObj(buf, tms{.tms_utime = Ticks(self.user_ns),
                                   .tms_stime = Ticks(self.sys_ns),
                                   .tms_cutime = Ticks(children.user_ns),
                                   .tms_cstime = Ticks(children.sys_ns)}));
  }
  // Ticks since an arbitrary point in the past (Linux: boot, offset);
  // only differences mean anything.
  return int64_t{Ticks(kernel::MonotonicNowNs())};
}

}  // namespace

struct rusage RusageOf(const kernel::CpuTimes& t) {
  struct rusage ru {};
  ru.ru_utime = TimevalOf(t.user_ns);
  ru.ru_stime = TimevalOf(t.sys_ns);
  return ru;
}

void RegisterRusage(Registrar& r) {
  r.Partial<&Getrusage>(
      SYS_getrusage,
      "ru_utime and ru_stime only (wall time in app code and in the sentry); "
      "the other fields are zero");
  r.Full<&Times>(SYS_times);
}

}  // namespace syscalls
