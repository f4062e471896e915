// The mount table and the path-based calls: open, stat, readlink, access,
// chdir resolution. Each walks with path_walk.h, then applies the checks
// Linux makes in the VFS rather than in a filesystem.
#include "sentry/vfs/vfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "sentry/mm/memory_file.h"
#include "sentry/vfs/inotify.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs_impl.h"

namespace vfs {
namespace {

// Linux shows O_LARGEFILE in F_GETFL of anything open(2) made on 64-bit;
// glibc defines O_LARGEFILE as 0 on x86-64, so this is the kernel's value.
constexpr int kOLargefile = 0100000;

// The kernel's __O_TMPFILE bit alone (glibc's __O_TMPFILE has O_DIRECTORY in
// it).
constexpr int kOTmpfileBit = 020000000;

// Flags that steer open(2) itself: Linux drops these from f_flags (O_CLOEXEC
// belongs to the fd), so F_GETFL shows the rest (O_DIRECTORY included).
constexpr int kOpenOnlyFlags =
    O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

// An O_PATH description: a place in the tree, good for fstat and as a
// dirfd (through its path), nothing else; everything else is EBADF, as on
// Linux.
class PathDescription : public FileDescription, public NodeDescription {
 public:
  PathDescription(int flags, std::shared_ptr<Node> node, std::string path)
      : FileDescription(flags),
        node_(std::move(node)),
        path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return base::Err(EBADF);
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    return base::Err(EBADF);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return base::Err(EBADF);
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    return base::Err(EBADF);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    return base::Err(EBADF);
  }
  base::Result<size_t> Getdents64(std::span<uint8_t> buf) override {
    return base::Err(EBADF);
  }
  base::Result<uint64_t> Ioctl(kernel::Task& task, uint32_t cmd,
                               uint64_t arg) override {
    return base::Err(EBADF);
  }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  std::string path() const override { return path_; }
  std::shared_ptr<Node> node() const override { return node_; }

