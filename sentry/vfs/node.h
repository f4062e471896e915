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
//
// Filesystems that can change (tmpfs) also implement the mutations below;
// the VFS has done the permission and type checks Linux makes in its VFS
// before it calls them, and the node re-checks under its own lock what
// could have changed since (EEXIST, ENOENT, ENOTEMPTY).
#ifndef SENTRY_VFS_NODE_H_
#define SENTRY_VFS_NODE_H_

#include <sys/stat.h>
#include <sys/statfs.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

// statfs f_flags bit ST_VALID: f_flags is meaningful (Linux sets it on
// every statfs answer).
inline constexpr long kStValid = 0x20;

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
  // True for filesystems whose files have Linux's mode bits (tmpfs, the
  // overlay root): opening checks read/write permission, walking checks
  // search permission, and O_TRUNC truncates. The others (devfs, procfs,
  // other host mounts) are not checked yet (README.md).
  virtual bool checks_modes() const { return false; }

  // Directories: the child `name` (never "", "." or "..", never with '/',
  // at most 255 bytes), or ENOENT.
  virtual base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) {
    return base::Err(ENOTDIR);
  }
  // Directories: creates the regular file `name` (owned by `creds`) for
  // open(O_CREAT) and opens it as `path`; EEXIST if it appeared since the
  // lookup. The default is the read-only answer.
  virtual base::Result<std::shared_ptr<FileDescription>> Create(
      std::string_view name, int flags, mode_t mode, const Creds& creds,
      const std::string& path) {
    return base::Err(EROFS);
  }
  // Directories: open(O_TMPFILE): a regular file with no name (st_nlink
  // 0) in this directory's filesystem, opened with `flags`; `path` is the
  // directory's (the file is shown as "<path>/#<ino> (deleted)", as
  // Linux's d_path); `linkable` (no O_EXCL) lets linkat(2) give it a name later.
  // EOPNOTSUPP where the filesystem cannot (Linux's answer without
  // ->tmpfile).
  virtual base::Result<std::shared_ptr<FileDescription>> CreateUnnamed(
      int flags, mode_t mode, const Creds& creds, const std::string& path,
      bool linkable) {
    return base::Err(read_only() ? EROFS : EOPNOTSUPP);
  }
  // Directories: makes `name` with `mode` (S_IFDIR, S_IFREG or S_IFLNK
  // with `target`), owned by `creds`; EEXIST if it exists.
  virtual base::Result<void> MakeChild(std::string_view name, mode_t mode,
                                       const Creds& creds,
                                       std::string_view target) {
    return base::Err(NotWritable());
  }
  // Directories: a new name for `target`; EXDEV if it is on another
  // filesystem, ENOENT if it has been unlinked meanwhile.
  virtual base::Result<void> Link(std::string_view name, Node& target) {
    return base::Err(NotWritable());
  }
  // Directories: removes `name`, which must still be `child` (ENOENT
  // otherwise); a directory must be empty (ENOTEMPTY).
  virtual base::Result<void> Remove(std::string_view name, const Node& child) {
    return base::Err(NotWritable());
  }
  // Directories: renameat2(2) of `name` to `new_name` in `new_dir` with
  // `flags` 0, RENAME_NOREPLACE or RENAME_EXCHANGE; EXDEV if `new_dir` is
  // on another filesystem. Re-checks the type rules (ENOTDIR, EISDIR,
  // ENOTEMPTY, EINVAL for a directory moved below itself).
  virtual base::Result<void> Rename(std::string_view name, Node& new_dir,
                                    std::string_view new_name, unsigned flags) {
    return base::Err(NotWritable());
  }
  // Applies an AttrChange the VFS has allowed; UTIME_NOW is resolved here.
  // Any change also sets ctime.
  virtual base::Result<void> SetAttr(const AttrChange& change) {
    return base::Err(NotWritable());
  }
  // Regular files: fallocate(2) with `mode` 0, FALLOC_FL_KEEP_SIZE or
  // PUNCH_HOLE|KEEP_SIZE (the VFS refuses the rest as Linux's
  // vfs_fallocate); EOPNOTSUPP for what the filesystem cannot do.
  virtual base::Result<void> Allocate(uint64_t offset, uint64_t length,
                                      int mode) {
    return base::Err(read_only() ? EROFS : EOPNOTSUPP);
  }
  // statx(2)'s stx_btime, where the filesystem records when a file was
  // made (tmpfs; the gofer's files do not say).
  virtual std::optional<timespec> BirthTime() const { return std::nullopt; }
  // FS_IOC_GETFLAGS/SETFLAGS (FS_*_FL): ENOTTY where the filesystem has
  // no such flags, EOPNOTSUPP for flags it cannot keep. The caller checked
  // ownership (file_attrs.cc).
  virtual base::Result<uint32_t> InodeFlags() const {
    return base::Err(ENOTTY);
  }
  virtual base::Result<void> SetInodeFlags(uint32_t flags) {
    return base::Err(ENOTTY);
  }
  // statfs(2) of the filesystem; ENOSYS lets the VFS answer by mount.
  virtual base::Result<struct statfs> Statfs() const {
    return base::Err(ENOSYS);
  }
  // Extended attributes (the *xattr calls, vfs_xattr.cc). The VFS has
  // checked the name (a known namespace prefix and a non-empty rest, at
  // most 255 bytes), the value's size, EROFS, and the caller's permission
  // with Linux's namespace rules (xattr_permission) before it asks; the
  // filesystem keeps the values. The defaults are a filesystem without
  // xattrs (Linux's procfs): EOPNOTSUPP, and an empty list.
  //
  // The value of `name`; ENODATA if the file has none of that name.
  virtual base::Result<std::string> GetXattr(const std::string& name) const {
    return base::Err(EOPNOTSUPP);
  }
  // Every name the file has (trusted.* included: the VFS hides those from
  // callers without CAP_SYS_ADMIN).
  virtual base::Result<std::vector<std::string>> ListXattr() const {
    return std::vector<std::string>{};
  }
  // setxattr(2) with `flags` XATTR_CREATE (EEXIST if the name exists),
  // XATTR_REPLACE (ENODATA if it does not) or 0; ENOSPC past the
  // filesystem's bound. Sets ctime.
  virtual base::Result<void> SetXattr(const std::string& name,
                                      std::string_view value, int flags) {
    return base::Err(EOPNOTSUPP);
  }
  // removexattr(2): ENODATA if the name does not exist. Sets ctime.
  virtual base::Result<void> RemoveXattr(const std::string& name) {
    return base::Err(EOPNOTSUPP);
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

 private:
  int NotWritable() const { return read_only() ? EROFS : EPERM; }
};

// Implemented by descriptions that know their node (tmpfs files, O_PATH
// descriptions), so that the fd calls (fchmod, fchown, futimens,
// ftruncate, fallocate, fstatfs) reach the file itself even after a
// rename. Other descriptions are found again by path(), which is stable on
// the filesystems that never rename (the host root, devfs, procfs).
class NodeDescription {
 public:
  virtual ~NodeDescription() = default;
  virtual std::shared_ptr<Node> node() const = 0;
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
