// runsc create [--bundle B] [--pid-file F] ID: builds the container's
// sandbox and leaves it waiting for `runsc start`; the sandbox process,
// named by the pid file, exits with the container's status.
#include <limits.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

// The bundle as an absolute path; "" (and a reported error) if it is not
// there.
std::string AbsoluteBundle(const Globals& g, const std::string& bundle) {
  char path[PATH_MAX];
  if (!realpath(bundle.c_str(), path)) {
    Fail(g, "bundle \"" + bundle + "\": " + strerror(errno));
    return "";
  }
  return path;
}

int Create(const Globals& g, const CreateFlags& flags) {
  const std::string bundle = AbsoluteBundle(g, flags.bundle);
  if (bundle.empty()) return 1;
  Sandbox sandbox;
  auto state = container::Create(
      g,
      {.id = flags.id,
       .bundle = bundle,
       .pid_file = flags.pid_file,
       .console_socket = flags.console_socket},
      &sandbox);
  if (!state.ok()) return Fail(g, state.status());
  return 0;
}

}  // namespace runsc
