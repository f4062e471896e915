// runsc features: what this runtime supports, as JSON in runc's format
// (runtime-spec's features.md). Lists only what runsc honours today.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runsc/cmd/commands.h"
#include "runsc/oci/spec.h"

namespace runsc {

int Features() {
  nlohmann::json f = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", oci::kVersion},
      // Hooks are not run yet (docs/running.md, "OCI runtime").
      {"hooks", nlohmann::json::array()},
      {"mountOptions", nlohmann::json::array()},
      {"linux",
       {{"namespaces", {"pid", "ipc", "uts", "mount"}},
        {"capabilities", nlohmann::json::array()},
        {"cgroup",
         {{"v1", false},
          {"v2", false},
          {"systemd", false},
          {"systemdUser", false}}},
        {"seccomp", {{"enabled", false}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations", {{"org.opencontainers.runc.version", "runsc"}}},
  };
  printf("%s\n", f.dump(4).c_str());
  return 0;
}

}  // namespace runsc
