// futex(2).
#include <linux/futex.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr uint32_t kAllBits = FUTEX_BITSET_MATCH_ANY;

// The deadline of a wait: FUTEX_WAIT's timeout is relative (monotonic);
// FUTEX_WAIT_BITSET's is absolute, on CLOCK_REALTIME if asked.
Result<absl::Time> Deadline(Task& t, uint64_t timeout, bool absolute,
                            bool realtime) {
  if (timeout == 0) return absl::InfiniteFuture();
  timespec ts = TRY(t.mm().CopyInObj(UserPtr<timespec>(timeout)));
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
    return Err(EINVAL);
  absl::Duration d = absl::DurationFromTimespec(ts);
  if (!absolute) return absl::Now() + d;
  if (realtime) return absl::UnixEpoch() + d;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::Now() + (d - absl::DurationFromTimespec(now));
}

// A futex wait. Interrupted by a signal, an untimed wait restarts (or
// fails with EINTR under a handler without SA_RESTART); a timed one is
// resumed by restart_syscall(2) with the same deadline unless a handler
// runs, as Linux does.
Result<int> Wait(Task& t, kernel::Futexes::Key key, uint32_t val,
                 uint32_t bitset, absl::Time deadline) {
  auto r = t.kernel().futexes().Wait(t, key, val, bitset, deadline);
  if (r) return 0;
  if (r.error().value != EINTR) return std::unexpected(r.error());
  if (deadline == absl::InfiniteFuture()) return Err(base::kERESTARTSYS);
  t.signal_state().restart = [=](Task& t) -> Result<uint64_t> {
    return TRY(Wait(t, key, val, bitset, deadline));
  };
  return Err(base::kERESTART_RESTARTBLOCK);
}

// Futex implements Linux syscall futex(2).
Result<int> Futex(Task& t, uint64_t uaddr, int op, uint32_t val,
                  uint64_t timeout, uint64_t uaddr2, uint32_t val3) {
  if (uaddr % 4) return Err(EINVAL);
  const int cmd = op & FUTEX_CMD_MASK;
  const bool realtime = op & FUTEX_CLOCK_REALTIME;
  if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
    return Err(ENOSYS);
  kernel::Futexes::Key key{&t.mm(), uaddr};
  auto& futexes = t.kernel().futexes();
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAIT ? kAllBits : val3;
      if (bitset == 0) return Err(EINVAL);
      absl::Time deadline = TRY(
          Deadline(t, timeout, cmd == FUTEX_WAIT_BITSET, realtime));
      return Wait(t, key, val, bitset, deadline);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAKE ? kAllBits : val3;
      if (bitset == 0) return Err(EINVAL);
      int n = static_cast<int>(val);
      return futexes.Wake(key, n <= 0 ? 1 : n, bitset);
    }
    default:
      return Err(ENOSYS);
  }
}

}  // namespace

void RegisterFutex(Registrar& r) {
  r.Partial<&Futex>(SYS_futex,
                    "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET; no REQUEUE, "
                    "WAKE_OP or PI futexes yet")
      .Show(SYS_futex, 0, ArgKind::kHex);
}

}  // namespace syscalls
