// Running config.json's hooks (runtime-spec config.md, "POSIX-platform
// Hooks"): each hook is a host program run with its args and env, the
// container's state JSON on its stdin, and its timeout. runsc runs them
// all in the runtime's (the host's) namespaces: the container's are the
// sandbox's own and have no host process to enter.
#ifndef RUNSC_CONTAINER_HOOKS_H_
#define RUNSC_CONTAINER_HOOKS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runsc/oci/spec.h"

namespace runsc::container {

// Runs `hooks` in order and stops at the first failure: a hook that
// cannot be started, exits non-zero, is killed or outlives its timeout
// (it is then killed). The error names `kind` ("prestart"...), the hook,
// and the first line of what it wrote to stderr.
absl::Status RunHooks(const char* kind, const std::vector<oci::Hook>& hooks,
                      const std::string& state_json);

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_HOOKS_H_
