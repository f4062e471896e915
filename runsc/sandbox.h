// Starting a sandbox: the gofer (`runsc gofer`), then the sandbox process
// (`runsc boot`) in fresh namespaces, with the configuration handed over on
// a pipe and the gofer's socket as an inherited fd.
#ifndef RUNSC_SANDBOX_H_
#define RUNSC_SANDBOX_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sentry/boot/boot.h"

namespace runsc {

struct SandboxOptions {
  std::string debug_log;  // a file for the sandbox's log, or "" for stderr
  bool debug = false;
  // runsc do -t: the sandbox's end of the console socket, passed as
  // boot::kConsoleFd (-1: none).
  int console_fd = -1;
  // runsc create: the listening control socket and the write end of the
  // ready pipe, passed as boot::kControlFd and boot::kReadyFd (-1: none).
  int control_fd = -1;
  int ready_fd = -1;
  // runsc create: the sandbox and gofer outlive this process (no
  // parent-death signal); whoever reaps them learns the container's end.
  bool detached = false;
  // runsc create: the cgroup.procs files the gofer and the sandbox
  // process join before they exec (container/cgroup.h).
  std::vector<std::string> cgroup_procs;
};

// A running sandbox: the sentry's process and its gofer's.
struct Sandbox {
  pid_t sentry = -1;
  pid_t gofer = -1;
};

// Starts the gofer (serving config.root and config.visible) and the
// sandbox process, connected by a socket pair. The sandbox inherits this
// process's stdio.
absl::StatusOr<Sandbox> StartSandbox(const boot::Config& config,
                                     const SandboxOptions& options);

// Waits for the sandbox and returns the status `runsc do` exits with. The
// gofer goes with it.
int WaitSandbox(const Sandbox& sandbox);

}  // namespace runsc

#endif  // RUNSC_SANDBOX_H_
