// runsc checkpoint ID and runsc restore ID: not supported; they say so
// (and fail) instead of pretending.
#include "runsc/cmd/commands.h"
#include "runsc/errors.h"

namespace runsc {

int Checkpoint(const Globals& g, const std::string& verb,
               const std::string& id) {
  return Fail(
      g, verb + " " + id + ": checkpoint/restore is not supported by runsc");
}

}  // namespace runsc
