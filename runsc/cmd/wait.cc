// runsc wait ID: waits until the container's init has exited; prints
// {"id":ID,"exitStatus":N} (as gVisor's runsc wait) and exits with N
// (128+S when signal S ended it). Once the container has stopped, the
// status comes from the file the sentry wrote in the container's state
// dir (container::ExitStatus); a sandbox killed outright (delete --force)
// wrote none: wait then fails with "container not running".
#include <cstdio>

#include <nlohmann/json.hpp>

#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Wait(const Globals& g, const std::string& id) {
  control::Request req;
  req.mutable_wait();
  auto resp = container::Query(g, id, req);
  int status;
  if (resp.ok() && resp->exited()) {
    status = resp->exit_signal() > 0 ? 128 + resp->exit_signal()
                                     : resp->exit_code();
  } else {
    // Stopped, before or while we asked: the status is in the file.
    if (!resp.ok() &&
        resp.status().code() != absl::StatusCode::kFailedPrecondition)
      return Fail(g, resp.status());
    auto saved = container::ExitStatus(g, id);
    if (!saved.ok()) return Fail(g, saved.status());
    status = *saved;
  }
  printf("%s\n",
         nlohmann::json{{"id", id}, {"exitStatus", status}}.dump().c_str());
  return status;
}

}  // namespace runsc
