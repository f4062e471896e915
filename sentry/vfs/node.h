// Node and Filesystem: the small interface every filesystem in the VFS
// implements, so that one path walker (path_walk.h) serves the host root,
// devfs and procfs alike.
//
// A Node is one file as the walker sees it. Nodes are made on demand by
// Lookup and live as long as someone holds them: the walker during a walk,
// and an open description afterwards (an O_PATH description keeps its node
// to answer fstat). Hence the lifetime rule: Lookup, Readlink, Jump, Create
// and Open run only during a walk, while the PathContext (and its
// ProcessView) is alive; Stat may run later and must not touch anything
// that dies with the walk.
#ifndef SENTRY_VFS_NODE_H_
#define SENTRY_VFS_NODE_H_

#include <sys/stat.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

class Node {
 public:
  virtual ~Node() = default;

  // The file type (S_IFDIR, S_IFLNK, ...), known from the lookup, so the
  // walker needs no stat per component.
  virtual mode_t type() const = 0;
  // lstat(2) of this node.
  virtual base::Result<struct stat> Stat() const = 0;
  // True if the filesystem is mounted read-only: opening a regular file
  // for writing and access(W_OK) fail with EROFS.
  virtual bool read_only() const { return false; }

  // Directories: the child `name` (never "", "." or "..", never with '/',
  // at most 255 bytes), or ENOENT.
  virtual base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) {
    return base::Err(ENOTDIR);
  }
  // Directories: creates `name` for open(O_CREAT). No filesystem here can
  // create files yet, so the default is the read-only answer.
  virtual base::Result<std::shared_ptr<FileDescription>> Create(
      std::string_view name, int flags, mode_t mode) {
    return base::Err(EROFS);
  }
  // Symlinks: the target, as readlink(2) shows it.
  virtual base::Result<std::string> Readlink() const {
    return base::Err(EINVAL);
  }
  // "Magic" links (/proc/<pid>/fd/<n>): following one lands on this open
  // file itself, not on the path Readlink shows (which may be
  // "pipe:[3]"). Null for ordinary symlinks.
  virtual std::shared_ptr<FileDescription> Jump() const { return nullptr; }
  // Opens this node, which is not a symlink. The checks common to every
  // filesystem (ELOOP, ENOTDIR, EISDIR, EROFS, O_PATH) are the VFS's;
  // `flags` are the new description's flags, `path` its sandbox path.
  virtual base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) = 0;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;
  // The root of this filesystem as the process in `ctx` sees it (procfs
  // shows that process as "self").
  virtual std::shared_ptr<Node> Root(const PathContext& ctx) = 0;
};

}  // namespace vfs

#endif  // SENTRY_VFS_NODE_H_
