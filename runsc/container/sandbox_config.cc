#include "runsc/container/sandbox_config.h"

#include <sys/mount.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"

namespace runsc::container {

MountOptions ParseMountOptions(const std::vector<std::string>& options) {
  // The flags the sandbox's mounts keep; their "no" forms clear them.
  static const auto* set_flags = new std::map<std::string, unsigned long>{
      {"ro", MS_RDONLY},     {"nosuid", MS_NOSUID},
      {"nodev", MS_NODEV},   {"noexec", MS_NOEXEC},
      {"noatime", MS_NOATIME}, {"nodiratime", MS_NODIRATIME},
      {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME}};
  static const auto* clear_flags = new std::map<std::string, unsigned long>{
      {"rw", MS_RDONLY},  {"suid", MS_NOSUID}, {"dev", MS_NODEV},
      {"exec", MS_NOEXEC}, {"atime", MS_NOATIME}, {"diratime", MS_NODIRATIME},
      {"norelatime", MS_RELATIME}, {"nostrictatime", MS_STRICTATIME}};
  // Propagation: every mount of the sandbox is private, nothing reaches
  // the host or comes from it, so these are accepted and change nothing.
  static const auto* ignored = new std::set<std::string>{
      "private", "rprivate", "shared",     "rshared", "slave",
      "rslave",  "unbindable", "runbindable", "defaults", "async", "sync"};
  MountOptions m;
  for (const std::string& o : options) {
    if (o == "bind" || o == "rbind") {
      m.bind = true;
    } else if (auto it = set_flags->find(o); it != set_flags->end()) {
      m.flags |= it->second;
    } else if (auto it = clear_flags->find(o); it != clear_flags->end()) {
      m.flags &= ~it->second;
    } else if (!ignored->count(o)) {
      m.data.push_back(o);
    }
  }
  return m;
}

absl::StatusOr<boot::Config> SandboxConfig(const Globals& g,
                                           const oci::Spec& spec,
                                           std::vector<std::string>* warnings) {
  boot::Config config;
  config.argv = spec.process.args;
  config.env = spec.process.env;
  config.cwd = spec.process.cwd;
  config.platform = g.platform;
  config.root = spec.root.path;
  config.root_readonly = spec.root.readonly;
  if (!spec.hostname.empty()) config.hostname = spec.hostname;
  if (!spec.domainname.empty()) config.domainname = spec.domainname;
  config.strace = g.strace;
  const oci::Process& p = spec.process;
  config.uid = p.user.uid;
  config.gid = p.user.gid;
  config.groups = p.user.additional_gids;
  if (p.user.umask) config.umask = static_cast<int>(*p.user.umask & 0777);
  for (const oci::Rlimit& r : p.rlimits)
    config.rlimits.push_back({r.resource, r.soft, r.hard});
  if (p.capabilities) {
    config.has_capabilities = true;
    config.capabilities = {.bounding = p.capabilities->bounding,
                           .effective = p.capabilities->effective,
                           .permitted = p.capabilities->permitted,
                           .inheritable = p.capabilities->inheritable,
                           .ambient = p.capabilities->ambient};
  }
  config.no_new_privs = p.no_new_privileges;
  if (spec.pids_limit) config.pids_limit = *spec.pids_limit;
  config.tty = p.terminal;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const oci::Mount& m = spec.mounts[i];
    MountOptions o = ParseMountOptions(m.options);
    if (m.type == "bind" || o.bind) {
      return absl::UnimplementedError(absl::StrCat(
          "config.json: mounts[", i, "] (", m.destination,
          "): bind mounts are not supported by runsc yet"));
    }
    config.mounts.push_back({.destination = m.destination,
                             .type = m.type,
                             .source = m.source,
                             .flags = o.flags,
                             .data = o.data});
  }
  config.masked_paths = spec.masked_paths;
  config.readonly_paths = spec.readonly_paths;
  // The UTS names are the sandbox's own, so their sysctls are kept; the
  // rest of /proc/sys is the sandbox's fixed view, as gVisor's is.
  for (const auto& [key, value] : spec.sysctl) {
    if (key == "kernel.hostname") {
      config.hostname = value;
    } else if (key == "kernel.domainname") {
      config.domainname = value;
    } else {
      warnings->push_back("linux.sysctl " + key +
                          ": not kept by the sandbox; ignored");
    }
  }
  return config;
}

}  // namespace runsc::container
