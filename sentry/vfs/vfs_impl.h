// VfsImpl: the Vfs behind vfs.h. Its calls are spread by topic over
// vfs.cc (mount table, open, stat, readlink, access, chdir),
// vfs_namei.cc (mkdir, mknod, symlink, link, unlink, rmdir, rename) and
// vfs_attr.cc (chmod, chown, utimes, truncate, fallocate, fsync, statfs)
// and vfs_xattr.cc (the extended-attribute calls).
#ifndef SENTRY_VFS_VFS_IMPL_H_
#define SENTRY_VFS_VFS_IMPL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/unique_fd.h"
#include "sentry/tty/devpts.h"
#include "sentry/vfs/devfs.h"
#include "sentry/vfs/host_fs.h"
#include "sentry/vfs/mount_namespace.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/overlay.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/procfs.h"
#include "sentry/vfs/sysfs.h"
#include "sentry/vfs/tmpfs.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

class VfsImpl : public Vfs {
 public:
  // `root` is "/": the read-only host tree, or the OverlayFs over it.
  VfsImpl(mm::MemoryFile* memory_file, unsigned next_tmpfs_minor,
          std::unique_ptr<Filesystem> root,
          std::vector<std::pair<std::string, std::unique_ptr<Tmpfs>>> tmpfs,
          std::vector<std::pair<std::string, std::unique_ptr<Filesystem>>>
              host_mounts);

  base::Result<std::shared_ptr<FileDescription>> Open(const PathContext& ctx,
                                                      std::string_view path,
                                                      int flags,
                                                      mode_t mode) override;
  base::Result<struct stat> Stat(const PathContext& ctx, std::string_view path,
                                 bool follow) override;
  base::Result<std::string> Readlink(const PathContext& ctx,
                                     std::string_view path) override;
  base::Result<void> Access(const PathContext& ctx, std::string_view path,
                            int mode, bool follow, uint32_t uid,
                            uint32_t gid) override;
  base::Result<std::string> ResolveDirectory(const PathContext& ctx,
                                             std::string_view path) override;
  base::Result<struct stat> WatchTarget(const PathContext& ctx,
                                        std::string_view path, bool follow,
                                        bool only_dir) override;

  base::Result<void> Mkdir(const PathContext& ctx, std::string_view path,
                           mode_t mode) override;
  base::Result<void> Mknod(const PathContext& ctx, std::string_view path,
                           mode_t mode, dev_t dev) override;
  base::Result<void> Symlink(const PathContext& ctx, std::string_view target,
                             std::string_view path) override;
  base::Result<void> Link(const PathContext& old_ctx, std::string_view old_path,
                          const PathContext& new_ctx, std::string_view new_path,
                          bool follow) override;
  base::Result<void> Unlink(const PathContext& ctx,
                            std::string_view path) override;
  base::Result<void> Rmdir(const PathContext& ctx,
                           std::string_view path) override;
  base::Result<void> Rename(const PathContext& old_ctx,
                            std::string_view old_path,
                            const PathContext& new_ctx,
                            std::string_view new_path, unsigned flags) override;

  base::Result<void> SetAttr(const PathContext& ctx, std::string_view path,
                             bool follow, const AttrChange& change) override;
  base::Result<void> SetAttr(FileDescription& file, const Creds& creds,
                             const AttrChange& change) override;
  base::Result<void> Allocate(FileDescription& file, uint64_t offset,
                              uint64_t length, int mode) override;
  base::Result<void> Sync(FileDescription& file) override;
  base::Result<struct statfs> Statfs(const PathContext& ctx,
                                     std::string_view path) override;
  base::Result<struct statfs> Statfs(FileDescription& file) override;
  // vfs_xattr.cc
  base::Result<std::string> GetXattr(const PathContext& ctx,
                                     std::string_view path, bool follow,
                                     const std::string& name) override;
  base::Result<std::string> GetXattr(FileDescription& file, const Creds& creds,
                                     const std::string& name) override;
  base::Result<std::vector<std::string>> ListXattr(const PathContext& ctx,
                                                   std::string_view path,
                                                   bool follow) override;
  base::Result<std::vector<std::string>> ListXattr(FileDescription& file,
                                                   const Creds& creds) override;
  base::Result<void> SetXattr(const PathContext& ctx, std::string_view path,
                              bool follow, const std::string& name,
                              std::string_view value, int flags) override;
  base::Result<void> SetXattr(FileDescription& file, const Creds& creds,
                              const std::string& name, std::string_view value,
                              int flags) override;
  base::Result<void> RemoveXattr(const PathContext& ctx, std::string_view path,
                                 bool follow, const std::string& name) override;
  base::Result<void> RemoveXattr(FileDescription& file, const Creds& creds,
                                 const std::string& name) override;
  std::vector<MountEntry> Mounts(
      const MountNamespace* ns) const override;  // vfs_mounts.cc
  std::shared_ptr<MountNamespace> InitialMountNamespace() override {
    return initial_ns_;
  }
  base::Result<void> Mount(const PathContext& ctx, std::string_view source,
                           std::string_view target, std::string_view fstype,
                           unsigned long flags) override;  // vfs_mount.cc
  base::Result<void> Umount(const PathContext& ctx, std::string_view target,
                            int flags) override;
  base::Result<PivotMove> PivotRoot(const PathContext& ctx,
                                    std::string_view new_root,
                                    std::string_view put_old) override;
  bool NoExec(const PathContext& ctx, std::string_view path) const override;
  tty::DevPtsFs* devpts() override { return &devpts_; }

