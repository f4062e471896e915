// runsc list [--format table|json] [--quiet]: the containers under --root.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runsc/cmd/commands.h"
#include "runsc/container/state.h"
#include "runsc/errors.h"

namespace runsc {

int List(const Globals& g, const std::string& format, bool quiet) {
  if (format != "table" && format != "json")
    return Fail(g, "--format must be table or json");
  std::vector<container::State> states;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(g.root, ec)) {
    auto s = container::LoadState(g.root, e.path().filename().string());
    if (s.ok()) states.push_back(*s);
  }
  if (quiet) {
    for (const auto& s : states) printf("%s\n", s.id.c_str());
    return 0;
  }
  if (format == "json") {
    auto out = nlohmann::json::array();
    for (const auto& s : states)
      out.push_back(nlohmann::json::parse(
          container::StateJson(s, container::CurrentStatus(s))));
    printf("%s\n", out.dump().c_str());
    return 0;
  }
  printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
         "CREATED", "OWNER");
  for (const auto& s : states) {
    const std::string status = container::CurrentStatus(s);
    printf("%-12s %-8d %-10s %-40s %-30s %s\n", s.id.c_str(),
           status == "stopped" ? 0 : s.pid, status.c_str(), s.bundle.c_str(),
           s.created.c_str(), s.owner.c_str());
  }
  return 0;
}

}  // namespace runsc
