// The gofer confines itself before it serves: it opens every tree it will
// serve first, then moves into the root (pivot_root in a new mount
// namespace, or chroot), drops all capabilities but the few its
// operations need, sets no_new_privs, and installs its seccomp allowlist
// (seccomp.cc). See gofer/README.md for the list and the reasons.
#ifndef GOFER_CONFINE_H_
#define GOFER_CONFINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gofer/server.h"

namespace gofer {

// A tree named on the command line.
struct MountSpec {
  std::string name;  // "/" for the root
  std::string path;
  bool read_only = true;
};

// Opens each tree (the root first) as an O_PATH directory fd. Fails with a
// readable message if a path does not exist or is not a directory.
absl::StatusOr<std::vector<Mount>> OpenMounts(
    const std::vector<MountSpec>& specs);

enum class Isolation {
  kPivotRoot,  // new mount namespace, pivot_root into a bind of the root
  kChroot,     // chroot into the root (needs CAP_SYS_CHROOT)
  kNone,       // for unprivileged tests only: no change of root
};

// Moves into mounts[0] (its path is specs[0].path) and, for kPivotRoot,
// replaces mounts[0].root by the same directory seen through the new,
// private bind mount (read-only and nodev as the mount asks).
absl::Status EnterRoot(const MountSpec& root, Isolation isolation,
                       std::vector<Mount>* mounts);

// Drops every capability but those the gofer's operations use, from the
// effective, permitted, inheritable, ambient and bounding sets; raises
// RLIMIT_NOFILE to its hard limit (each handle is an fd); sets
// no_new_privs and makes the process non-dumpable.
absl::Status DropPrivileges();

// Installs the gofer's seccomp allowlist (seccomp.cc) for the whole
// process. Anything else kills it (SIGSYS).
absl::Status InstallSeccomp();

}  // namespace gofer

#endif  // GOFER_CONFINE_H_
