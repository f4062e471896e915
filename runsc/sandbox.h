// Starting the sandbox process: `runsc boot` in fresh namespaces, with the
// configuration handed over on a pipe.
#ifndef RUNSC_SANDBOX_H_
#define RUNSC_SANDBOX_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "sentry/boot/boot.h"

namespace runsc {

struct SandboxOptions {
  std::string debug_log;  // a file for the sandbox's log, or "" for stderr
  bool debug = false;
};

// Starts the sandbox process and returns its host pid. It inherits this
// process's stdio.
absl::StatusOr<pid_t> StartSandbox(const boot::Config& config,
                                   const SandboxOptions& options);

// Waits for the sandbox and returns the status `runsc do` exits with.
int WaitSandbox(pid_t pid);

}  // namespace runsc

#endif  // RUNSC_SANDBOX_H_
