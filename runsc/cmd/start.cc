// runsc start ID: runs the program of a created container.
#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Start(const Globals& g, const std::string& id) {
  if (auto s = container::Start(g, id); !s.ok()) return Fail(g, s);
  return 0;
}

}  // namespace runsc
