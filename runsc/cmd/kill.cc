// runsc kill [--all] ID [SIGNAL]: a signal (number or name; SIGTERM by
// default) for the container's init, or with --all for all its processes.
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Kill(const Globals& g, const std::string& id, const std::string& signal,
         bool all) {
  auto sig = container::ParseSignal(signal);
  if (!sig.ok()) return Fail(g, sig.status());
  if (auto s = container::Kill(g, id, *sig, all); !s.ok()) return Fail(g, s);
  return 0;
}

}  // namespace runsc
