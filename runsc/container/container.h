// The OCI operations on a container, under --root: what the verbs in
// runsc/cmd/ call. Each fails with runc's wording, which the shims match.
#ifndef RUNSC_CONTAINER_CONTAINER_H_
#define RUNSC_CONTAINER_CONTAINER_H_

#include <string>

#include "absl/status/statusor.h"
#include "runsc/container/state.h"
#include "runsc/globals.h"
#include "runsc/sandbox.h"

namespace runsc::container {

struct CreateRequest {
  std::string id;
  std::string bundle;    // absolute
  std::string pid_file;  // "" for none
  // runsc create: the sandbox outlives us. runsc run waits for it, and a
  // process.terminal spec gets our terminal (relayed from console_fd).
  bool detached = true;
  int console_fd = -1;
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

// A signal by number ("9") or name ("KILL", "SIGKILL").
absl::StatusOr<int> ParseSignal(const std::string& s);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_CONTAINER_H_