 private:
  const std::shared_ptr<Node> node_;
  const std::string path_;
};

// may_open's permission check for an existing file: read and write as the
// access mode asks (O_TRUNC also needs write). Only tmpfs and overlay
// files are checked so far (see README.md).
base::Result<void> MayOpen(Node& node, int flags, const Creds& creds) {
  if (!node.checks_modes()) return {};
  int mask = 0;
  const int acc = flags & O_ACCMODE;
  if (acc != O_WRONLY) mask |= kMayRead;
  if (acc != O_RDONLY || (flags & O_TRUNC)) mask |= kMayWrite;
  return CheckPermission(TRY(node.Stat()), mask, creds);
}

// access(2): Linux's inode_permission for a caller with only uid and gid
// (no supplementary groups), after the read-only mount check.
base::Result<void> CheckAccess(const struct stat& st, int mode, uint32_t uid,
                               uint32_t gid, bool read_only) {
  if (mode == F_OK) return {};
  const mode_t type = st.st_mode & S_IFMT;
  // A read-only mount refuses writes to files, not to devices or fifos.
  if ((mode & W_OK) && read_only &&
      (type == S_IFREG || type == S_IFDIR || type == S_IFLNK)) {
    return base::Err(EROFS);
  }
  return CheckPermission(st, mode, Creds{.uid = uid, .gid = gid});
}

// open(O_TMPFILE) (Linux's do_tmpfile): an unnamed file in the directory
// `path`, on the filesystems that can make one (tmpfs and the overlay's
// upper layer); EOPNOTSUPP elsewhere, EROFS on a read-only mount.
base::Result<std::shared_ptr<FileDescription>> OpenTmpfile(
    const MountTable& mounts, const PathContext& ctx, std::string_view path,
    int flags, mode_t mode) {
  // build_open_flags: O_DIRECTORY with it, no O_CREAT, and write access.
  if ((flags & (O_TMPFILE | O_CREAT)) != O_TMPFILE ||
      (flags & O_ACCMODE) == O_RDONLY) {
    return base::Err(EINVAL);
  }
  Resolved r = TRY(Walk(mounts, ctx, path, {.follow = true}));
  if (r.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  if (r.node->read_only() || (r.node_flags & MS_RDONLY)) {
    return base::Err(EROFS);
  }
  TRY(CheckPermission(TRY(r.node->Stat()), kMayWrite | kMayExec, ctx.creds));
  // F_GETFL shows the file's flags less the creation ones, O_TMPFILE
  // (with its O_DIRECTORY) kept, as Linux.
  const int desc_flags = (flags & ~(O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) |
                         kOLargefile;
  return r.node->CreateUnnamed(desc_flags, mode & 07777, ctx.creds, r.path,
                               !(flags & O_EXCL));
}

// A new description of `node`, reached as `r`, remembers where it came
// from so that its reads, writes and close reach inotify watches, and
// reports IN_OPEN (Linux's fsnotify_open). O_PATH opens report nothing;
// a description someone else holds already (a magic link's) is left as
// it is.
base::Result<std::shared_ptr<FileDescription>> Opened(
    base::Result<std::shared_ptr<FileDescription>> f,
    std::shared_ptr<Node> node, const Resolved& r) {
  if (!f || !node || (*f)->is_path() || f->use_count() != 1) return f;
  auto origin = std::make_shared<NotifyOrigin>();
  origin->node = std::move(node);
  // A mount's root has no parent to tell, as on Linux.
  if (!r.name.empty() && r.name != "." && r.name != ".." &&
      (r.node == nullptr || r.fs == r.node_fs)) {
    origin->dir = r.parent;
    origin->name = r.name;
  }
  (*f)->set_notify_origin(std::move(origin));
  NotifyDescription(**f, IN_OPEN);
  return f;
}

}  // namespace

VfsImpl::VfsImpl(
    mm::MemoryFile* memory_file, unsigned next_tmpfs_minor,
    std::unique_ptr<Filesystem> root,
    std::vector<std::pair<std::string, std::unique_ptr<Tmpfs>>> tmpfs,
    std::vector<std::pair<std::string, std::unique_ptr<Filesystem>>>
        host_mounts)
    : memory_file_(memory_file),
      next_tmpfs_minor_(next_tmpfs_minor),
      root_(std::move(root)),
      host_mounts_(std::move(host_mounts)),
      tmpfs_(std::move(tmpfs)) {
  auto table = std::make_shared<MountTable>();
  table->root_mount = {.fs = root_.get(), .id = 1, .parent = 0};
  auto add = [&](std::string path, Filesystem* fs, unsigned long flags) {
    table->mounts.emplace(std::move(path), vfs::Mount{.fs = fs, .flags = flags});
  };
  add("/dev", &devfs_, MS_NOSUID);
  add("/dev/pts", &devpts_, MS_NOSUID | MS_NOEXEC);
  add("/proc", &procfs_, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  add("/sys", &sysfs_, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  for (const auto& [path, fs] : tmpfs_) add(path, fs.get(), 0);
  for (const auto& [path, fs] : host_mounts_) add(path, fs.get(), 0);
  // Ids as mountinfo numbers them: "/" is 1, then in path order, so a
  // mount comes after every mount that holds it; its parent is the
  // longest of those.
  int id = 1;
  for (auto& [path, m] : table->mounts) {
    m.id = ++id;
    std::string_view best;
    for (const auto& [point, p] : table->mounts) {
      if (&p == &m) break;
      if (path.starts_with(point + "/") && point.size() > best.size()) {
        best = point;
        m.parent = p.id;
      }
    }
  }
  table->next_id = id + 1;
  initial_ns_ = std::make_shared<MountNamespace>(std::move(table));
}

base::Result<Resolved> VfsImpl::WalkIn(const PathContext& ctx,
                                       std::string_view path,
                                       WalkOptions opts) const {
  std::shared_ptr<const MountTable> table = NamespaceOf(ctx).Table();
  Resolved r = TRY(Walk(*table, ctx, path, opts));
  r.table = std::move(table);
  return r;
}

bool VfsImpl::IsTmpfs(const Filesystem* fs) const {
  return dynamic_cast<const Tmpfs*>(fs) != nullptr;
}

base::Result<std::shared_ptr<FileDescription>> VfsImpl::Open(
    const PathContext& ctx, std::string_view path, int flags, mode_t mode) {
  // As Linux's build_open_flags: O_PATH keeps only these.
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if ((flags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY)) {
    return base::Err(EINVAL);  // since Linux 6.4
  }
  if (flags & kOTmpfileBit) {
    return OpenTmpfile(*NamespaceOf(ctx).Table(), ctx, path, flags, mode);
  }
  const bool create = flags & O_CREAT;
  if (create && !path.empty() && path.back() == '/') {
    // "name/" with O_CREAT is EISDIR once the parent resolves.
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    TRY(WalkIn(ctx, path, {.follow = false, .allow_missing = true}));
    return base::Err(EISDIR);
  }
  // O_CREAT | O_EXCL never follows a final symlink: it exists, EEXIST.
  const bool follow = !(flags & O_NOFOLLOW) && !(create && (flags & O_EXCL));
  const int desc_flags =
      (flags & ~kOpenOnlyFlags) | ((flags & O_PATH) ? 0 : kOLargefile);
  Resolved r;
  // A name made by someone else between our lookup and our create is
  // opened instead (without O_EXCL), as Linux's atomic lookup_open.
  for (int attempt = 0;; ++attempt) {
    r = TRY(
        WalkIn(ctx, path, {.follow = follow, .allow_missing = create}));
    if (r.node) break;
    if (ParentReadOnly(r)) return base::Err(EROFS);
    TRY(MayCreate(TRY(r.parent->Stat()), ctx.creds));
    auto made =
        r.parent->Create(r.name, desc_flags, mode & 07777, ctx.creds, r.path);
    if (made) {
      NotifyNodeEntry(*r.parent, r.name, /*is_dir=*/false, IN_CREATE);
      auto* nd = dynamic_cast<NodeDescription*>(made->get());
      return Opened(std::move(made), nd ? nd->node() : nullptr, r);
    }
    if (made.error() != base::Errno(EEXIST) || (flags & O_EXCL) ||
        attempt == 3) {
      return made;
    }
  }
  if (create && (flags & O_EXCL)) return base::Err(EEXIST);

  const mode_t type = r.node->type();
  if ((flags & O_DIRECTORY) && type != S_IFDIR) return base::Err(ENOTDIR);
  if (flags & O_PATH) {
    return std::make_shared<PathDescription>(desc_flags, std::move(r.node),
                                             std::move(r.path));
  }
  if (type == S_IFLNK) return base::Err(ELOOP);  // O_NOFOLLOW
  const int acc = flags & O_ACCMODE;
  if (type == S_IFDIR && (acc != O_RDONLY || create || (flags & O_TRUNC))) {
    return base::Err(EISDIR);
  }
  if (type == S_IFREG && NodeReadOnly(r) &&
      (acc != O_RDONLY || (flags & O_TRUNC))) {
    return base::Err(EROFS);
  }
  TRY(MayOpen(*r.node, flags, ctx.creds));
  bool truncated = false;
  // Truncated before it is opened (Linux truncates after): an overlay
  // file is then copied up empty, and its description is the upper's.
  if (type == S_IFREG && (flags & O_TRUNC) && r.node->checks_modes()) {
    TRY(r.node->SetAttr({.size = 0}));
    truncated = true;
  }
  // A magic link's landing (no filesystem known) is not a new open of a
  // name.
  if (r.node_fs == nullptr) return r.node->Open(desc_flags, r.path);
  auto f = Opened(r.node->Open(desc_flags, r.path), r.node, r);
  // Reported after IN_OPEN, where Linux truncates (handle_truncate).
  if (f && truncated) {
    NotifyNode(r.fs == r.node_fs ? r.parent.get() : nullptr, r.name, *r.node,
               IN_MODIFY);
  }
  return f;
}

base::Result<struct stat> VfsImpl::Stat(const PathContext& ctx,
                                        std::string_view path, bool follow) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = follow}));
  return r.node->Stat();
}

