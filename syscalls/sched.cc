// Scheduling: sched_getaffinity(2), sched_setaffinity(2), sched_yield(2).
#include <sched.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

Result<void> CheckSelf(Task& t, int pid) {
  if (pid < 0) return Err(EINVAL);
  if (pid != 0 && pid != t.tid()) return Err(ESRCH);
  return {};
}

// SchedGetaffinity implements Linux syscall sched_getaffinity(2): the
// host CPUs the sandbox may run on.
Result<size_t> SchedGetaffinity(Task& t, int pid, unsigned len,
                                UserPtr<uint8_t> mask) {
  TRY(CheckSelf(t, pid));
  cpu_set_t host;
  CPU_ZERO(&host);
  if (sched_getaffinity(0, sizeof(host), &host) != 0) return Err(errno);
  // Like Linux, the size is that of the kernel's mask: enough longs for the
  // highest possible CPU.
  int highest = 0;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &host)) highest = i;
  size_t size = ((highest / 64) + 1) * sizeof(uint64_t);
  if (len < size || len % sizeof(uint64_t)) return Err(EINVAL);
  TRY(t.mm().CopyOut(mask.addr, &host, size));
  return size;
}

// SchedSetaffinity implements Linux syscall sched_setaffinity(2). The
// sandbox does not pin its threads; the mask is checked and dropped.
Result<void> SchedSetaffinity(Task& t, int pid, unsigned len,
                              UserPtr<uint8_t> mask) {
  TRY(CheckSelf(t, pid));
  uint64_t first = 0;
  if (len < sizeof(first)) return Err(EINVAL);
  first = TRY(t.mm().CopyInObj(UserPtr<uint64_t>(mask.addr)));
  if (first == 0) return Err(EINVAL);
  return {};
}

// SchedYield implements Linux syscall sched_yield(2).
Result<void> SchedYield(Task& t) {
  sched_yield();
  return {};
}

}  // namespace

void RegisterSched(Registrar& r) {
  r.Full<&SchedGetaffinity>(SYS_sched_getaffinity);
  r.Partial<&SchedSetaffinity>(SYS_sched_setaffinity,
                               "accepted and ignored: threads are not pinned");
  r.Full<&SchedYield>(SYS_sched_yield);
}

}  // namespace syscalls
