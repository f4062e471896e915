// tmpfs: a writable filesystem kept entirely in the sentry, whose file
// data lives in pages of the memory file (mm::MemoryFile), so writes never
// reach the host. Regular files, directories and symlinks, with hard
// links, modes, owners and times as Linux's tmpfs. See README.md for the
// design and locking.
#ifndef SENTRY_VFS_TMPFS_H_
#define SENTRY_VFS_TMPFS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include <string_view>
#include <vector>

#include "sentry/vfs/node.h"
#include "sentry/vfs/synthetic.h"

namespace mm {
class MemoryFile;
}

namespace vfs {

namespace tmpfs {
struct FsState;
class Dir;
}  // namespace tmpfs

// st_dev minor of the first tmpfs mount; each further mount takes the next.
inline constexpr unsigned kTmpfsFirstMinor = 40;
inline constexpr long kTmpfsMagic = 0x01021994;  // TMPFS_MAGIC

class Tmpfs : public Filesystem {
 public:
  struct Options {
    unsigned dev_minor = kTmpfsFirstMinor;
    mode_t root_mode = 01777;  // as /tmp
    uint32_t root_uid = 0;
    uint32_t root_gid = 0;
    // Bytes of sentry memory the mount's xattrs may take, counted as
    // Linux's simple_xattr_space (name + value + 40 per attribute); past
    // it setxattr is ENOSPC. Linux's tmpfs bounds them the same way (by
    // nr_inodes) since they live in kernel memory, as ours live in the
    // sentry's heap.
    uint64_t xattr_space = 8 << 20;
  };
  // `memory_file` must outlive every node of this filesystem (open
  // descriptions keep nodes alive after the Tmpfs is gone).
  static std::unique_ptr<Tmpfs> Create(mm::MemoryFile& memory_file,
                                       const Options& options);
  ~Tmpfs() override;
  std::shared_ptr<Node> Root(const PathContext& ctx) override;

  // Memory-file pages held by file data, and live files (for tests).
  uint64_t pages() const;
  uint64_t files() const;
  // A fresh inode number of this filesystem (for an overlay's lower files,
  // so that their numbers and the upper's never meet).
  uint64_t NewIno();

 private:
  friend bool TmpfsIsChildOf(const Node& node, const Tmpfs& fs);
  Tmpfs(std::shared_ptr<tmpfs::FsState> state,
        std::shared_ptr<tmpfs::Dir> root);
  const std::shared_ptr<tmpfs::FsState> state_;
  const std::shared_ptr<tmpfs::Dir> root_;
};

// True for a node of some tmpfs: opening it checks the mode bits.
bool IsTmpfsNode(const Node& node);
// True for a node of the tmpfs `fs`.
bool TmpfsIsChildOf(const Node& node, const Tmpfs& fs);

// For the overlay (overlay.cc), whose upper layer is a tmpfs:
// Copy-up: makes `name` in the tmpfs directory `dir` with the type, mode,
// owner, atime and mtime of `st`, the symlink target `target` and the
// inode number `ino` (from NewIno); empty for a file. EEXIST if the name
// exists, EPERM for types tmpfs cannot hold, EXDEV if `dir` is no tmpfs
// directory.
base::Result<std::shared_ptr<Node>> TmpfsCopyUpChild(Node& dir,
                                                     std::string_view name,
                                                     const struct stat& st,
                                                     std::string_view target,
                                                     uint64_t ino);
// File seals (fcntl(2) F_ADD_SEALS): F_SEAL_SEAL, SHRINK, GROW, WRITE,
// FUTURE_WRITE and Linux 6.3's F_SEAL_EXEC (newer than our headers).
inline constexpr uint32_t kSealExec = 0x0020;
inline constexpr uint32_t kAllSeals = 0x001f | kSealExec;

// memfd_create(2) (memfd.cc): a regular file of no mount (Linux's internal
// shm mount, st_dev 0:1), never linked (st_nlink 0), in the memory file,
// owned by `uid`/`gid`, mode 0777 (0666 if `noexec`), opened O_RDWR. Its
// description's path is "/memfd:NAME (deleted)", as /proc/self/fd shows.
// Seals start as F_SEAL_SEAL unless `allow_sealing`; `noexec` (which
// allows sealing) starts with F_SEAL_EXEC.
std::shared_ptr<FileDescription> TmpfsMemfd(mm::MemoryFile& memory_file,
                                            std::string_view name,
                                            uint32_t uid, uint32_t gid,
                                            bool allow_sealing, bool noexec);
// F_GET_SEALS of a tmpfs file's description; EINVAL for any other file.
base::Result<uint32_t> TmpfsGetSeals(FileDescription& file);
// F_ADD_SEALS: EINVAL for a file that is not on a tmpfs, EPERM once
// F_SEAL_SEAL is set. `seals` holds only kAllSeals bits.
base::Result<void> TmpfsAddSeals(FileDescription& file, uint32_t seals);

// The entries of a tmpfs directory (without "." and ".."), in cookie order.
std::vector<DirEntry> TmpfsList(Node& dir);

}  // namespace vfs

#endif  // SENTRY_VFS_TMPFS_H_
