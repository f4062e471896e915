// Pieces shared by the filesystems the sentry makes up (devfs, procfs):
// their stat fields, fixed symlinks and directory listings.
#ifndef SENTRY_VFS_SYNTHETIC_H_
#define SENTRY_VFS_SYNTHETIC_H_

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "sentry/vfs/file_description.h"
#include "sentry/vfs/node.h"

namespace vfs {

// st_dev of each synthetic filesystem: anonymous device numbers (major 0),
// as Linux gives to filesystems without a disk.
inline constexpr unsigned kDevfsMinor = 6;
inline constexpr unsigned kProcfsMinor = 22;

// A stat for a synthetic file: owned by root, nlink 2 for directories and
// 1 otherwise, all times the boot time.
struct stat SyntheticStat(unsigned dev_minor, uint64_t ino, mode_t mode,
                          off_t size = 0, dev_t rdev = 0);

// A symlink with a fixed target. `size` is what lstat reports: the
// target's length for devfs, 0 for procfs, as on Linux.
class SymlinkNode : public Node {
 public:
  SymlinkNode(unsigned dev_minor, uint64_t ino, std::string target, off_t size)
      : dev_minor_(dev_minor),
        ino_(ino),
        target_(std::move(target)),
        size_(size) {}
  mode_t type() const override { return S_IFLNK; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(dev_minor_, ino_, S_IFLNK | 0777, size_);
  }
  base::Result<std::string> Readlink() const override { return target_; }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(ELOOP);  // the VFS never opens a symlink itself
  }

 private:
  const unsigned dev_minor_;
  const uint64_t ino_;
  const std::string target_;
  const off_t size_;
};

struct DirEntry {
  uint64_t ino;
  uint8_t type;  // DT_DIR, DT_LNK, DT_CHR ...
  std::string name;
};

// Writes one linux_dirent64 record at the start of `buf`; returns its
// length, or 0 if it does not fit.
size_t WriteDirent64(std::span<uint8_t> buf, const DirEntry& entry,
                     int64_t next_offset);

// An open synthetic directory. The listing is taken at open; an offset is
// an index into it (as Linux's dcache_readdir), so SEEK_SET 0 rewinds.
class SyntheticDirDescription : public FileDescription {
 public:
  SyntheticDirDescription(int flags, std::shared_ptr<Node> node,
                          std::string path, std::vector<DirEntry> entries)
      : FileDescription(flags),
        node_(std::move(node)),
        path_(std::move(path)),
        entries_(std::move(entries)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return base::Err(EISDIR);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return base::Err(EISDIR);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override;
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  base::Result<size_t> Getdents64(std::span<uint8_t> buf) override;
  std::string path() const override { return path_; }

 private:
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const std::vector<DirEntry> entries_;
  absl::Mutex mu_;
  int64_t index_ ABSL_GUARDED_BY(mu_) = 0;  // next entry to return
};

}  // namespace vfs

#endif  // SENTRY_VFS_SYNTHETIC_H_
