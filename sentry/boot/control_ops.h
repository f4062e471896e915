// The read-only control requests of a running sandbox, answered from the
// kernel: runsc ps and runsc events.
#ifndef SENTRY_BOOT_CONTROL_OPS_H_
#define SENTRY_BOOT_CONTROL_OPS_H_

#include "sentry/boot/proto/control.pb.h"
#include "sentry/kernel/kernel.h"

namespace boot {

// Every live process of the sandbox, by pid (its own pids: the app's
// processes have no host pids, gVisor's ps answers the same way).
void ListProcesses(kernel::Kernel& k, control::Response* resp);
// Memory the application holds (its pages in the memory file), tasks and
// the pids limit, CPU time of the live processes.
void FillStats(kernel::Kernel& k, control::Stats* stats);

}  // namespace boot

#endif  // SENTRY_BOOT_CONTROL_OPS_H_
