// CPU-time clock ids, as Linux encodes them (posix-timers_types.h):
// CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID name the caller's
// process and thread; a negative id names another one, as
// clock_getcpuclockid(3) and pthread_getcpuclockid(3) make them:
// (~pid << 3) | (per-thread ? 4 : 0) | kind. Kind 3 there means an fd
// clock (a PTP device), which the sandbox has none of.
#ifndef SENTRY_KERNEL_CPU_CLOCK_H_
#define SENTRY_KERNEL_CPU_CLOCK_H_

#include <time.h>

#include <optional>

#include "base/result.h"
#include "sentry/kernel/timer_service.h"

namespace kernel {

class Task;

enum class CpuClockKind {
  kProf = 0,   // user + system time
  kVirt = 1,   // user time
  kSched = 2,  // user + system time (Linux: the scheduler's runtime)
};

struct CpuClockId {
  int pid = 0;  // 0: the caller's
  bool per_thread = false;
  CpuClockKind kind = CpuClockKind::kSched;
};

// True for ids in the CPU-clock space (CLOCK_PROCESS_CPUTIME_ID,
// CLOCK_THREAD_CPUTIME_ID and every negative id).
bool IsCpuClockId(clockid_t id);
// The fields of a CPU-clock id; nullopt for an fd clock id (kind 3).
std::optional<CpuClockId> DecodeCpuClockId(clockid_t id);

// The clock `id` names, seen from `t`, or EINVAL: not a CPU clock id, an
// fd clock, no such process, a thread of another process. Process clocks
// need a process id, except that clock_gettime (`gettime`) also takes the
// caller's own thread id (Linux's pid_for_clock).
base::Result<TimerClock> CpuClockFor(Task& t, clockid_t id, bool gettime);

// clock_getres(2) of a CPU clock: 1 ns for the scheduler clock, a tick
// for the others (Linux says 1/HZ).
int64_t CpuClockResolutionNs(const CpuClockId& id);

}  // namespace kernel

#endif  // SENTRY_KERNEL_CPU_CLOCK_H_
