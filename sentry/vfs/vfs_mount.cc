// mount(2) and umount2(2): changes to the mount table. A table is never
// changed in place (walks read it without a lock): each change copies it,
// applies itself to the copy, and swaps it in under mounts_mu_.
#include <sys/mount.h>

#include "sentry/vfs/vfs_impl.h"

namespace vfs {
namespace {

// The per-mount flags mount(2) keeps (Linux's MNT_* set from MS_*).
constexpr unsigned long kMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV |
                                      MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                      MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kPropagation =
    MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
// Linux's default fs.mount-max: an app cannot grow the table without end
// (each change copies it).
constexpr size_t kMaxMounts = 100000;

bool Under(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.starts_with(dir) &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

// The mount at `path` and every mount below it, deepest last.
std::vector<std::string> Subtree(const MountTable& t, std::string_view path) {
  std::vector<std::string> out;
  for (const auto& [point, m] : t.mounts)
    if (Under(point, path)) out.push_back(point);
  return out;
}

// Puts `m` at `point`, on top of whatever is mounted there (a later
// umount uncovers it). ENOSPC past kMaxMounts, as Linux.
base::Result<void> Place(MountTable& t, const std::string& point, Mount m) {
  size_t count = t.mounts.size();
  for (const auto& [p, mount] : t.mounts)
    for (const Mount* c = mount.covered.get(); c; c = c->covered.get())
      ++count;
  if (count >= kMaxMounts) return base::Err(ENOSPC);
  m.id = t.next_id++;
  auto it = t.mounts.find(point);
  if (it != t.mounts.end()) {
    m.covered = std::make_shared<const Mount>(std::move(it->second));
    it->second = std::move(m);
  } else {
    t.mounts.emplace(point, std::move(m));
  }
  return {};
}

}  // namespace

base::Result<void> VfsImpl::ChangeTable(
    const std::function<base::Result<void>(MountTable&)>& change) {
  std::shared_ptr<const MountTable> old;  // freed outside the lock
  absl::MutexLock lock(&mounts_mu_);
  auto copy = std::make_shared<MountTable>(*mounts_);
  TRY(change(*copy));
  old = std::exchange(mounts_, std::move(copy));
  return {};
}

base::Result<void> VfsImpl::Mount(const PathContext& ctx,
                                  std::string_view source,
                                  std::string_view target,
                                  std::string_view fstype,
                                  unsigned long flags) {
  Resolved at = TRY(WalkIn(ctx, target, {.follow = true}));
  const bool mount_root = at.table->mounts.contains(at.path);
  if (flags & MS_REMOUNT) {
    // Only the mount's own root can be remounted; its flags change.
    if (!mount_root) return base::Err(EINVAL);
    return ChangeTable([&](MountTable& t) -> base::Result<void> {
      auto it = t.mounts.find(at.path);
      if (it == t.mounts.end()) return base::Err(EINVAL);
      it->second.flags = flags & kMountFlags;
      return {};
    });
  }
  if (flags & MS_BIND) return MountBind(ctx, source, at, flags);
  if (flags & kPropagation) {
    // One type at a time, on a mount's root; nothing to propagate to.
    const unsigned long type = flags & kPropagation;
    if (type & (type - 1)) return base::Err(EINVAL);
    if (!mount_root && at.path != "/") return base::Err(EINVAL);
    return {};
  }
  if (flags & MS_MOVE) {
    Resolved from = TRY(WalkIn(ctx, source, {.follow = true}));
    if (!from.table->mounts.contains(from.path)) return base::Err(EINVAL);
    if (at.node->type() != S_IFDIR) return base::Err(ENOTDIR);
    // A mount cannot move below itself (Linux: ELOOP).
    if (Under(at.path, from.path)) return base::Err(ELOOP);
    return ChangeTable([&](MountTable& t) -> base::Result<void> {
      for (const std::string& point : Subtree(t, from.path)) {
        auto node = t.mounts.extract(point);
        if (node.empty()) return base::Err(EINVAL);
        node.key() = at.path + point.substr(from.path.size());
        if (t.mounts.contains(node.key())) return base::Err(EBUSY);
        t.mounts.insert(std::move(node));
      }
      return {};
    });
  }
  return MountNew(at, fstype, flags);
}

base::Result<void> VfsImpl::MountNew(const Resolved& at,
                                     std::string_view fstype,
                                     unsigned long flags) {
  if (at.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  // "/" is not a table entry: the walker starts there. Mounting over it
  // is refused rather than done half-way.
  if (at.path == "/") return base::Err(EBUSY);
  vfs::Mount m{.flags = flags & kMountFlags, .fstype = std::string(fstype)};
  if (fstype == "tmpfs") {
    if (memory_file_ == nullptr) return base::Err(ENODEV);
    std::shared_ptr<Filesystem> fs = Tmpfs::Create(
        *memory_file_, {.dev_minor = next_tmpfs_minor_.fetch_add(1)});
    m.fs = fs.get();
    m.owned = std::move(fs);
  } else if (fstype == "proc") {
    m.fs = &procfs_;
  } else if (fstype == "sysfs") {
    m.fs = &sysfs_;
  } else if (fstype == "devpts") {
    m.fs = &devpts_;
  } else {
    return base::Err(ENODEV);  // not a filesystem type the sandbox has
  }
  m.source = m.fstype;
  return ChangeTable([&](MountTable& t) -> base::Result<void> {
    return Place(t, at.path, std::move(m));
  });
}

base::Result<void> VfsImpl::MountBind(const PathContext& ctx,
                                      std::string_view source,
                                      const Resolved& at,
                                      unsigned long flags) {
  Resolved from = TRY(WalkIn(ctx, source, {.follow = true}));
  if (at.path == "/") return base::Err(EBUSY);
  // A directory binds onto a directory, anything else onto a non-directory.
  if ((from.node->type() == S_IFDIR) != (at.node->type() == S_IFDIR))
    return base::Err(from.node->type() == S_IFDIR ? ENOTDIR : EISDIR);
  if (from.node_fs == nullptr) return base::Err(EINVAL);  // an fd's file
  return ChangeTable([&](MountTable& t) -> base::Result<void> {
    // The source's mount, found again in this table.
    std::string point;
    for (const auto& [p, m] : t.mounts)
      if (Under(from.path, p) && p.size() > point.size()) point = p;
    vfs::Mount m;
    if (point.empty()) {
      m.fs = t.root;
      m.flags = t.root_flags;
      m.root_path = from.path;
    } else {
      const vfs::Mount& src = t.mounts.at(point);
      m = src;
      m.covered.reset();
      std::string rest = from.path.substr(point.size());
      m.root_path = src.root_path == "/" ? (rest.empty() ? "/" : rest)
                                         : src.root_path + rest;
    }
    m.root = from.node;
    // What was mounted below the source comes along with MS_REC.
    std::vector<std::pair<std::string, vfs::Mount>> below;
    if (flags & MS_REC) {
      for (const std::string& p : Subtree(t, from.path))
        if (p != from.path) below.emplace_back(p, t.mounts.at(p));
    }
    TRY(Place(t, at.path, std::move(m)));
    for (auto& [p, sub] : below) {
      sub.covered.reset();
      TRY(Place(t, at.path + p.substr(from.path.size()), std::move(sub)));
    }
    return {};
  });
}

base::Result<void> VfsImpl::Umount(const PathContext& ctx,
                                   std::string_view target, int flags) {
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
    return base::Err(EINVAL);
  if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH)))
    return base::Err(EINVAL);
  Resolved at =
      TRY(WalkIn(ctx, target, {.follow = !(flags & UMOUNT_NOFOLLOW)}));
  if (at.path == "/") return base::Err(EBUSY);  // the root stays
  if (flags & MNT_EXPIRE) {
    // The first call only marks the mount (EAGAIN); the next unmounts it.
    bool marked = false;
    TRY(ChangeTable([&](MountTable& t) -> base::Result<void> {
      auto it = t.mounts.find(at.path);
      if (it == t.mounts.end()) return base::Err(EINVAL);
      if (!it->second.expiring) it->second.expiring = marked = true;
      return {};
    }));
    if (marked) return base::Err(EAGAIN);
  }
  return ChangeTable([&](MountTable& t) -> base::Result<void> {
    auto it = t.mounts.find(at.path);
    if (it == t.mounts.end()) return base::Err(EINVAL);  // not a mount
    std::vector<std::string> subtree = Subtree(t, at.path);
    if (subtree.size() > 1 && !(flags & MNT_DETACH)) return base::Err(EBUSY);
    // Deepest first, so that every mount's parent is still there.
    for (auto p = subtree.rbegin(); p != subtree.rend(); ++p) {
      auto m = t.mounts.find(*p);
      if (m->second.covered && *p == at.path) {
        vfs::Mount under = *m->second.covered;
        m->second = std::move(under);
      } else {
        t.mounts.erase(m);
      }
    }
    return {};
  });
}

bool VfsImpl::NoExec(std::string_view path) const {
  return Table()->FlagsOf(path) & MS_NOEXEC;
}

}  // namespace vfs
