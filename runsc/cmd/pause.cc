// runsc pause ID / runsc resume ID: every process of the container stops
// before it next runs (one blocked in a syscall when the call returns)
// and the state says "paused"; resume lets them go on. The sentry does
// it itself (Kernel::Pause), not a cgroup freezer.
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Pause(const Globals& g, const std::string& id) {
  if (auto s = container::Pause(g, id); !s.ok()) return Fail(g, s);
  return 0;
}

int Resume(const Globals& g, const std::string& id) {
  if (auto s = container::Resume(g, id); !s.ok()) return Fail(g, s);
  return 0;
}

}  // namespace runsc
