// The host directory shown read-only as the sandbox's "/".
//
// Every host access is relative to an fd the walker already holds and
// never follows a host symlink: lookups are openat(O_PATH | O_NOFOLLOW) of
// one name, so a symlink comes back as a symlink node and the walker
// follows it in the sandbox's namespace (/etc/mtab -> ../proc/self/mounts
// lands in the sentry's procfs, never the host's). Writes fail with EROFS;
// host devices, fifos and sockets cannot be opened (EACCES): the sandbox
// reaches devices through devfs only.
#ifndef SENTRY_VFS_HOST_FS_H_
#define SENTRY_VFS_HOST_FS_H_

#include <memory>
#include <string>

#include "base/result.h"
#include "sentry/vfs/node.h"

namespace vfs {

class HostFs : public Filesystem {
 public:
  // ENOENT/ENOTDIR/EACCES if `host_root` is not a directory we can open.
  static base::Result<std::unique_ptr<HostFs>> Create(
      const std::string& host_root);
  std::shared_ptr<Node> Root(const PathContext& ctx) override { return root_; }

 private:
  explicit HostFs(std::shared_ptr<Node> root) : root_(std::move(root)) {}
  const std::shared_ptr<Node> root_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_HOST_FS_H_
