// The host cgroup that holds a whole sandbox (sentry, its stubs, the
// gofer), with config.json's linux.resources applied to it, on cgroup v1
// (one hierarchy per controller under /sys/fs/cgroup: memory, cpu,
// cpuset, pids). cgroup v2 is not done yet: create then fails clearly.
#ifndef RUNSC_CONTAINER_CGROUP_H_
#define RUNSC_CONTAINER_CGROUP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runsc/oci/spec.h"

namespace runsc::container {

// The cgroup's path in each hierarchy, from linux.cgroupsPath: "/a/b"
// from the hierarchy's root, or "a/b" below runsc's own cgroup there (as
// runc reads a relative path); with
// --systemd-cgroup "slice:prefix:name", as runc's systemd driver names it
// ("system.slice:docker:ID" is /system.slice/docker-ID.scope), made
// directly in cgroupfs (no systemd unit). Empty: runsc/ID, or
// system.slice:runsc:ID with --systemd-cgroup.
absl::StatusOr<std::string> CgroupPath(const std::string& cgroups_path,
                                       bool systemd, const std::string& id);

// Makes the cgroup in each controller's hierarchy and applies the limits.
// Every directory it makes is listed in `record` (a file) before it is
// made, for RemoveCgroup; on failure what was made is removed again.
// Returns the cgroup.procs files the sandbox's processes join.
absl::StatusOr<std::vector<std::string>> SetUpCgroup(
    const std::string& path, const oci::Resources& resources,
    std::optional<int64_t> pids_limit, const std::string& record);

// Removes the directories `record` lists, deepest first (a parent that
// still holds others' cgroups stays), then `record` itself.
void RemoveCgroup(const std::string& record);

// The host pids cgroup is a backstop for the sentry's own task limit
// (boot::Config::pids_limit, what the app sees): each task costs the
// sentry a thread and the platform a stub thread, and the gofer and the
// sentry have a few threads of their own.
inline int64_t HostPidsMax(int64_t tasks) { return 3 * tasks + 64; }

}  // namespace runsc::container

#endif  // RUNSC_CONTAINER_CGROUP_H_
