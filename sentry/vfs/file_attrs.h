// What statx(2) and the FS_IOC_*FLAGS ioctls ask of an open file beyond
// stat(2): the birth time, the inode flags (chattr/lsattr), the
// STATX_ATTR_* bits and the mount id.
#ifndef SENTRY_VFS_FILE_ATTRS_H_
#define SENTRY_VFS_FILE_ATTRS_H_

#include <time.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

// statx(2)'s fields beyond struct stat.
struct StatxExtras {
  std::optional<timespec> btime;  // STATX_BTIME, if the filesystem knows it
  uint64_t attributes = 0;        // STATX_ATTR_*
  uint64_t attributes_mask = 0;   // the STATX_ATTR_* bits that are known
  uint64_t mnt_id = 0;            // as /proc/<pid>/mountinfo numbers it
};

// For `file`, an open description or the O_PATH one statx opens for a
// path: `mounts` is the Vfs's mount table (Vfs::Mounts).
StatxExtras GetStatxExtras(FileDescription& file,
                           const std::vector<MountEntry>& mounts);

// The id of the mount `path` (a description's path()) is on: the longest
// mount point above it; 0 for pipes, sockets and other files without a
// path in the tree.
int MountIdOf(const std::vector<MountEntry>& mounts, std::string_view path);

// FS_IOC_GETFLAGS: ENOTTY for files whose filesystem has no inode flags.
base::Result<uint32_t> GetInodeFlags(FileDescription& file);
// FS_IOC_SETFLAGS as Linux's vfs_fileattr_set: only the owner (or root)
// may (EPERM), FS_IMMUTABLE_FL/FS_APPEND_FL changes are root's (EPERM),
// EROFS on a read-only filesystem, then the filesystem's answer.
base::Result<void> SetInodeFlags(FileDescription& file, const Creds& creds,
                                 uint32_t flags);

}  // namespace vfs

#endif  // SENTRY_VFS_FILE_ATTRS_H_
