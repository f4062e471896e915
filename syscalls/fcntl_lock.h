// fcntl(2)'s record locks, for Fcntl (open.cc).
#ifndef SYSCALLS_FCNTL_LOCK_H_
#define SYSCALLS_FCNTL_LOCK_H_

#include "syscalls/common.h"

namespace syscalls {

// True for F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms.
bool IsLockCommand(int cmd);

// fcntl(fd, cmd, arg) for those commands; `f` is what `fd` refers to.
Result<int64_t> FcntlLock(Task& t, Fd fd, FilePtr f, int cmd, uint64_t arg);

}  // namespace syscalls

#endif  // SYSCALLS_FCNTL_LOCK_H_
