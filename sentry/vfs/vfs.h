// The sandbox's file namespace: path resolution and the filesystems mounted
// in it.
//
// Paths are resolved in the sentry, one component at a time: "." and "..",
// symlinks (at most 40, else ELOOP) and mount crossings are handled here,
// so no host path lookup ever follows a symlink the sandbox did not see.
// Mounted today:
//   /      the host root, read-only (EROFS on any write), or with
//          Options.overlay_root an overlay of it under a tmpfs that takes
//          the changes (runsc does that); the gofer replaces the host
//          backing in a later issue
//   /dev   devfs in the sentry: null zero full random urandom, fd stdin
//          stdout stderr symlinks
//   /proc  procfs in the sentry: the sandbox's processes (procfs.h)
//   /tmp   a writable tmpfs whose data lives in the memory file
//          (Options.tmpfs_mounts)
#ifndef SENTRY_VFS_VFS_H_
#define SENTRY_VFS_VFS_H_

#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/mount_namespace.h"

namespace mm {
class MemoryFile;
}

namespace kernel {
class Task;
}

namespace tty {
class DevPtsFs;
}

namespace vfs {

class Filesystem;  // node.h

// Who is asking, for permission checks and the owner of new files: the
// task's fsuid, fsgid and supplementary groups. uid 0 has the capabilities
// Linux checks in the VFS (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN).
struct Creds {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
};

class KernelView;  // proc_view.h

// Who resolves a path, for /proc/self and /proc/thread-self, and the
// kernel /proc shows, so that the VFS does not depend on the kernel.
// Implemented by the kernel.
class ProcessView {
 public:
  virtual ~ProcessView() = default;
  virtual int pid() const = 0;  // in the sandbox's pid namespace
  virtual int tid() const = 0;
  // Lives as long as the kernel (longer than any file description).
  virtual const KernelView* kernel() const = 0;
  // The task that walks (null for the sentry's own walks): /dev/tty and
  // /dev/ptmx need its session and its kernel.
  virtual kernel::Task* task() const { return nullptr; }
};

// Where a relative path starts, and who is asking.
struct PathContext {
  std::string start;  // absolute canonical directory ("/" or "/a/b")
  const ProcessView* process = nullptr;
  // The kernel fills this from the task (Task::PathContextAt); the default
  // (root) is for sentry-internal walks and tests.
  Creds creds;
  // The process's root (chroot(2)): absolute paths and absolute symlink
  // targets start there, and ".." stops there. Canonical.
  std::string root = "/";
  // The process's mount namespace; null: the sandbox's first one. The
  // caller keeps it alive for the call.
  MountNamespace* mnt_ns = nullptr;
  // openat2's RESOLVE_* flags (linux/openat2.h): which links, mounts and
  // ".." the walk may cross. With RESOLVE_BENEATH or RESOLVE_IN_ROOT,
  // `start` is also the root the walk may not leave.
  uint64_t resolve = 0;
};

// What chmod/chown/utimensat/truncate change; unset fields stay. Times
// take utimensat's encoding: tv_nsec UTIME_NOW means "now" (which needs
// only write permission when both times are now), UTIME_OMIT leaves the
// time as is.
struct AttrChange {
  std::optional<mode_t> mode;  // permission bits (07777)
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<timespec> atime;
  std::optional<timespec> mtime;
  std::optional<uint64_t> size;  // truncate; at most INT64_MAX
};

// One mount as /proc/<pid>/mountinfo shows it.
struct MountEntry {
  int id = 0, parent_id = 0;
  dev_t dev = 0;
  std::string root = "/";  // the mounted directory within its filesystem
  std::string point;       // where it is mounted
  std::string options;     // per mount: "rw,relatime" ...
  std::string fstype;
  std::string source;
  std::string super_options;  // per filesystem: "rw" ...
};

class Vfs {
 public:
  struct Options {
    std::string host_root = "/";  // the host directory shown as "/"
    // With `memory_file`: "/" is an overlay, `host_root` read-only below
    // a tmpfs that takes every change (overlay.h); the host is never
    // written. Otherwise "/" is `host_root` itself, read-only (EROFS).
    bool overlay_root = false;
    // Writable tmpfs mounts (canonical absolute paths, each its own
    // filesystem, "/tmp" mode 1777). Mounted only when `memory_file` is
    // set: file data lives in its pages. Not owned; must outlive the Vfs.
    std::vector<std::string> tmpfs_mounts = {"/tmp"};
    // Host directories shown read-only at the same path, over a tmpfs
    // (runsc do keeps the user's directory under /tmp visible this way).
    std::vector<std::string> host_mounts;
    mm::MemoryFile* memory_file = nullptr;
    // Serves the host tree shown at `host_root` (for "/") or at one of
    // `host_mounts`, read-only. runsc makes it the gofer's trees
    // (sentry/fs/gofer), so the sentry opens no host path itself; unset,
    // the sentry opens the directory (HostFs: unit tests).
    std::function<base::Result<std::unique_ptr<Filesystem>>(
        const std::string& host_path)>
        open_tree;
  };
  static base::Result<std::unique_ptr<Vfs>> Create(const Options& options);
  virtual ~Vfs() = default;

