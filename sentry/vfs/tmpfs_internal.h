// tmpfs internals, shared by tmpfs.cc (inodes, directories) and
// tmpfs_file.cc (regular file data, open descriptions).
//
// Locks (README.md has the whole order):
//   description mu_  ->  File::data_mu_  ->  FsState::mu  ->  MemoryFile::mu_
// FsState::mu is one lock per mount for the whole namespace and every
// inode's metadata, so rename and link see all the directories they touch
// consistently; it is never held while file data is copied.
#ifndef SENTRY_VFS_TMPFS_INTERNAL_H_
#define SENTRY_VFS_TMPFS_INTERNAL_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/mm/mappable.h"
#include "sentry/mm/memory_file.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/synthetic.h"
#include "sentry/vfs/tmpfs.h"

namespace pipes {
class Pipe;
}

namespace vfs::tmpfs {

struct FsState {
  FsState(mm::MemoryFile& memory_file, dev_t dev, uint64_t xattr_space)
      : mf(memory_file), dev(dev), xattr_space(xattr_space) {}
  mm::MemoryFile& mf;
  const dev_t dev;
  absl::Mutex mu;  // the namespace and all inode metadata (xattrs too)
  std::atomic<uint64_t> next_ino{1};
  std::atomic<uint64_t> live{0};   // inodes alive
  std::atomic<uint64_t> pages{0};  // memory-file pages of file data
  // Sentry memory the mount's xattrs may take (Linux's free_ispace), and
  // what they take now. Charged under `mu`; an inode's destructor gives
  // its share back without it (nobody else can see the inode then).
  const uint64_t xattr_space;
  std::atomic<uint64_t> xattr_used{0};
};

timespec Now();

// What one xattr costs its mount (Linux's simple_xattr_space), and what a
// whole set does.
uint64_t XattrSpace(std::string_view name, std::string_view value);
uint64_t XattrSpace(const std::map<std::string, std::string, std::less<>>& x);

class Inode : public Node, public std::enable_shared_from_this<Inode> {
 public:
  // `ino` 0 takes the next number; an overlay's copy-up passes the number
  // the file already had (from FsState::next_ino too, so none repeats).
  Inode(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid, uint32_t gid,
        uint64_t ino = 0);
  ~Inode() override;
  bool checks_modes() const override { return true; }
  mode_t type() const override { return type_; }
  base::Result<struct stat> Stat() const override;
  base::Result<void> SetAttr(const AttrChange& change) override;
  base::Result<struct statfs> Statfs() const override;
  // tmpfs_xattr.cc
  base::Result<std::string> GetXattr(const std::string& name) const override;
  base::Result<std::vector<std::string>> ListXattr() const override;
  base::Result<void> SetXattr(const std::string& name, std::string_view value,
                              int flags) override;
  base::Result<void> RemoveXattr(const std::string& name) override;
  std::optional<timespec> BirthTime() const override { return btime_; }
  base::Result<uint32_t> InodeFlags() const override;
  base::Result<void> SetInodeFlags(uint32_t flags) override;

  FsState& fs() const { return *fs_; }
  const std::shared_ptr<FsState>& fs_ptr() const { return fs_; }
  // Sets the chosen times to now.
  void TouchLocked(bool atime, bool mtime, bool ctime)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  // relatime: atime moves only if it is not newer than mtime or ctime,
  // or is a day old, as Linux's default.
  void Accessed();

 protected:
  // Adds what only this type knows (size, blocks) to a stat.
  virtual void FillStatLocked(struct stat& st) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu) {}

  friend class Dir;
  const std::shared_ptr<FsState> fs_;
  const mode_t type_;
  const uint64_t ino_;
  mode_t perm_ ABSL_GUARDED_BY(fs_->mu);  // 07777
  uint32_t uid_ ABSL_GUARDED_BY(fs_->mu);
  uint32_t gid_ ABSL_GUARDED_BY(fs_->mu);
  nlink_t nlink_ ABSL_GUARDED_BY(fs_->mu) = 0;  // names (+ "." for dirs)
  timespec atime_ ABSL_GUARDED_BY(fs_->mu);
  timespec mtime_ ABSL_GUARDED_BY(fs_->mu);
  timespec ctime_ ABSL_GUARDED_BY(fs_->mu);
  // Extended attributes, by name (Linux's simple_xattrs), charged to
  // FsState::xattr_used.
  std::map<std::string, std::string, std::less<>> xattrs_
      ABSL_GUARDED_BY(fs_->mu);
  const timespec btime_;  // when the inode was made (statx's btime)
  // FS_IOC_SETFLAGS: FS_NODUMP_FL, FS_NOATIME_FL (which Accessed obeys).
  uint32_t inode_flags_ ABSL_GUARDED_BY(fs_->mu) = 0;
  // An O_TMPFILE file made without O_EXCL and not yet linked: Link may
  // give it its first name (Linux's I_LINKABLE).
  bool linkable_ ABSL_GUARDED_BY(fs_->mu) = false;
};

