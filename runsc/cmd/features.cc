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
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer",
        "poststart", "poststop"}},
      // What container/sandbox_config.cc keeps or accepts (no bind yet).
      {"mountOptions",
       {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
        "noatime", "atime", "nodiratime", "diratime", "relatime",
        "norelatime", "strictatime", "nostrictatime", "private", "rprivate",
        "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}},
      {"linux",
       {{"namespaces", {"pid", "ipc", "uts", "mount"}},
        {"capabilities", oci::CapabilityNames()},
        // Paths in systemd's form are made directly in cgroupfs; no unit.
        {"cgroup",
         {{"v1", true},
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
