// Helpers shared by the file-system call families (link.cc, mkdir.cc,
// attr.cc, utimes.cc, truncate.cc, statfs.cc).
#ifndef SYSCALLS_FS_UTIL_H_
#define SYSCALLS_FS_UTIL_H_

#include <fcntl.h>

#include <string>

#include "syscalls/common.h"

namespace syscalls {

// Who the VFS checks permissions for: the task's fsuid, fsgid and groups.
inline vfs::Creds FileCreds(Task& t) {
  kernel::Credentials c = t.creds();
  return vfs::Creds{c.fsuid, c.fsgid, std::move(c.groups)};
}

// The target of a *at() call that takes AT_EMPTY_PATH: an empty path with
// that flag means dirfd's own file (`file`, or the cwd as `path`).
struct AtTarget {
  FilePtr file;  // set: act on this open file
  vfs::PathContext ctx;
  std::string path;
};

inline Result<AtTarget> ResolveAt(Task& t, int dirfd, UserPath path,
                                  int flags) {
  std::string p = TRY(CopyInPath(t, path));
  if (p.empty()) {
    if (!(flags & AT_EMPTY_PATH)) return Err(ENOENT);
    if (dirfd != AT_FDCWD) return AtTarget{TRY(t.fds().Get(dirfd)), {}, ""};
    vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
    std::string cwd = ctx.start;
    return AtTarget{nullptr, std::move(ctx), std::move(cwd)};
  }
  vfs::PathContext ctx = TRY(PathContextFor(t, dirfd, p));
  return AtTarget{nullptr, std::move(ctx), std::move(p)};
}

}  // namespace syscalls

#endif  // SYSCALLS_FS_UTIL_H_
