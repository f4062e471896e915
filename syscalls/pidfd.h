// A pidfd for a process, installed close-on-exec: pidfd_open(2) and
// clone's CLONE_PIDFD.
#ifndef SYSCALLS_PIDFD_H_
#define SYSCALLS_PIDFD_H_

#include <memory>

#include "syscalls/common.h"

namespace syscalls {

Result<int> InstallPidfd(Task& t, std::shared_ptr<kernel::ThreadGroup> tg,
                         int flags);

}  // namespace syscalls

#endif  // SYSCALLS_PIDFD_H_
