// fcntl(2)'s record locks: F_GETLK, F_SETLK, F_SETLKW and the open file
// description forms F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW.
#include "syscalls/fcntl_lock.h"

#include <fcntl.h>

#include "sentry/vfs/record_lock.h"

namespace syscalls {
namespace {

using vfs::LockOwner;
using vfs::LockRange;
using vfs::RecordLockTable;

// The range a struct flock names, as Linux's flock64_to_posix_lock: the
// checks in its order (EINVAL, EOVERFLOW), every sum checked.
Result<LockRange> ToRange(vfs::FileDescription& f, const struct flock& l) {
  int64_t base;
  switch (l.l_whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR: {
      // Unseekable files (pipes) stand at 0, as their f_pos on Linux.
      auto pos = f.Seek(0, SEEK_CUR);
      base = pos ? *pos : 0;
      break;
    }
    case SEEK_END:
      base = TRY(f.Stat()).st_size;
      break;
    default:
      return Err(EINVAL);
  }
  if (base < 0) base = 0;
  if (l.l_start > vfs::kLockOffsetMax - base) return Err(EOVERFLOW);
  LockRange r{l.l_type, base + l.l_start, 0};
  if (r.start < 0) return Err(EINVAL);
  if (l.l_len > 0) {
    if (l.l_len - 1 > vfs::kLockOffsetMax - r.start) return Err(EOVERFLOW);
    r.end = r.start + (l.l_len - 1);
  } else if (l.l_len < 0) {
    // POSIX-2001: the l_len bytes before l_start.
    if (r.start + l.l_len < 0) return Err(EINVAL);
    r.end = r.start - 1;
    r.start += l.l_len;
  } else {
    r.end = vfs::kLockOffsetMax;
  }
  if (l.l_type != F_RDLCK && l.l_type != F_WRLCK && l.l_type != F_UNLCK)
    return Err(EINVAL);
  return r;
}

LockOwner OwnerFor(Task& t, FilePtr& f, bool ofd) {
  if (ofd) return LockOwner{f.get(), true, -1};
  return LockOwner{&t.fds().lock_owner(), false, t.thread_group().pid()};
}

// F_GETLK, F_OFD_GETLK.
Result<int64_t> GetLock(Task& t, FilePtr f, int cmd,
                        mm::UserPtr<struct flock> arg) {
  struct flock l = TRY(t.mm().CopyInObj(arg));
  const bool ofd = cmd == F_OFD_GETLK;
  // Only F_OFD_GETLK may ask about F_UNLCK (its own locks, Linux 6.x).
  if (!ofd && l.l_type != F_RDLCK && l.l_type != F_WRLCK) return Err(EINVAL);
  const LockRange req = TRY(ToRange(*f, l));
  if (ofd && l.l_pid != 0) return Err(EINVAL);
  const RecordLockTable::Key key = TRY(vfs::LockKey(*f));
  auto held = RecordLockTable::Get().Test(key, OwnerFor(t, f, ofd), req);
  if (!held) {
    l.l_type = F_UNLCK;  // the rest stays as the app gave it, as Linux
  } else {
    l.l_type = held->range.type;
    l.l_whence = SEEK_SET;
    l.l_start = held->range.start;
    l.l_len = held->range.end == vfs::kLockOffsetMax
                  ? 0
                  : held->range.end - held->range.start + 1;
    l.l_pid = held->pid;
  }
  TRY(t.mm().CopyOutObj(arg, l));
  return 0;
}

// F_SETLKW, F_OFD_SETLKW: waits until no lock of another owner is in the
// way. Interruptible, and restarted after a handler with SA_RESTART, as
// Linux (ERESTARTSYS).
Result<void> WaitAndSet(Task& t, RecordLockTable::Key key,
                        const LockOwner& owner, const LockRange& req) {
  RecordLockTable& table = RecordLockTable::Get();
  // Registered before the first try, so a release between a failed try
  // and the sleep still wakes us.
  Task::WaitEntry entry(t, RecordLockTable::kReleased);
  table.queue().Register(&entry);
  Result<void> r;
  for (;;) {
    r = table.TrySet(key, owner, req, &entry);
    if (r || r.error().value != EAGAIN) break;
    if (t.Block(absl::InfiniteFuture(), &entry.ready) ==
        Task::WakeReason::kInterrupted) {
      r = Err(base::kERESTARTSYS);
      break;
    }
    entry.ready.store(false);
  }
  table.StopWaiting(&entry);
  table.queue().Unregister(&entry);
  return r;
}

// F_SETLK, F_SETLKW and their OFD forms, as Linux's fcntl_setlk.
Result<int64_t> SetLock(Task& t, Fd fd, FilePtr f, int cmd,
                        mm::UserPtr<struct flock> arg) {
  const struct flock l = TRY(t.mm().CopyInObj(arg));
  const LockRange req = TRY(ToRange(*f, l));
  if ((req.type == F_RDLCK && !f->readable()) ||
      (req.type == F_WRLCK && !f->writable()))
    return Err(EBADF);
  const bool ofd = cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
  if (ofd && l.l_pid != 0) return Err(EINVAL);
  const RecordLockTable::Key key = TRY(vfs::LockKey(*f));
  const LockOwner owner = OwnerFor(t, f, ofd);
  if (ofd)
    f->set_holds_ofd_lock();
  else
    t.fds().lock_owner().NoteLocking();
  RecordLockTable& table = RecordLockTable::Get();
  if (cmd == F_SETLK || cmd == F_OFD_SETLK)
    TRY(table.TrySet(key, owner, req, nullptr));
  else
    TRY(WaitAndSet(t, key, owner, req));
  // Another thread may have closed fd meanwhile, and its close found no
  // lock to drop: drop it now, as Linux does when close wins the race.
  if (!ofd && req.type != F_UNLCK) {
    auto now = t.fds().Get(fd.value);
    if (!now || now->get() != f.get()) {
      (void)table.TrySet(key, owner, LockRange{F_UNLCK, req.start, req.end},
                         nullptr);
      return Err(EBADF);
    }
  }
  return 0;
}

}  // namespace

bool IsLockCommand(int cmd) {
  switch (cmd) {
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return true;
    default:
      return false;
  }
}

Result<int64_t> FcntlLock(Task& t, Fd fd, FilePtr f, int cmd, uint64_t arg) {
  const mm::UserPtr<struct flock> l(arg);
  if (cmd == F_GETLK || cmd == F_OFD_GETLK)
    return GetLock(t, std::move(f), cmd, l);
  return SetLock(t, fd, std::move(f), cmd, l);
}

}  // namespace syscalls
