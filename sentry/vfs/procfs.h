// procfs: a minimal /proc, made up by the sentry from the ProcessView of
// whoever walks the path (the VFS does not know the kernel).
//
//   /proc/self           -> "<pid>"
//   /proc/<pid>/         only the walker's own pid (others ENOENT for now)
//   /proc/<pid>/exe      -> exe_path()
//   /proc/<pid>/fd/<n>   -> the description's path(); following it lands
//                           on that same open description
//
// Modes as Linux: dr-xr-xr-x directories, dr-x------ fd/, lrwxrwxrwx
// links, and fd links lr-x------ / l-wx------ / lrwx------ by access mode.
#ifndef SENTRY_VFS_PROCFS_H_
#define SENTRY_VFS_PROCFS_H_

#include <memory>

#include "sentry/vfs/node.h"

namespace vfs {

class ProcFs : public Filesystem {
 public:
  // A fresh root per walk: procfs's view depends on ctx.process.
  std::shared_ptr<Node> Root(const PathContext& ctx) override;
};

}  // namespace vfs

#endif  // SENTRY_VFS_PROCFS_H_
