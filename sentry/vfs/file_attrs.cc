// statx(2)'s extra fields and the FS_IOC_*FLAGS ioctls, from the node a
// description keeps (NodeDescription): tmpfs files and directories,
// overlay files, O_PATH descriptions. Other descriptions (pipes, host
// stdio, devices) have no birth time and no inode flags.
#include "sentry/vfs/file_attrs.h"

#include <linux/fs.h>    // FS_*_FL

#include "sentry/vfs/node.h"
#include "sentry/vfs/permission.h"

namespace vfs {
namespace {

// The attributes Linux's VFS reports for every file (vfs_getattr_nosec,
// generic_fillattr); DAX is never set here.
constexpr uint64_t kGenericAttrMask =
    STATX_ATTR_MOUNT_ROOT | STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX;
// What a filesystem with inode flags adds (Linux's shmem_getattr).
constexpr uint64_t kFlagAttrMask =
    STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP;

std::shared_ptr<Node> NodeOf(FileDescription& file) {
  auto* nd = dynamic_cast<NodeDescription*>(&file);
  return nd ? nd->node() : nullptr;
}

}  // namespace

int MountIdOf(const std::vector<MountEntry>& mounts, std::string_view path) {
  if (!path.starts_with("/")) return 0;
  int id = 0;
  size_t best = 0;
  for (const MountEntry& m : mounts) {
    const bool under =
        m.point == "/" || path == m.point ||
        (path.starts_with(m.point) && path.size() > m.point.size() &&
         path[m.point.size()] == '/');
    if (under && m.point.size() >= best) {
      best = m.point.size();
      id = m.id;
    }
  }
  return id;
}

StatxExtras GetStatxExtras(FileDescription& file,
                           const std::vector<MountEntry>& mounts) {
  StatxExtras out;
  const std::string path = file.path();
  out.mnt_id = static_cast<uint64_t>(MountIdOf(mounts, path));
  out.attributes_mask = kGenericAttrMask;
  for (const MountEntry& m : mounts) {
    if (m.point == path) out.attributes |= STATX_ATTR_MOUNT_ROOT;
  }
  std::shared_ptr<Node> node = NodeOf(file);
  if (!node) return out;
  out.btime = node->BirthTime();
  if (auto flags = node->InodeFlags()) {
    out.attributes_mask |= kFlagAttrMask;
    if (*flags & FS_IMMUTABLE_FL) out.attributes |= STATX_ATTR_IMMUTABLE;
    if (*flags & FS_APPEND_FL) out.attributes |= STATX_ATTR_APPEND;
    if (*flags & FS_NODUMP_FL) out.attributes |= STATX_ATTR_NODUMP;
  }
  return out;
}

base::Result<uint32_t> GetInodeFlags(FileDescription& file) {
  std::shared_ptr<Node> node = NodeOf(file);
  if (!node) return base::Err(ENOTTY);
  return node->InodeFlags();
}

base::Result<void> SetInodeFlags(FileDescription& file, const Creds& creds,
                                 uint32_t flags) {
  std::shared_ptr<Node> node = NodeOf(file);
  if (!node) return base::Err(ENOTTY);
  if (node->read_only()) return base::Err(EROFS);
  const uint32_t old = TRY(node->InodeFlags());
  const struct stat st = TRY(node->Stat());
  if (!IsRoot(creds) && !IsOwner(st, creds)) return base::Err(EPERM);
  // CAP_LINUX_IMMUTABLE (root's here) to change either.
  if (((old ^ flags) & (FS_IMMUTABLE_FL | FS_APPEND_FL)) && !IsRoot(creds)) {
    return base::Err(EPERM);
  }
  return node->SetInodeFlags(flags);
}

}  // namespace vfs
