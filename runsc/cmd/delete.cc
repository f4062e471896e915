// runsc delete [--force] ID: removes a stopped (or created) container;
// --force kills a running or half-made one first.
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Delete(const Globals& g, const std::string& id, bool force) {
  if (auto s = container::Delete(g, id, force); !s.ok()) return Fail(g, s);
  return 0;
}

}  // namespace runsc
