// runsc update [--resources FILE|-] [--pids-limit N] ID: new resource
// limits (runtime-spec LinuxResources JSON). The sandbox applies the pids
// limit itself (new tasks beyond it fail with EAGAIN); the others need the
// sandbox's cgroup, which runsc does not manage yet: each is named on
// stderr as not applied, and the update still succeeds, so that a shim's
// update of several fields does not fail on them.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runsc/cmd/commands.h"
#include "runsc/container/container.h"
#include "runsc/errors.h"

namespace runsc {

int Update(const Globals& g, const UpdateFlags& flags) {
  nlohmann::json resources = nlohmann::json::object();
  if (!flags.resources.empty()) {
    std::stringstream text;
    if (flags.resources == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream f(flags.resources);
      if (!f) return Fail(g, "cannot read " + flags.resources);
      text << f.rdbuf();
    }
    resources = nlohmann::json::parse(text.str(), nullptr, false);
    if (resources.is_discarded() || !resources.is_object())
      return Fail(g, "--resources: malformed JSON (a LinuxResources object)");
  }
  int64_t pids = flags.pids_limit;
  if (auto it = resources.find("pids"); it != resources.end()) {
    if (!it->is_object() || !it->contains("limit") ||
        !(*it)["limit"].is_number_integer())
      return Fail(g, "--resources: pids.limit must be an integer");
    pids = (*it)["limit"].get<int64_t>();
  }
  control::Request req;
  // Zero or less is no limit (runtime-spec): the sandbox's own then.
  req.mutable_update()->set_pids_limit(pids > 0 ? pids : 0);
  auto resp = container::Query(g, flags.id, req);
  if (!resp.ok()) return Fail(g, resp.status());
  for (const auto& [key, value] : resources.items()) {
    if (key == "pids") continue;
    fprintf(stderr,
            "runsc: update: %s not applied: the sandbox has no cgroup of its "
            "own yet\n",
            key.c_str());
  }
  return 0;
}

}  // namespace runsc
