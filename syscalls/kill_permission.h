// Who may signal whom: kill(2) and its family (signal.cc), and
// pidfd_send_signal(2) (pidfd.cc).
#ifndef SYSCALLS_KILL_PERMISSION_H_
#define SYSCALLS_KILL_PERMISSION_H_

#include "syscalls/common.h"

namespace syscalls {

// Linux's check_kill_permission, for `sig` to `target` whose credentials
// (of the thread named, or its leader's) are `them`.
bool MayKill(Task& t, kernel::ThreadGroup& target,
             const kernel::Credentials& them, int sig);

}  // namespace syscalls

#endif  // SYSCALLS_KILL_PERMISSION_H_
