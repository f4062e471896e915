// devfs: the sandbox's /dev, made up by the sentry.
//
//   null zero full random urandom   character devices, Linux's numbers
//                                   (1:3 1:5 1:7 1:8 1:9) and modes (0666)
//   fd stdin stdout stderr          symlinks into /proc/self/fd
//   tty console ptmx                terminals (5:0 5:1 5:2): the caller's
//                                   controlling terminal (ENXIO without
//                                   one), the container's console (runsc
//                                   do -t; ENODEV without), a new
//                                   pseudo-terminal's master (devpts.h)
//   pts shm                         mount points: devpts and a tmpfs
//
// The devices may be opened for writing; no file can be created here
// (O_CREAT of a new name is EROFS, where Linux's devtmpfs would create it).
#ifndef SENTRY_VFS_DEVFS_H_
#define SENTRY_VFS_DEVFS_H_

#include <memory>

#include "sentry/vfs/node.h"

namespace tty {
class DevPtsFs;
}

namespace vfs {

class DevFs : public Filesystem {
 public:
  // `devpts` (mounted at /dev/pts) makes the terminals; it must outlive
  // this.
  explicit DevFs(tty::DevPtsFs* devpts);
  // A root that knows the walking process (for tty and ptmx), over
  // children shared by every walk.
  std::shared_ptr<Node> Root(const PathContext& ctx) override;

  struct Children;

 private:
  tty::DevPtsFs* const devpts_;
  const std::shared_ptr<const Children> children_;  // immutable
};

}  // namespace vfs

#endif  // SENTRY_VFS_DEVFS_H_