  // open(2)/openat(2): `flags` as passed by the app (O_CREAT, O_TRUNC,
  // O_DIRECTORY, O_NOFOLLOW, O_PATH, O_CLOEXEC is ignored here...).
  virtual base::Result<std::shared_ptr<FileDescription>> Open(
      const PathContext& ctx, std::string_view path, int flags,
      mode_t mode) = 0;
  // stat(2) (follow=true) and lstat(2) (follow=false) semantics. An empty
  // path is ENOENT (AT_EMPTY_PATH is the caller's business).
  virtual base::Result<struct stat> Stat(const PathContext& ctx,
                                         std::string_view path,
                                         bool follow) = 0;
  // readlink(2): EINVAL if the final component is not a symlink.
  virtual base::Result<std::string> Readlink(const PathContext& ctx,
                                             std::string_view path) = 0;
  // access(2)/faccessat(2) with `mode` F_OK or R_OK|W_OK|X_OK, checked
  // against the file's mode bits for the given ids (root may read and write
  // anything, and execute if any x bit is set, as Linux). W_OK on the
  // read-only root is EROFS.
  virtual base::Result<void> Access(const PathContext& ctx,
                                    std::string_view path, int mode,
                                    bool follow, uint32_t uid,
                                    uint32_t gid) = 0;
  // inotify_add_watch(2)'s lookup: the file at `path` (`follow`: the
  // final symlink is followed; `only_dir`: ENOTDIR for anything else),
  // which the caller must be allowed to read (EACCES), as Linux's
  // inotify_find_inode.
  virtual base::Result<struct stat> WatchTarget(const PathContext& ctx,
                                                std::string_view path,
                                                bool follow, bool only_dir) {
    return base::Err(ENOSYS);
  }
  // Resolves `path` to the absolute canonical path of a directory (for
  // chdir(2)): ENOTDIR if it is not one.
  virtual base::Result<std::string> ResolveDirectory(
      const PathContext& ctx, std::string_view path) = 0;

  // The calls below change the tree. Each follows Linux's order of checks
  // (path errors, EEXIST, EROFS on a read-only mount, permission with
  // ctx.creds: write+search on the parent, the sticky bit) and errors;
  // `mode` is already umasked by the caller. New files are owned by
  // ctx.creds (the group of a set-group-ID parent instead).

  // mkdir(2). A trailing slash is allowed.
  virtual base::Result<void> Mkdir(const PathContext& ctx,
                                   std::string_view path, mode_t mode) = 0;
  // mknod(2): `mode` carries the type; S_IFREG (or 0) makes an empty
  // regular file. Devices are EPERM; fifos and sockets EPERM for now.
  virtual base::Result<void> Mknod(const PathContext& ctx,
                                   std::string_view path, mode_t mode,
                                   dev_t dev) = 0;
  // symlink(2): `target` is stored as given (ENOENT if empty).
  virtual base::Result<void> Symlink(const PathContext& ctx,
                                     std::string_view target,
                                     std::string_view path) = 0;
  // link(2)/linkat(2); `follow` is AT_SYMLINK_FOLLOW. EXDEV across mounts,
  // EPERM for a directory.
  virtual base::Result<void> Link(const PathContext& old_ctx,
                                  std::string_view old_path,
                                  const PathContext& new_ctx,
                                  std::string_view new_path, bool follow) = 0;
  // unlink(2) (EISDIR for a directory) and rmdir(2) (ENOTEMPTY, EBUSY for
  // a mount point, EINVAL for a final ".").
  virtual base::Result<void> Unlink(const PathContext& ctx,
                                    std::string_view path) = 0;
  virtual base::Result<void> Rmdir(const PathContext& ctx,
                                   std::string_view path) = 0;
  // renameat2(2) with `flags` 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
  virtual base::Result<void> Rename(const PathContext& old_ctx,
                                    std::string_view old_path,
                                    const PathContext& new_ctx,
                                    std::string_view new_path,
                                    unsigned flags) = 0;

