// devfs: the sandbox's /dev, made up by the sentry.
//
//   null zero full random urandom   character devices, Linux's numbers
//                                   (1:3 1:5 1:7 1:8 1:9) and modes (0666)
//   fd stdin stdout stderr          symlinks into /proc/self/fd
//
// The devices may be opened for writing; no file can be created here
// (O_CREAT of a new name is EROFS, where Linux's devtmpfs would create it).
#ifndef SENTRY_VFS_DEVFS_H_
#define SENTRY_VFS_DEVFS_H_

#include <memory>

#include "sentry/vfs/node.h"

namespace vfs {

class DevFs : public Filesystem {
 public:
  DevFs();
  std::shared_ptr<Node> Root(const PathContext& ctx) override { return root_; }

 private:
  const std::shared_ptr<Node> root_;  // immutable: shared by every walk
};

}  // namespace vfs

#endif  // SENTRY_VFS_DEVFS_H_
