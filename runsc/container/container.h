// The OCI operations on a container, under --root: what the verbs in
// runsc/cmd/ call. Each fails with runc's wording, which the shims match.
#ifndef RUNSC_CONTAINER_CONTAINER_H_
#define RUNSC_CONTAINER_CONTAINER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "runsc/container/state.h"
#include "runsc/globals.h"
#include "runsc/sandbox.h"
#include "sentry/boot/proto/control.pb.h"

namespace runsc::container {

struct CreateRequest {
  std::string id;
  std::string bundle;    // absolute
  std::string pid_file;  // "" for none
  // runsc create: the sandbox outlives us. runsc run waits for it, and a
  // process.terminal spec gets our terminal (relayed from console_fd).
  bool detached = true;
  int console_fd = -1;
  // With process.terminal: the unix socket that gets the master of the
  // container's terminal (host_pty.h).
  std::string console_socket;
};

// Builds the sandbox (gofer, sentry, the command found in the rootfs)
// and leaves it waiting for start. A duplicate id fails and changes
// nothing; any other failure leaves nothing behind.
absl::StatusOr<State> Create(const Globals& g, const CreateRequest& req,
                             Sandbox* sandbox);
absl::Status Start(const Globals& g, const std::string& id);
absl::Status Kill(const Globals& g, const std::string& id, int sig, bool all);
// Removes a stopped container; a created one is killed first, a running
// one only with `force`. With `force` a half-made container (its state
// never completed) is removed too.
absl::Status Delete(const Globals& g, const std::string& id, bool force);

// A connection to the sandbox's control socket (sentry/boot/proto/
// control.proto): "does not exist" for an unknown id, "container not
// running" when the sandbox is gone.
absl::StatusOr<base::UniqueFd> ConnectControl(const Globals& g,
                                              const std::string& id);

// Sends one request with `fds` (SCM_RIGHTS) on a control connection.
absl::Status SendRequest(int sock, const control::Request& req,
                         const std::vector<int>& fds);
// One request and its answer; the answer's error as a failure.
absl::StatusOr<control::Response> CallControl(
    const Globals& g, const std::string& id, const control::Request& req,
    const std::vector<int>& fds = {});
// The file in the container's dir where the sentry writes init's exit
// status (as runsc exits with it) when init has exited.
inline constexpr char kExitStatusFile[] = "exit_status";
// That status, once written; "container not running" before.
absl::StatusOr<int> ExitStatus(const Globals& g, const std::string& id);

// runsc pause / resume: every task of the sandbox stops / goes on; the
// state says "paused" in between.
absl::Status Pause(const Globals& g, const std::string& id);
absl::Status Resume(const Globals& g, const std::string& id);
// A request (ps, stats, wait, update) to a container that is not stopped.
absl::StatusOr<control::Response> Query(const Globals& g,
                                        const std::string& id,
                                        const control::Request& req);

// A signal by number ("9") or name ("KILL", "SIGKILL").
absl::StatusOr<int> ParseSignal(const std::string& s);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_CONTAINER_H_
