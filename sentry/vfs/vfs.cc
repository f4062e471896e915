// The mount table and the path-based calls: open, stat, readlink, access,
// chdir resolution. Each walks with path_walk.h, then applies the checks
// Linux makes in the VFS rather than in a filesystem.
#include "sentry/vfs/vfs.h"

#include <unistd.h>

#include "sentry/vfs/devfs.h"
#include "sentry/vfs/host_fs.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/path_walk.h"
#include "sentry/vfs/procfs.h"

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
class PathDescription : public FileDescription {
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

 private:
  const std::shared_ptr<Node> node_;
  const std::string path_;
};

// Linux's inode_permission for a caller with only uid and gid (no
// supplementary groups), where uid 0 has CAP_DAC_OVERRIDE.
base::Result<void> CheckAccess(const struct stat& st, int mode, uint32_t uid,
                               uint32_t gid, bool read_only) {
  if (mode == F_OK) return {};
  const mode_t type = st.st_mode & S_IFMT;
  // A read-only mount refuses writes to files, not to devices or fifos.
  if ((mode & W_OK) && read_only &&
      (type == S_IFREG || type == S_IFDIR || type == S_IFLNK)) {
    return base::Err(EROFS);
  }
  if (uid == 0) {
    // Root may execute only what someone may execute; it may search any
    // directory.
    if ((mode & X_OK) && type != S_IFDIR && !(st.st_mode & 0111)) {
      return base::Err(EACCES);
    }
    return {};
  }
  mode_t bits = st.st_mode;  // "other"
  if (st.st_uid == uid) {
    bits >>= 6;
  } else if (st.st_gid == gid) {
    bits >>= 3;
  }
  if ((bits & mode & 7) != static_cast<mode_t>(mode)) return base::Err(EACCES);
  return {};
}

class VfsImpl : public Vfs {
 public:
  explicit VfsImpl(std::unique_ptr<HostFs> host) : host_(std::move(host)) {
    mounts_.root = host_.get();
    mounts_.mounts.emplace("/dev", &devfs_);
    mounts_.mounts.emplace("/proc", &procfs_);
  }

  base::Result<std::shared_ptr<FileDescription>> Open(const PathContext& ctx,
                                                      std::string_view path,
                                                      int flags,
                                                      mode_t mode) override {
    // As Linux's build_open_flags: O_PATH keeps only these.
    if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    if ((flags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY)) {
      return base::Err(EINVAL);  // since Linux 6.4
    }
    if (flags & kOTmpfileBit) return OpenTmpfile(ctx, path, flags);
    const bool create = flags & O_CREAT;
    if (create && !path.empty() && path.back() == '/') {
      // "name/" with O_CREAT is EISDIR once the parent resolves.
      while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
      TRY(Walk(mounts_, ctx, path, {.follow = false, .allow_missing = true}));
      return base::Err(EISDIR);
    }
    // O_CREAT | O_EXCL never follows a final symlink: it exists, EEXIST.
    const bool follow = !(flags & O_NOFOLLOW) && !(create && (flags & O_EXCL));
    Resolved r = TRY(
        Walk(mounts_, ctx, path, {.follow = follow, .allow_missing = create}));
    const int desc_flags =
        (flags & ~kOpenOnlyFlags) | ((flags & O_PATH) ? 0 : kOLargefile);
    if (!r.node) return r.parent->Create(r.name, desc_flags, mode);
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
    if (type == S_IFREG && r.node->read_only() &&
        (acc != O_RDONLY || (flags & O_TRUNC))) {
      return base::Err(EROFS);
    }
    return r.node->Open(desc_flags, r.path);
  }

  base::Result<struct stat> Stat(const PathContext& ctx, std::string_view path,
                                 bool follow) override {
    Resolved r = TRY(Walk(mounts_, ctx, path, {.follow = follow}));
    return r.node->Stat();
  }

  base::Result<std::string> Readlink(const PathContext& ctx,
                                     std::string_view path) override {
    Resolved r = TRY(Walk(mounts_, ctx, path, {.follow = false}));
    return r.node->Readlink();
  }

  base::Result<void> Access(const PathContext& ctx, std::string_view path,
                            int mode, bool follow, uint32_t uid,
                            uint32_t gid) override {
    if (mode & ~(R_OK | W_OK | X_OK)) return base::Err(EINVAL);
    Resolved r = TRY(Walk(mounts_, ctx, path, {.follow = follow}));
    const struct stat st = TRY(r.node->Stat());
    return CheckAccess(st, mode, uid, gid, r.node->read_only());
  }

  base::Result<std::string> ResolveDirectory(const PathContext& ctx,
                                             std::string_view path) override {
    Resolved r = TRY(Walk(mounts_, ctx, path, {.follow = true}));
    if (r.node->type() != S_IFDIR) return base::Err(ENOTDIR);
    return std::move(r.path);
  }

 private:
  // No filesystem here makes unnamed files: EROFS where writes are
  // refused anyway, EOPNOTSUPP elsewhere (what Linux says for a
  // filesystem without O_TMPFILE support).
  base::Result<std::shared_ptr<FileDescription>> OpenTmpfile(
      const PathContext& ctx, std::string_view path, int flags) {
    if ((flags & O_TMPFILE) != O_TMPFILE || (flags & O_ACCMODE) == O_RDONLY) {
      return base::Err(EINVAL);
    }
    Resolved r = TRY(Walk(mounts_, ctx, path, {.follow = true}));
    if (r.node->type() != S_IFDIR) return base::Err(ENOTDIR);
    return base::Err(r.node->read_only() ? EROFS : EOPNOTSUPP);
  }

  const std::unique_ptr<HostFs> host_;
  DevFs devfs_;
  ProcFs procfs_;
  // Fixed once constructed, so walks read it without a lock.
  MountTable mounts_;
};

}  // namespace

base::Result<std::unique_ptr<Vfs>> Vfs::Create(const Options& options) {
  std::unique_ptr<HostFs> host = TRY(HostFs::Create(options.host_root));
  return std::unique_ptr<Vfs>(new VfsImpl(std::move(host)));
}

}  // namespace vfs