base::Result<std::string> VfsImpl::Readlink(const PathContext& ctx,
                                            std::string_view path) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = false}));
  return r.node->Readlink();
}

base::Result<void> VfsImpl::Access(const PathContext& ctx,
                                   std::string_view path, int mode, bool follow,
                                   uint32_t uid, uint32_t gid) {
  if (mode & ~(R_OK | W_OK | X_OK)) return base::Err(EINVAL);
  Resolved r = TRY(WalkIn(ctx, path, {.follow = follow}));
  const struct stat st = TRY(r.node->Stat());
  return CheckAccess(st, mode, uid, gid, NodeReadOnly(r));
}

base::Result<std::string> VfsImpl::ResolveDirectory(const PathContext& ctx,
                                                    std::string_view path) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = true}));
  if (r.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  return std::move(r.path);
}

base::Result<struct stat> VfsImpl::WatchTarget(const PathContext& ctx,
                                               std::string_view path,
                                               bool follow, bool only_dir) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = follow}));
  const struct stat st = TRY(r.node->Stat());
  if (only_dir && !S_ISDIR(st.st_mode)) return base::Err(ENOTDIR);
  TRY(CheckPermission(st, kMayRead, ctx.creds));
  return st;
}

base::Result<std::unique_ptr<Vfs>> Vfs::Create(const Options& options) {
  // The sentry opens the host directories itself only when nobody (the
  // gofer) serves them.
  auto open_tree = [&](const std::string& host_path)
      -> base::Result<std::unique_ptr<Filesystem>> {
    if (options.open_tree) return options.open_tree(host_path);
    return TRY(HostFs::Create(host_path));
  };
  std::unique_ptr<Filesystem> root = TRY(open_tree(options.host_root));
  if (options.overlay_root && options.memory_file != nullptr) {
    root = TRY(OverlayFs::Create(std::move(root), *options.memory_file));
  }
  std::vector<std::pair<std::string, std::unique_ptr<Tmpfs>>> tmpfs;
  if (options.memory_file != nullptr) {
    unsigned minor = kTmpfsFirstMinor;
    for (const std::string& path : options.tmpfs_mounts) {
      // Mount points are canonical: absolute, no "." or "..", no "//".
      if (path.size() < 2 || path[0] != '/' || path.back() == '/' ||
          path.find("//") != path.npos || path.find("/./") != path.npos ||
          path.find("/../") != path.npos || path.ends_with("/.") ||
          path.ends_with("/..")) {
        return base::Err(EINVAL);
      }
      tmpfs.emplace_back(
          path, Tmpfs::Create(*options.memory_file, {.dev_minor = minor++}));
    }
    // /dev/shm: POSIX shared memory (shm_open) and semaphores, as Linux.
    tmpfs.emplace_back("/dev/shm", Tmpfs::Create(*options.memory_file,
                                                 {.dev_minor = minor++}));
  }
  std::vector<std::pair<std::string, std::unique_ptr<Filesystem>>> host_mounts;
  for (const std::string& path : options.host_mounts) {
    if (path.size() < 2 || path[0] != '/') return base::Err(EINVAL);
    host_mounts.emplace_back(path, TRY(open_tree(path)));
  }
  // (Computed first: the arguments below may be evaluated in any order.)
  const unsigned next_minor = kTmpfsFirstMinor + tmpfs.size();
  return std::unique_ptr<Vfs>(new VfsImpl(options.memory_file, next_minor,
                                          std::move(root),
                                          std::move(tmpfs),
                                          std::move(host_mounts)));
}

}  // namespace vfs
