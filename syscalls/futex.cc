// futex(2).
#include <linux/futex.h>
#include <sys/syscall.h>

#include <optional>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::Futexes;

constexpr uint32_t kAllBits = FUTEX_BITSET_MATCH_ANY;

// The commands whose fourth argument is a timeout; the others read it as a
// 32-bit count (val2).
bool HasTimeout(int cmd) {
  return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET ||
         cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
         cmd == FUTEX_WAIT_REQUEUE_PI;
}

// The count some commands pass in the timeout argument: its low 32 bits.
int Val2(uint64_t timeout) {
  return static_cast<int>(static_cast<uint32_t>(timeout));
}

// The deadline of a timed wait (Linux's futex_init_timeout): FUTEX_WAIT's
// timeout is relative (monotonic); the others are absolute, on
// CLOCK_REALTIME if asked, else CLOCK_MONOTONIC.
Result<absl::Time> Deadline(Task& t, uint64_t timeout, bool relative,
                            bool realtime) {
  if (timeout == 0) return absl::InfiniteFuture();
  timespec ts = TRY(t.mm().CopyInObj(UserPtr<timespec>(timeout)));
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
    return Err(EINVAL);
  absl::Duration d = absl::DurationFromTimespec(ts);
  if (relative) return absl::Now() + d;
  if (realtime) return absl::UnixEpoch() + d;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::Now() + (d - absl::DurationFromTimespec(now));
}

// FUTEX_WAIT(_BITSET). Interrupted by a signal, an untimed wait restarts
// (ERESTARTSYS: EINTR under a handler without SA_RESTART); a timed one
// resumes through restart_syscall(2) to the same deadline unless a handler
// runs (then EINTR), as Linux's futex_wait_restart. The restart looks the
// futex up again, as Linux does.
Result<int> Wait(Task& t, uint64_t uaddr, bool is_private, uint32_t val,
                 uint32_t bitset, absl::Time deadline) {
  if (bitset == 0) return Err(EINVAL);
  Futexes::Key key = TRY(Futexes::KeyFor(t.mm(), uaddr, is_private));
  auto r = t.kernel().futexes().Wait(t, key, uaddr, val, bitset, deadline);
  if (r) return 0;
  if (r.error().value != EINTR) return std::unexpected(r.error());
  if (deadline == absl::InfiniteFuture()) return Err(base::kERESTARTSYS);
  t.signal_state().restart = [=](Task& t) -> Result<uint64_t> {
    return TRY(Wait(t, uaddr, is_private, val, bitset, deadline));
  };
  return Err(base::kERESTART_RESTARTBLOCK);
}

// FUTEX_WAKE(_BITSET): `val` waiters at most (at least one).
Result<int> Wake(Task& t, uint64_t uaddr, bool is_private, uint32_t val,
                 uint32_t bitset) {
  if (bitset == 0) return Err(EINVAL);
  Futexes::Key key = TRY(Futexes::KeyFor(t.mm(), uaddr, is_private));
  return t.kernel().futexes().Wake(key, static_cast<int>(val), bitset);
}

// FUTEX_REQUEUE and FUTEX_CMP_REQUEUE (with `cmpval`). Requeueing onto the
// same futex is allowed (only PI requeues refuse it).
Result<int> Requeue(Task& t, uint64_t uaddr, uint64_t uaddr2, bool is_private,
                    int nr_wake, int nr_requeue,
                    std::optional<uint32_t> cmpval) {
  if (nr_wake < 0 || nr_requeue < 0) return Err(EINVAL);
  Futexes::Key from = TRY(Futexes::KeyFor(t.mm(), uaddr, is_private));
  Futexes::Key to = TRY(Futexes::KeyFor(t.mm(), uaddr2, is_private));
  return t.kernel().futexes().Requeue(t.mm(), from, to, uaddr, cmpval, nr_wake,
                                      nr_requeue);
}

// FUTEX_WAKE_OP: the second word is changed, so its key needs it writable.
Result<int> WakeOp(Task& t, uint64_t uaddr, uint64_t uaddr2, bool is_private,
                   int nr_wake, int nr_wake2, uint32_t encoded_op) {
  Futexes::Key key1 = TRY(Futexes::KeyFor(t.mm(), uaddr, is_private));
  Futexes::Key key2 =
      TRY(Futexes::KeyFor(t.mm(), uaddr2, is_private, /*for_write=*/true));
  return t.kernel().futexes().WakeOp(t.mm(), key1, key2, uaddr2, nr_wake,
                                     nr_wake2, encoded_op);
}

// Futex implements Linux syscall futex(2).
Result<int> Futex(Task& t, uint64_t uaddr, int op, uint32_t val,
                  uint64_t timeout, uint64_t uaddr2, uint32_t val3) {
  const int cmd = op & FUTEX_CMD_MASK;
  const bool is_private = op & FUTEX_PRIVATE_FLAG;
  const bool realtime = op & FUTEX_CLOCK_REALTIME;
  // Linux reads and checks the timeout before anything else.
  absl::Time deadline = absl::InfiniteFuture();
  if (HasTimeout(cmd))
    deadline = TRY(Deadline(t, timeout, cmd == FUTEX_WAIT, realtime));
  if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
      cmd != FUTEX_LOCK_PI2)
    return Err(ENOSYS);
  switch (cmd) {
    case FUTEX_WAIT:
      return Wait(t, uaddr, is_private, val, kAllBits, deadline);
    case FUTEX_WAIT_BITSET:
      return Wait(t, uaddr, is_private, val, val3, deadline);
    case FUTEX_WAKE:
      return Wake(t, uaddr, is_private, val, kAllBits);
    case FUTEX_WAKE_BITSET:
      return Wake(t, uaddr, is_private, val, val3);
    case FUTEX_REQUEUE:
      return Requeue(t, uaddr, uaddr2, is_private, static_cast<int>(val),
                     Val2(timeout), std::nullopt);
    case FUTEX_CMP_REQUEUE:
      return Requeue(t, uaddr, uaddr2, is_private, static_cast<int>(val),
                     Val2(timeout), val3);
    case FUTEX_WAKE_OP:
      return WakeOp(t, uaddr, uaddr2, is_private, static_cast<int>(val),
                    Val2(timeout), val3);
    default:
      // PI futexes (LOCK_PI, UNLOCK_PI, TRYLOCK_PI, LOCK_PI2,
      // WAIT_REQUEUE_PI, CMP_REQUEUE_PI) and the long-gone FUTEX_FD.
      return Err(ENOSYS);
  }
}

}  // namespace

void RegisterFutex(Registrar& r) {
  r.Partial<&Futex>(SYS_futex,
                    "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, "
                    "CMP_REQUEUE, WAKE_OP; private and shared (MAP_SHARED "
                    "memory, across processes) futexes; no PI futexes "
                    "(LOCK_PI, UNLOCK_PI, TRYLOCK_PI, LOCK_PI2, "
                    "WAIT_REQUEUE_PI, CMP_REQUEUE_PI: ENOSYS)")
      .Show(SYS_futex, 0, ArgKind::kHex);
}

}  // namespace syscalls