 private:
  // How a path given to a directory-changing call ends (Linux's
  // LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT).
  enum class Last { kNormal, kDot, kDotDot, kRoot };
  struct Change {
    Resolved r;  // r.node null if the name does not exist (kNormal only)
    Last last;
    bool trailing_slash;
    Filesystem* dir_fs;  // the mount the changed directory is on
  };
  // Resolves `path` for mkdir/unlink/rename...: the final component is not
  // followed and may be missing; "." / ".." / "/" at the end are reported
  // in `last` (their directory is then resolved in r.node).
  base::Result<Change> WalkForChange(const PathContext& ctx,
                                     std::string_view path);
  // The checks shared by mkdir, mknod and symlink, up to the permission to
  // create: EEXIST, ENOENT (trailing slash on a non-directory), EROFS,
  // EACCES.
  base::Result<Change> PrepareCreate(const PathContext& ctx,
                                     std::string_view path, bool dir);
  // The mount a canonical path is on (null if `path` is not absolute).
  Filesystem* MountOf(std::string_view path) const;
  // The node behind an open file: its own (NodeDescription), else found
  // again by its path on a filesystem that never renames; null if neither.
  // *fs is the file's mount (null if unknown).
  std::shared_ptr<Node> NodeOf(FileDescription& file, Filesystem** fs);
  base::Result<void> DoSetAttr(Node& node, const Creds& creds,
                               const AttrChange& change, bool by_path,
                               bool read_only_mount);
  // Asks the node (tmpfs), else answers for the mount; `name` picks the
  // kind of an unmounted file (pipe:[...], socket:[...]).
  base::Result<struct statfs> StatfsOf(const Node* node, Filesystem* fs,
                                       std::string_view name);
  bool IsTmpfs(const Filesystem* fs) const;
  // EROFS: the filesystem refuses writes, or the mount is read-only.
  static bool ParentReadOnly(const Resolved& r) {
    return r.parent->read_only() || (r.parent_flags & kMountReadOnly);
  }
  static bool NodeReadOnly(const Resolved& r) {
    return r.node->read_only() || (r.node_flags & kMountReadOnly);
  }
  static constexpr unsigned long kMountReadOnly = 1;  // MS_RDONLY

 public:
  // The node behind a path or an open file (null for pipes, sockets and
  // host stdio), and its stat: what the xattr calls check (vfs_xattr.cc).
  struct NodeAndStat {
    std::shared_ptr<Node> node;
    struct stat st;
    bool read_only_mount = false;  // mount(2) MS_RDONLY: EROFS for changes
  };

 private:
  base::Result<NodeAndStat> NodeAndStatAt(const PathContext& ctx,
                                          std::string_view path, bool follow);
  base::Result<NodeAndStat> NodeAndStatOf(FileDescription& file);

  // mount(2) of a new filesystem (vfs_mount.cc).
  base::Result<void> MountNew(MountNamespace& ns, const Resolved& at,
                              std::string_view fstype,
                              unsigned long flags);
  base::Result<void> MountBind(const PathContext& ctx, std::string_view source,
                               const Resolved& at, unsigned long flags);
  // ctx's mount namespace.
  MountNamespace& NamespaceOf(const PathContext& ctx) const {
    return ctx.mnt_ns ? *ctx.mnt_ns : *initial_ns_;
  }
  // inotify's IN_UNMOUNT for the filesystems of `gone` that no mount of
  // `table` shows any more (vfs_mount.cc).
  void NotifyUnmounts(const MountTable& table,
                      const std::vector<std::shared_ptr<Filesystem>>& gone);

  mm::MemoryFile* const memory_file_;  // null: no tmpfs (unit tests)
  std::atomic<unsigned> next_tmpfs_minor_;
  const std::unique_ptr<Filesystem> root_;
  const std::vector<std::pair<std::string, std::unique_ptr<Filesystem>>>
      host_mounts_;
  tty::DevPtsFs devpts_;
  DevFs devfs_{&devpts_};
  ProcFs procfs_{this};
  SysFs sysfs_;
  const std::vector<std::pair<std::string, std::unique_ptr<Tmpfs>>> tmpfs_;
  // The first namespace's table: what calls on an open file consult
  // (a description does not record its namespace yet; see README.md).
  std::shared_ptr<const MountTable> Table() const {
    return initial_ns_->Table();
  }
  // Walks in ctx's namespace; Resolved::table keeps the table alive.
  base::Result<Resolved> WalkIn(const PathContext& ctx, std::string_view path,
                                WalkOptions opts) const;
  std::shared_ptr<MountNamespace> initial_ns_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_VFS_IMPL_H_
