// runsc exec's work: a new process in a running container's sandbox,
// started over the control socket with this process's stdio.
#ifndef RUNSC_CONTAINER_EXEC_H_
#define RUNSC_CONTAINER_EXEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "runsc/globals.h"
#include "runsc/oci/spec.h"

namespace runsc::container {

struct ExecRequest {
  std::string id;
  oci::Process process;
  // Return once the process runs; a child of ours (named by the pid file)
  // waits for it and exits with its status.
  bool detach = false;
  std::string pid_file;  // "" for none
  // With process.terminal: where the terminal's master goes (host_pty.h).
  std::string console_socket;
};

// Runs the process and returns the status runsc exec exits with: the
// process's (128+N when signal N ended it), or, detached, 0 once it runs.
// Fails with runc's wording for an unknown, stopped or paused container.
absl::StatusOr<int> Exec(const Globals& g, const ExecRequest& req);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_EXEC_H_
