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

#include "sentry/vfs/node.h"

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

 private:
  Tmpfs(std::shared_ptr<tmpfs::FsState> state,
        std::shared_ptr<tmpfs::Dir> root);
  const std::shared_ptr<tmpfs::FsState> state_;
  const std::shared_ptr<tmpfs::Dir> root_;
};

// True for a node of some tmpfs: opening it checks the mode bits.
bool IsTmpfsNode(const Node& node);

}  // namespace vfs

#endif  // SENTRY_VFS_TMPFS_H_