class Dir : public Inode {
 public:
  // `parent` null: a root, whose ".." is itself.
  Dir(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid, uint32_t gid,
      const std::shared_ptr<Dir>& parent, uint64_t ino = 0);

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override;
  base::Result<std::shared_ptr<FileDescription>> Create(
      std::string_view name, int flags, mode_t mode, const Creds& creds,
      const std::string& path) override;
  base::Result<void> MakeChild(std::string_view name, mode_t mode,
                               const Creds& creds,
                               std::string_view target) override;
  base::Result<std::shared_ptr<FileDescription>> CreateUnnamed(
      int flags, mode_t mode, const Creds& creds, const std::string& path,
      bool linkable) override;
  base::Result<void> Link(std::string_view name, Node& target) override;
  base::Result<void> Remove(std::string_view name, const Node& child) override;
  base::Result<void> Rename(std::string_view name, Node& new_dir,
                            std::string_view new_name, unsigned flags) override;
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;
  // The overlay's copy-up (TmpfsCopyUpChild in tmpfs.h).
  base::Result<std::shared_ptr<Node>> MakeCopy(std::string_view name,
                                               const struct stat& st,
                                               std::string_view target,
                                               uint64_t ino);

  // Directory offsets: 0 ".", 1 "..", then each entry's cookie, given at
  // insertion and never reused, so an offset stays valid across unlinks.
  static constexpr int64_t kFirstCookie = 2;
  struct Listed {
    int64_t next;  // the offset after this entry (its d_off)
    DirEntry entry;
  };
  // Up to `max` entries from offset `pos` on.
  std::vector<Listed> List(int64_t pos, size_t max);

 private:
  struct Child {
    std::string name;
    std::shared_ptr<Inode> node;
  };
  base::Result<std::shared_ptr<Inode>> NewChildLocked(std::string_view name,
                                                      mode_t mode,
                                                      const Creds& creds,
                                                      std::string_view target)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  // The group of a new child of `*mode` made by `creds`, adjusting the
  // set-group-ID bit in `*mode` as Linux's inode_init_owner.
  uint32_t ChildGroupLocked(mode_t* mode, const Creds& creds) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  std::shared_ptr<Inode> FindLocked(std::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  void InsertLocked(std::string_view name, std::shared_ptr<Inode> node)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  // Removes the entry and returns its node, for the caller to drop after
  // unlocking (the last reference frees the file's pages).
  std::shared_ptr<Inode> EraseLocked(std::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  bool EmptyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu) {
    return by_name_.empty();
  }
  // Is `this` `dir` or one of its ancestors?
  bool IsAncestorOfLocked(const Dir* dir) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  // Unlinks `victim` (the entry is already gone): link counts and ctime.
  void DropLinkLocked(Inode& victim) ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  base::Result<void> ExchangeLocked(std::string_view name, Dir& new_dir,
                                    std::string_view new_name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);
  void FillStatLocked(struct stat& st) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fs_->mu);

  std::map<int64_t, Child> by_cookie_ ABSL_GUARDED_BY(fs_->mu);
  std::map<std::string, int64_t, std::less<>> by_name_ ABSL_GUARDED_BY(fs_->mu);
  int64_t next_cookie_ ABSL_GUARDED_BY(fs_->mu) = kFirstCookie;
  // Empty for a root and for a removed directory: ".." is then itself.
  std::weak_ptr<Dir> parent_ ABSL_GUARDED_BY(fs_->mu);
};

class Symlink : public Inode {
 public:
  Symlink(std::shared_ptr<FsState> fs, uint32_t uid, uint32_t gid,
          std::string target, uint64_t ino = 0)
      : Inode(std::move(fs), S_IFLNK | 0777, uid, gid, ino),
        target_(std::move(target)) {}
  base::Result<std::string> Readlink() const override { return target_; }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(ELOOP);  // the VFS never opens a symlink itself
  }

 private:
  void FillStatLocked(struct stat& st) const override {
    st.st_size = static_cast<off_t>(target_.size());
  }
  const std::string target_;
};

// A FIFO or a socket file (mknod S_IFIFO/S_IFSOCK). Opening a FIFO gives
// an end of the one pipe all its opens share (sentry/pipe: pipes::OpenFifo,
// which also says when open(2) must wait for the other side); opening a
// socket file is ENXIO.
class Special : public Inode {
 public:
  Special(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid,
          uint32_t gid)
      : Inode(std::move(fs), mode, uid, gid) {}
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;

