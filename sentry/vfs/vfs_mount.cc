// mount(2) and umount2(2): changes to the mount table. A table is never
// changed in place (walks read it without a lock): each change copies it,
// applies itself to the copy, and swaps it in under mounts_mu_.
#include <sys/mount.h>

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "sentry/vfs/inotify.h"
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

// The id of the mount that holds canonical `point` (its parent, were a
// mount placed there): the deepest mount strictly above it, else "/".
int HolderOf(const MountTable& t, std::string_view point) {
  int id = t.root_mount.id;
  size_t best = 0;
  for (const auto& [p, m] : t.mounts) {
    if (p.size() > best && p.size() < point.size() && Under(point, p)) {
      id = m.id;
      best = p.size();
    }
  }
  return id;
}

// Puts `m` at `point`, on top of whatever is mounted there (a later
// umount uncovers it), with a new id. ENOSPC past kMaxMounts, as Linux.
base::Result<void> Place(MountTable& t, const std::string& point, Mount m) {
  size_t count = t.mounts.size();
  for (const auto& [p, mount] : t.mounts)
    for (const Mount* c = mount.covered.get(); c; c = c->covered.get())
      ++count;
  if (count >= kMaxMounts) return base::Err(ENOSPC);
  m.id = t.next_id++;
  auto it = t.mounts.find(point);
  // On top of another mount, that one is its parent.
  m.parent = it != t.mounts.end() ? it->second.id : HolderOf(t, point);
  if (it != t.mounts.end()) {
    m.covered = std::make_shared<const Mount>(std::move(it->second));
    it->second = std::move(m);
  } else {
    t.mounts.emplace(point, std::move(m));
  }
  return {};
}


// The mount point of the mount `path` is on (path itself if a mount is
// there); "" for the root's mount.
std::string MountPointOf(const MountTable& t, std::string_view path) {
  std::string best;
  for (const auto& [p, m] : t.mounts)
    if (Under(path, p) && p.size() > best.size()) best = p;
  return best;
}

// Puts `m` at `point` as it is (id and parent kept), on top of whatever is
// there.
void Stack(MountTable& t, const std::string& point, Mount m) {
  auto it = t.mounts.find(point);
  if (it == t.mounts.end()) {
    t.mounts.emplace(point, std::move(m));
    return;
  }
  m.covered = std::make_shared<const Mount>(std::move(it->second));
  it->second = std::move(m);
}

// Calls f on every mount of `t`: the root, the tops and what they cover.
template <typename F>
void ForEachMount(const MountTable& t, F f) {
  for (const Mount* m = &t.root_mount; m; m = m->covered.get()) f(*m);
  for (const auto& [p, top] : t.mounts)
    for (const Mount* m = &top; m; m = m->covered.get()) f(*m);
}

// Mount `id` and every mount below it (umount2's MNT_DETACH takes them
// all).
absl::flat_hash_set<int> Descendants(const MountTable& t, int id) {
  absl::flat_hash_map<int, std::vector<int>> children;
  ForEachMount(t, [&](const Mount& m) { children[m.parent].push_back(m.id); });
  absl::flat_hash_set<int> out = {id};
  std::vector<int> todo = {id};
  while (!todo.empty()) {
    const int next = todo.back();
    todo.pop_back();
    auto it = children.find(next);
    if (it == children.end()) continue;
    for (int child : it->second)
      if (out.insert(child).second) todo.push_back(child);
  }
  return out;
}

