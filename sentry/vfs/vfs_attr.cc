// Attributes and whole-file calls: chmod, chown, utimes and truncate (by
// path or open file), fallocate, fsync, statfs.
#include <sys/statvfs.h>

#include "sentry/vfs/inotify.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs_impl.h"

namespace vfs {
namespace {

constexpr long kProcSuperMagic = 0x9fa0;
constexpr long kDevptsSuperMagic = 0x1cd1;
constexpr long kSysfsMagic = 0x62656572;
constexpr long kPipefsMagic = 0x50495045;
constexpr long kSockfsMagic = 0x534f434b;
constexpr long kAnonInodeFsMagic = 0x09041934;

// A filesystem with no capacity of its own (devfs, procfs, pipes).
struct statfs SyntheticStatfs(long magic) {
  struct statfs s {};
  s.f_type = magic;
  s.f_bsize = s.f_frsize = 4096;
  s.f_namelen = 255;
  s.f_flags = kStValid;
  return s;
}

// What an attribute change reports, as Linux's fsnotify_change: a size
// is a modification, explicit times both an attribute change (one of them
// alone an access or a modification), owner and mode attribute changes.
uint32_t ChangeEvents(const AttrChange& c) {
  uint32_t mask = 0;
  if (c.uid || c.gid || c.mode) mask |= IN_ATTRIB;
  if (c.size) mask |= IN_MODIFY;
  auto set = [](const std::optional<timespec>& t) {
    return t && t->tv_nsec != UTIME_OMIT;
  };
  if (set(c.atime) && set(c.mtime)) {
    mask |= IN_ATTRIB;
  } else if (set(c.atime)) {
    mask |= IN_ACCESS;
  } else if (set(c.mtime)) {
    mask |= IN_MODIFY;
  }
  return mask;
}

}  // namespace

Filesystem* VfsImpl::MountOf(std::string_view path) const {
  if (path.empty() || path[0] != '/') return nullptr;
  std::shared_ptr<const MountTable> table = Table();
  Filesystem* fs = table->root_mount.fs;
  size_t best = 0;
  for (const auto& [point, mounted] : table->mounts) {
    if (point.size() > best && path.starts_with(point) &&
        (path.size() == point.size() || path[point.size()] == '/')) {
      fs = mounted.fs;
      best = point.size();
    }
  }
  return fs;
}

std::shared_ptr<Node> VfsImpl::NodeOf(FileDescription& file, Filesystem** fs) {
  const std::string path = file.path();
  *fs = MountOf(path);
  if (auto* nd = dynamic_cast<NodeDescription*>(&file)) return nd->node();
  // A tmpfs path may have been renamed; every tmpfs description is a
  // NodeDescription, so a non-node one there is not a tmpfs file.
  if (*fs == nullptr || IsTmpfs(*fs)) return nullptr;
  auto r = WalkIn(PathContext{.start = "/"}, path, {.follow = false});
  return r ? std::move(r->node) : nullptr;
}

base::Result<void> VfsImpl::DoSetAttr(Node& node, const Creds& creds,
                                      const AttrChange& change, bool by_path,
                                      bool read_only_mount) {
  const struct stat st = TRY(node.Stat());
  if (change.size) {
    // do_truncate's checks, in Linux's order.
    if (S_ISDIR(st.st_mode)) return base::Err(EISDIR);
    if (!S_ISREG(st.st_mode)) return base::Err(EINVAL);
    if (node.read_only() || read_only_mount) return base::Err(EROFS);
    if (by_path) TRY(CheckPermission(st, kMayWrite, creds));
    return node.SetAttr({.size = change.size});
  }
  if (node.read_only() || read_only_mount) return base::Err(EROFS);
  AttrChange apply = change;
  apply.mode.reset();
  TRY(MaySetAttr(st, change, creds, &apply.mode));
  return node.SetAttr(apply);
}

base::Result<void> VfsImpl::SetAttr(const PathContext& ctx,
                                    std::string_view path, bool follow,
                                    const AttrChange& change) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = follow}));
  TRY(DoSetAttr(*r.node, ctx.creds, change, /*by_path=*/true,
                r.node_flags & kMountReadOnly));
  NotifyNode(r.fs == r.node_fs ? r.parent.get() : nullptr, r.name, *r.node,
             ChangeEvents(change));
  return {};
}