 private:
  absl::Mutex pipe_mu_;  // a leaf
  std::weak_ptr<pipes::Pipe> pipe_ ABSL_GUARDED_BY(pipe_mu_);
};

// A regular file: its data is a sparse map of memory-file pages, made on
// first write and freed by truncation or when the last reference (a name,
// an open description, a walk) goes.
class File : public Inode {
 public:
  File(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid, uint32_t gid,
       uint64_t ino = 0)
      : Inode(std::move(fs), mode, uid, gid, ino) {}
  ~File() override;

  base::Result<struct stat> Stat() const override;
  base::Result<void> SetAttr(const AttrChange& change) override;
  base::Result<void> Allocate(uint64_t offset, uint64_t length,
                              int mode) override;
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;

  base::Result<size_t> Read(std::span<const iovec> dst, int64_t offset);
  // Writes at `offset`, or at the end if `append`; *end is where it
  // stopped. A short count if the memory file runs out (ENOSPC if nothing
  // was written).
  base::Result<size_t> Write(std::span<const iovec> src, int64_t offset,
                             bool append, int64_t* end);
  // lseek's SEEK_END, SEEK_DATA (hole=false) and SEEK_HOLE.
  int64_t Size();

  // File seals (F_GET_SEALS/F_ADD_SEALS, memfd_create(2)): Write, SetAttr
  // and Allocate refuse what they forbid (EPERM), as Linux's shmem.
  uint32_t Seals();
  // `seals` holds only valid bits (the syscall checks). EPERM once
  // F_SEAL_SEAL is set.
  base::Result<void> AddSeals(uint32_t seals);
  // memfd_create: the seals of a new file that may be sealed.
  void SetInitialSeals(uint32_t seals);
  base::Result<int64_t> SeekData(int64_t offset, bool hole);

  // MAP_SHARED (mm::Mappable::PinPages): the memory-file runs of pages
  // [offset, offset + len), holes filled (all or nothing: ENOMEM when the
  // memory file is full), each run with one more reference for the caller.
  base::Result<std::vector<mm::BackingRun>> PinPages(uint64_t offset,
                                                     uint64_t len);
  // A shared mapping that may write (Linux's VM_SHARED|VM_MAYWRITE): while
  // `mapping` lives, F_SEAL_WRITE is EBUSY, as Linux's
  // mapping_writably_mapped.
  void AddWritableMapping(std::weak_ptr<const void> mapping);
  // An address space that maps the file's pages (mm::Mappable::AddMapper):
  // truncation, growth by truncate or fallocate, and punched holes call
  // its Invalidate (after data_mu_ is released), so that no mapping keeps
  // pages the file dropped.
  void AddMapper(std::weak_ptr<mm::MappingSpace> space);

 private:
  // The live mappers, to call once data_mu_ is released.
  std::vector<std::shared_ptr<mm::MappingSpace>> MappersLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(data_mu_);
  // Tells `mappers` that pages [start, end) changed (nothing if empty).
  void Invalidate(const std::vector<std::shared_ptr<mm::MappingSpace>>& mappers,
                  uint64_t start, uint64_t end) const;
  void TruncateLocked(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(data_mu_);
  // fallocate(PUNCH_HOLE): frees the pages wholly inside [start, end) and
  // zeroes the rest of the range. Every page a hole punch frees is freed
  // here.
  void PunchHoleLocked(uint64_t start, uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(data_mu_);
  // Gives pages [first, last) that are holes fresh pages; all or nothing
  // (false: the memory file is full, and nothing was added).
  bool FillHolesLocked(uint64_t first, uint64_t last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(data_mu_);
  // The memory-file offset of page `index`, allocating it if needed.
  base::Result<uint64_t> PageLocked(uint64_t index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(data_mu_);

  mutable absl::Mutex data_mu_;
  std::map<uint64_t, uint64_t> pages_ ABSL_GUARDED_BY(data_mu_);
  uint64_t size_ ABSL_GUARDED_BY(data_mu_) = 0;
  // As Linux's tmpfs: a file opened by name is sealed against sealing;
  // memfd_create(MFD_ALLOW_SEALING) clears it.
  uint32_t seals_ ABSL_GUARDED_BY(data_mu_) = F_SEAL_SEAL;
  std::vector<std::weak_ptr<const void>> writable_mappings_
      ABSL_GUARDED_BY(data_mu_);
  std::vector<std::weak_ptr<mm::MappingSpace>> mappers_
      ABSL_GUARDED_BY(data_mu_);
};

}  // namespace vfs::tmpfs

#endif  // SENTRY_VFS_TMPFS_INTERNAL_H_
