// flock(2).
#include <sys/file.h>
#include <sys/syscall.h>

#include "sentry/vfs/file_lock.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

// Linux ignores LOCK_MAND (Samba's, removed in 5.15) and succeeds.
constexpr int kLockMand = 32;

// Flock implements Linux syscall flock(2).
Result<void> Flock(Task& t, Fd fd, unsigned op) {
  // The operation is checked before the descriptor, as Linux 6.x.
  const unsigned cmd = op & ~static_cast<unsigned>(LOCK_NB);
  if (!(cmd & kLockMand) && cmd != LOCK_SH && cmd != LOCK_EX &&
      cmd != LOCK_UN)
    return Err(EINVAL);
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  if (cmd & kLockMand) return {};
  vfs::FlockTable& table = vfs::FlockTable::Get();
  if (cmd == LOCK_UN) {
    table.Unlock(f.get());
    return {};
  }
  // Registered before the first try, so a release between a failed try
  // and the sleep still wakes us.
  Task::WaitEntry entry(t, vfs::FlockTable::kReleased);
  table.queue().Register(&entry);
  Result<void> r;
  for (;;) {
    r = table.TryFlock(*f, cmd == LOCK_EX);
    if (r || r.error().value != EAGAIN || (op & LOCK_NB)) break;
    if (t.Block(absl::InfiniteFuture(), &entry.ready) ==
        Task::WakeReason::kInterrupted) {
      r = Err(base::kERESTARTSYS);
      break;
    }
    entry.ready.store(false);
  }
  table.queue().Unregister(&entry);
  return r;
}

}  // namespace

void RegisterFlock(Registrar& r) {
  r.Full<&Flock>(SYS_flock);
}

}  // namespace syscalls