base::Result<void> VfsImpl::SetAttr(FileDescription& file, const Creds& creds,
                                    const AttrChange& change) {
  Filesystem* fs;
  std::shared_ptr<Node> node = NodeOf(file, &fs);
  // Pipes, sockets and host stdio keep their attributes for now.
  if (!node) return base::Err(change.size ? EINVAL : EPERM);
  TRY(DoSetAttr(*node, creds, change, /*by_path=*/false,
                Table()->FlagsOf(file.path()) & kMountReadOnly));
  const NotifyOrigin* o = file.notify_origin();
  NotifyNode(o ? o->dir.get() : nullptr, o ? o->name : "", *node,
             ChangeEvents(change));
  return {};
}

base::Result<void> VfsImpl::Allocate(FileDescription& file, uint64_t offset,
                                     uint64_t length, int mode) {
  const struct stat st = TRY(file.Stat());
  if (S_ISFIFO(st.st_mode)) return base::Err(ESPIPE);
  if (S_ISDIR(st.st_mode)) return base::Err(EISDIR);
  if (!S_ISREG(st.st_mode)) return base::Err(ENODEV);
  uint64_t end;
  if (__builtin_add_overflow(offset, length, &end) || end > INT64_MAX) {
    return base::Err(EFBIG);
  }
  Filesystem* fs;
  std::shared_ptr<Node> node = NodeOf(file, &fs);
  if (!node) return base::Err(EOPNOTSUPP);
  TRY(node->Allocate(offset, length, mode));
  NotifyDescription(file, IN_MODIFY);
  return {};
}

base::Result<void> VfsImpl::Sync(FileDescription& file) {
  // tmpfs has nothing to write back and the host root is read-only; what
  // Linux cannot sync (devices, pipes, sockets) is EINVAL.
  const struct stat st = TRY(file.Stat());
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return {};
  return base::Err(EINVAL);
}

base::Result<struct statfs> VfsImpl::StatfsOf(const Node* node, Filesystem* fs,
                                              std::string_view name) {
  if (node != nullptr) {
    auto own = node->Statfs();
    if (own || own.error() != base::Errno(ENOSYS)) return own;
  }
  if (fs == root_.get()) return root_->Root({})->Statfs();
  if (fs == &devfs_) return SyntheticStatfs(kTmpfsMagic);  // as devtmpfs
  if (fs == &procfs_) return SyntheticStatfs(kProcSuperMagic);
  if (fs == &devpts_) return SyntheticStatfs(kDevptsSuperMagic);
  if (fs == &sysfs_) return SyntheticStatfs(kSysfsMagic);
  if (fs != nullptr && IsTmpfs(fs))
    return StatfsOf(fs->Root({}).get(), nullptr, "");
  if (name.starts_with("pipe:")) return SyntheticStatfs(kPipefsMagic);
  if (name.starts_with("socket:")) return SyntheticStatfs(kSockfsMagic);
  return SyntheticStatfs(kAnonInodeFsMagic);
}

base::Result<struct statfs> VfsImpl::Statfs(const PathContext& ctx,
                                            std::string_view path) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = true}));
  Filesystem* fs = r.node_fs ? r.node_fs : MountOf(r.path);
  return StatfsOf(r.node.get(), fs, r.path);
}

base::Result<struct statfs> VfsImpl::Statfs(FileDescription& file) {
  Filesystem* fs;
  std::shared_ptr<Node> node = NodeOf(file, &fs);
  return StatfsOf(node.get(), fs, file.path());
}

}  // namespace vfs