  // chmod/chown/utimensat/truncate of a path (`follow`: the final symlink
  // is followed) or of an open file. Only the owner (or root) may chmod or
  // set explicit times; chown is root's, or the owner's to a group of
  // their own; truncation needs write permission (path) or a writable
  // description (the caller checks that, as ftruncate's EINVAL).
  virtual base::Result<void> SetAttr(const PathContext& ctx,
                                     std::string_view path, bool follow,
                                     const AttrChange& change) = 0;
  virtual base::Result<void> SetAttr(FileDescription& file, const Creds& creds,
                                     const AttrChange& change) = 0;
  // fallocate(2) on a description open for writing, `mode` 0,
  // FALLOC_FL_KEEP_SIZE or PUNCH_HOLE|KEEP_SIZE (the syscall refused the
  // rest); the filesystem may say EOPNOTSUPP.
  virtual base::Result<void> Allocate(FileDescription& file, uint64_t offset,
                                      uint64_t length, int mode) = 0;
  // fsync(2)/fdatasync(2): nothing to write back; EINVAL for files that
  // cannot be synced (devices, pipes), as Linux.
  virtual base::Result<void> Sync(FileDescription& file) = 0;
  // statfs(2) (follows symlinks) and fstatfs(2).
  virtual base::Result<struct statfs> Statfs(const PathContext& ctx,
                                             std::string_view path) = 0;
  virtual base::Result<struct statfs> Statfs(FileDescription& file) = 0;
  // The extended-attribute calls (vfs_xattr.cc), by path (`follow`: the
  // final symlink is followed, as getxattr vs lgetxattr) or by open file
  // (never O_PATH: that is the caller's EBADF). `name` is the app's, of 1
  // to 255 bytes (the caller's ERANGE), values at most 64 KiB (the
  // caller's E2BIG). Linux's rules and order: EROFS, then
  // xattr_permission (user.* only on regular files and directories,
  // needing read or write permission and, on a sticky directory, owning
  // it; trusted.* only for CAP_SYS_ADMIN, shown as ENODATA or EPERM to
  // others; security.* changed only by CAP_SYS_ADMIN), then the name
  // (EOPNOTSUPP for an unknown namespace, EINVAL for "user." alone), then
  // the filesystem. uid 0 stands for the capabilities, as in Creds.
  virtual base::Result<std::string> GetXattr(const PathContext& ctx,
                                             std::string_view path,
                                             bool follow,
                                             const std::string& name) = 0;
  virtual base::Result<std::string> GetXattr(FileDescription& file,
                                             const Creds& creds,
                                             const std::string& name) = 0;
  // The names, without trusted.* for callers without CAP_SYS_ADMIN.
  virtual base::Result<std::vector<std::string>> ListXattr(
      const PathContext& ctx, std::string_view path, bool follow) = 0;
  virtual base::Result<std::vector<std::string>> ListXattr(
      FileDescription& file, const Creds& creds) = 0;
  // `flags`: 0, XATTR_CREATE or XATTR_REPLACE (the caller checks others).
  virtual base::Result<void> SetXattr(const PathContext& ctx,
                                      std::string_view path, bool follow,
                                      const std::string& name,
                                      std::string_view value, int flags) = 0;
  virtual base::Result<void> SetXattr(FileDescription& file,
                                      const Creds& creds,
                                      const std::string& name,
                                      std::string_view value, int flags) = 0;
  virtual base::Result<void> RemoveXattr(const PathContext& ctx,
                                         std::string_view path, bool follow,
                                         const std::string& name) = 0;
  virtual base::Result<void> RemoveXattr(FileDescription& file,
                                         const Creds& creds,
                                         const std::string& name) = 0;

  // The mount table of `ns` (null: the sandbox's first namespace), each
  // parent before its children (procfs's mounts and mountinfo).
  virtual std::vector<MountEntry> Mounts(const MountNamespace* ns) const {
    return {};
  }
  // The mount namespace the sandbox's first process starts in.
  virtual std::shared_ptr<MountNamespace> InitialMountNamespace() {
    return nullptr;
  }
  // mount(2) (`flags` without MS_MGC_VAL) and umount2(2) in ctx's mount
  // namespace, once the caller has checked CAP_SYS_ADMIN: new tmpfs, proc,
  // sysfs and devpts mounts, MS_BIND (MS_REC), MS_REMOUNT (flags),
  // MS_MOVE, and the propagation types (accepted: every mount is private,
  // nothing propagates between namespaces). MS_RDONLY is enforced (EROFS),
  // MS_NOEXEC by exec.
  virtual base::Result<void> Mount(const PathContext& ctx,
                                   std::string_view source,
                                   std::string_view target,
                                   std::string_view fstype,
                                   unsigned long flags) {
    return base::Err(EPERM);
  }
  virtual base::Result<void> Umount(const PathContext& ctx,
                                    std::string_view target, int flags) {
    return base::Err(EPERM);
  }
  // pivot_root(2) in ctx's namespace (the caller checked CAP_SYS_ADMIN):
  // the mount at `new_root` becomes "/" and the old root moves to
  // `put_old`. The caller then moves every process's root and cwd in the
  // namespace with PivotMove::Apply (mount_namespace.h).
  virtual base::Result<PivotMove> PivotRoot(const PathContext& ctx,
                                            std::string_view new_root,
                                            std::string_view put_old) {
    return base::Err(EPERM);
  }
  // Whether exec from canonical `path` in ctx's namespace is refused
  // (MS_NOEXEC).
  virtual bool NoExec(const PathContext& ctx, std::string_view path) const {
    return false;
  }

  // The devpts mounted at /dev/pts (boot makes the console there).
  virtual tty::DevPtsFs* devpts() { return nullptr; }
};

// A FileDescription for a host fd the sandbox was started with (stdin,
// stdout, stderr): read/write go to the host fd; TCGETS and TIOCGWINSZ are
// answered from the host tty, other ioctls ENOTTY. Takes ownership of
// `host_fd`.
std::shared_ptr<FileDescription> ImportHostFd(int host_fd, int flags,
                                              std::string name);

}  // namespace vfs

#endif  // SENTRY_VFS_VFS_H_
