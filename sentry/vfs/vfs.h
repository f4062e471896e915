// The sandbox's file namespace: path resolution and the filesystems mounted
// in it.
//
// Paths are resolved in the sentry, one component at a time: "." and "..",
// symlinks (at most 40, else ELOOP) and mount crossings are handled here,
// so no host path lookup ever follows a symlink the sandbox did not see.
// Mounted today:
//   /      the host root, read-only (EROFS on any write); the gofer replaces
//          this backing in a later issue
//   /dev   devfs in the sentry: null zero full random urandom, fd stdin
//          stdout stderr symlinks
//   /proc  a minimal procfs in the sentry: self, <pid>/exe, <pid>/fd/<n>
#ifndef SENTRY_VFS_VFS_H_
#define SENTRY_VFS_VFS_H_

#include <sys/stat.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"

namespace vfs {

// What /proc needs to know about the process that resolves a path, so that
// the VFS does not depend on the kernel. Implemented by the kernel.
class ProcessView {
 public:
  virtual ~ProcessView() = default;
  virtual int pid() const = 0;          // in the sandbox's pid namespace
  virtual std::string exe_path() const = 0;
  virtual std::vector<int> fds() const = 0;
  virtual std::shared_ptr<FileDescription> fd(int fd) const = 0;  // or null
};

// Where a relative path starts, and who is asking.
struct PathContext {
  std::string start;  // absolute canonical directory ("/" or "/a/b")
  const ProcessView* process = nullptr;
};

class Vfs {
 public:
  struct Options {
    std::string host_root = "/";  // the host directory shown as "/"
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
  // Resolves `path` to the absolute canonical path of a directory (for
  // chdir(2)): ENOTDIR if it is not one.
  virtual base::Result<std::string> ResolveDirectory(
      const PathContext& ctx, std::string_view path) = 0;
};

// A FileDescription for a host fd the sandbox was started with (stdin,
// stdout, stderr): read/write go to the host fd; TCGETS and TIOCGWINSZ are
// answered from the host tty, other ioctls ENOTTY. Takes ownership of
// `host_fd`.
std::shared_ptr<FileDescription> ImportHostFd(int host_fd, int flags,
                                              std::string name);

}  // namespace vfs

#endif  // SENTRY_VFS_VFS_H_
