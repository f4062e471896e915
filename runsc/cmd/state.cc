// runsc state ID: the container's state as JSON (runc's fields).
#include "runsc/container/state.h"

#include <cstdio>

#include "runsc/cmd/commands.h"
#include "runsc/errors.h"

namespace runsc {

int State(const Globals& g, const std::string& id) {
  auto state = container::LoadState(g.root, id);
  if (!state.ok()) return Fail(g, state.status());
  printf(
      "%s\n",
      container::StateJson(*state, container::CurrentStatus(*state)).c_str());
  return 0;
}

}  // namespace runsc
