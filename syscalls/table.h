// The syscall table: every x86-64 syscall number, its name, its handler
// and how complete it is. `runsc syscalls` and docs/syscalls.md come from it.
#ifndef SYSCALLS_TABLE_H_
#define SYSCALLS_TABLE_H_

#include "sentry/kernel/syscall_table.h"

namespace syscalls {

const kernel::SyscallTable& Table();

}  // namespace syscalls

#endif  // SYSCALLS_TABLE_H_