// Takes the mounts in `ids` out of every stack; what they covered shows.
void RemoveMounts(MountTable& t, const absl::flat_hash_set<int>& ids) {
  // A stack rebuilt bottom-up from its survivors; null if none survive.
  auto rebuild = [&](const Mount& top) -> std::optional<Mount> {
    std::vector<const Mount*> keep;
    for (const Mount* m = &top; m; m = m->covered.get())
      if (!ids.contains(m->id)) keep.push_back(m);
    if (keep.empty()) return std::nullopt;
    std::shared_ptr<const Mount> below;
    for (auto it = keep.rbegin(); it != keep.rend(); ++it) {
      Mount copy = **it;
      copy.covered = std::move(below);
      below = std::make_shared<const Mount>(std::move(copy));
    }
    return *below;
  };
  if (std::optional<Mount> root = rebuild(t.root_mount)) {
    t.root_mount = *std::move(root);
  }
  for (auto it = t.mounts.begin(); it != t.mounts.end();) {
    if (std::optional<Mount> rest = rebuild(it->second)) {
      it->second = *std::move(rest);
      ++it;
    } else {
      it = t.mounts.erase(it);
    }
  }
}

}  // namespace

base::Result<void> VfsImpl::Mount(const PathContext& ctx,
                                  std::string_view source,
                                  std::string_view target,
                                  std::string_view fstype,
                                  unsigned long flags) {
  Resolved at = TRY(WalkIn(ctx, target, {.follow = true}));
  const bool mount_root = at.table->mounts.contains(at.path);
  MountNamespace& ns = NamespaceOf(ctx);
  if (flags & MS_REMOUNT) {
    // Only the mount's own root can be remounted; its flags change.
    if (!mount_root && at.path != "/") return base::Err(EINVAL);
    return ns.Change([&](MountTable& t) -> base::Result<void> {
      if (at.path == "/") {
        t.root_mount.flags = flags & kMountFlags;
        return {};
      }
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
    return ns.Change([&](MountTable& t) -> base::Result<void> {
      const int parent = HolderOf(t, at.path);
      for (const std::string& point : Subtree(t, from.path)) {
        auto node = t.mounts.extract(point);
        if (node.empty()) return base::Err(EINVAL);
        if (point == from.path) node.mapped().parent = parent;
        node.key() = at.path + point.substr(from.path.size());
        if (t.mounts.contains(node.key())) return base::Err(EBUSY);
        t.mounts.insert(std::move(node));
      }
      return {};
    });
  }
  return MountNew(ns, at, fstype, flags);
}

base::Result<void> VfsImpl::MountNew(MountNamespace& ns, const Resolved& at,
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
  return ns.Change([&](MountTable& t) -> base::Result<void> {
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
  return NamespaceOf(ctx).Change([&](MountTable& t) -> base::Result<void> {
    // The source's mount, found again in this table.
    std::string point;
    for (const auto& [p, m] : t.mounts)
      if (Under(from.path, p) && p.size() > point.size()) point = p;
    vfs::Mount m;
    if (point.empty()) {
      m = t.root_mount;
      m.covered.reset();
      std::string rest = from.path == "/" ? "" : from.path;
      m.root_path = m.root_path == "/" ? (rest.empty() ? "/" : rest)
                                       : m.root_path + rest;
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
  MountNamespace& ns = NamespaceOf(ctx);
  // The root stays, unless pivot_root(".", ".") stacked the old one on it.
  if (at.path == "/" && !at.table->root_mount.covered) return base::Err(EBUSY);
  if (flags & MNT_EXPIRE) {
    // The first call only marks the mount (EAGAIN); the next unmounts it.
    bool marked = false;
    TRY(ns.Change([&](MountTable& t) -> base::Result<void> {
      auto it = t.mounts.find(at.path);
      if (it == t.mounts.end()) return base::Err(EINVAL);
      if (!it->second.expiring) it->second.expiring = marked = true;
      return {};
    }));
    if (marked) return base::Err(EAGAIN);
  }
  std::vector<std::shared_ptr<Filesystem>> unmounted;  // for inotify
  TRY(ns.Change([&](MountTable& t) -> base::Result<void> {
    int id;
    if (at.path == "/") {
      if (!t.root_mount.covered) return base::Err(EBUSY);
      id = t.root_mount.id;
    } else {
      auto it = t.mounts.find(at.path);
      if (it == t.mounts.end()) return base::Err(EINVAL);  // not a mount
      id = it->second.id;
    }
    const absl::flat_hash_set<int> gone = Descendants(t, id);
    if (gone.size() > 1 && !(flags & MNT_DETACH)) return base::Err(EBUSY);
    for (const auto& [path, m] : t.mounts) {
      if (m.owned && gone.contains(m.id)) unmounted.push_back(m.owned);
    }
    RemoveMounts(t, gone);
    return {};
  }));
  NotifyUnmounts(*ns.Table(), unmounted);
  return {};
}

void VfsImpl::NotifyUnmounts(
    const MountTable& table,
    const std::vector<std::shared_ptr<Filesystem>>& gone) {
  if (gone.empty() || !NotifyWatched()) return;
  for (const std::shared_ptr<Filesystem>& fs : gone) {
    // Its last mount (in this namespace) went: Linux's superblock
    // shutdown (IN_UNMOUNT).
    if (std::any_of(table.mounts.begin(), table.mounts.end(),
                    [&](const auto& m) { return m.second.fs == fs.get(); })) {
      continue;
    }
    if (auto st = fs->Root({})->Stat()) NotifyUnmounted(st->st_dev);
  }
}

base::Result<PivotMove> VfsImpl::PivotRoot(const PathContext& ctx,
                                           std::string_view new_root,
                                           std::string_view put_old) {
  Resolved n = TRY(WalkIn(ctx, new_root, {.follow = true}));
  if (n.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  Resolved o = TRY(WalkIn(ctx, put_old, {.follow = true}));
  if (o.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  PivotMove move{.new_root = n.path, .put_old = o.path};
  TRY(NamespaceOf(ctx).Change([&](MountTable& t) -> base::Result<void> {
    // Linux's checks, in its order. Both must be off the root's mount
    // ("loop, on the same file system").
    if (MountPointOf(t, move.new_root).empty() ||
        MountPointOf(t, move.put_old).empty())
      return base::Err(EBUSY);
    // The caller's root must be a mount's root: "/" here (a chroot into a
    // mount point is not followed; see README.md).
    if (ctx.root != "/") return base::Err(EINVAL);
    // new_root must be a mount point, and put_old reachable from it.
    auto top = t.mounts.find(move.new_root);
    if (top == t.mounts.end()) return base::Err(EINVAL);
    if (!Under(move.put_old, move.new_root)) return base::Err(EINVAL);

    // put_old as the new root sees it ("" when they are the same).
    const std::string old_at = move.put_old.substr(move.new_root.size());
    MountTable out;
    out.next_id = t.next_id;
    vfs::Mount new_top = top->second;
    std::shared_ptr<const vfs::Mount> new_covered = std::move(new_top.covered);
    new_top.covered.reset();
    new_top.parent = 0;
    // The new root's own mounts first: where one of the old root's meets
    // one at the same path, the old root's lies on top (the path reaches
    // it first, as Linux's lookup from the old root would).
    for (const auto& [point, m] : t.mounts)
      if (point != move.new_root && Under(point, move.new_root))
        Stack(out, move.Apply(point), m);
    vfs::Mount old_root = t.root_mount;
    if (old_at.empty()) {
      // pivot_root(".", "."): the old root lies on the new one until
      // umount2 takes it off.
      old_root.parent = new_top.id;
      old_root.covered = std::make_shared<const vfs::Mount>(std::move(new_top));
      out.root_mount = std::move(old_root);
    } else {
      out.root_mount = std::move(new_top);
      old_root.parent = out.mounts.contains(old_at)
                            ? out.mounts.at(old_at).id
                            : HolderOf(out, old_at);
      Stack(out, old_at, std::move(old_root));
    }
    // What new_root covered stays where it was, now below put_old.
    if (new_covered) Stack(out, old_at + move.new_root, *new_covered);
    for (const auto& [point, m] : t.mounts)
      if (!Under(point, move.new_root)) Stack(out, move.Apply(point), m);
    t = std::move(out);
    return {};
  }));
  return move;
}

bool VfsImpl::NoExec(const PathContext& ctx, std::string_view path) const {
  return NamespaceOf(ctx).Table()->FlagsOf(path) & MS_NOEXEC;
}

}  // namespace vfs
