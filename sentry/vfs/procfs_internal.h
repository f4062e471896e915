// procfs's building blocks (procfs.h is the interface): the walker a tree
// is made for, directories, text files and links, inode numbers, and the
// generators that turn KernelView values into Linux's text.
#ifndef SENTRY_VFS_PROCFS_INTERNAL_H_
#define SENTRY_VFS_PROCFS_INTERNAL_H_

#include <dirent.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sentry/vfs/node.h"
#include "sentry/vfs/proc_view.h"
#include "sentry/vfs/synthetic.h"
#include "sentry/vfs/vfs.h"

namespace vfs::procfs {

// Who walks /proc. `kernel` is null for walks without a process (sentry
// internal ones): then /proc is empty.
struct Walker {
  const KernelView* kernel = nullptr;
  const Vfs* vfs = nullptr;  // for mounts and mountinfo
  int pid = 0, tid = 0;
  Creds creds;
  // Linux's ptrace_may_access(PTRACE_MODE_READ) approximated by ids:
  // root, or the owner of the process.
  bool MayRead(uint32_t owner_uid) const {
    return creds.uid == 0 || creds.uid == owner_uid;
  }
};

struct Owner {
  uint32_t uid = 0, gid = 0;
};

// Inode numbers: fixed small numbers for the top of /proc, and for the
// files of process (or thread, `task`) `id`: id in the high half, the file
// kind, and `n` (an fd or a namespace) at the bottom.
inline constexpr uint64_t kRootIno = 1;
inline constexpr uint64_t kSelfIno = 2;
inline constexpr uint64_t kThreadSelfIno = 3;
inline constexpr uint64_t kTopFileIno = 16;    // + index (procfs.cc)
inline constexpr uint64_t kSysIno = 0x100000;  // + index (procfs_sys.cc)
inline constexpr uint64_t kSysvipcIno = 0x200000;  // + index (sysvipc.cc)
inline uint64_t PidIno(int id, bool task, unsigned file, uint64_t n = 0) {
  return (static_cast<uint64_t>(id) << 32) | (task ? (1ull << 31) : 0) |
         (static_cast<uint64_t>(file & 0x7ff) << 20) | (n & 0xfffff);
}

// Linux's name_to_int: decimal digits, no leading zero, fits an int.
std::optional<int> ParseNumber(std::string_view name);

// A procfs directory: r-x for whom `perm` says, owned by `owner`. Its
// listing is taken at open (SyntheticDirDescription).
class ProcDir : public Node, public std::enable_shared_from_this<ProcDir> {
 public:
  ProcDir(Walker w, uint64_t ino, mode_t perm, Owner owner = {})
      : w_(std::move(w)), ino_(ino), perm_(perm), owner_(owner) {}

  mode_t type() const override { return S_IFDIR; }
  bool checks_modes() const override { return true; }
  base::Result<struct stat> Stat() const override;
  // Linux's procfs answers O_CREAT of a new name with ENOENT.
  base::Result<std::shared_ptr<FileDescription>> Create(
      std::string_view name, int flags, mode_t mode, const Creds& creds,
      const std::string& path) override {
    return base::Err(ENOENT);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;

 protected:
  // Appends this directory's entries (without "." and "..").
  virtual void List(std::vector<DirEntry>& out) const = 0;

  const Walker w_;
  const uint64_t ino_;

 private:
  const mode_t perm_;
  const Owner owner_;
};

// A directory with a fixed set of children.
struct TableEntry {
  std::string name;
  uint64_t ino;
  uint8_t type;  // DT_DIR, DT_REG, DT_LNK
  std::function<std::shared_ptr<Node>()> make;
};
class TableDir : public ProcDir {
 public:
  TableDir(Walker w, uint64_t ino, mode_t perm, Owner owner,
           std::vector<TableEntry> entries)
      : ProcDir(std::move(w), ino, perm, owner), entries_(std::move(entries)) {}
  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override;

 protected:
  void List(std::vector<DirEntry>& out) const override;

 private:
  const std::vector<TableEntry> entries_;
};

// A text file: `read` makes its contents when it is opened for reading
// and again at each lseek (Linux's seq_file regenerates after a seek to
// 0), never inside read(2), which runs with the reader's memory held.
// `writer` (made when it is opened for writing) takes each write(2);
// without one a write is EINVAL, as for Linux's read-only proc files.
using Generator = std::function<base::Result<std::string>()>;
using WriterFactory = std::function<base::Result<KernelView::Writer>()>;
class ProcFile : public Node, public std::enable_shared_from_this<ProcFile> {
 public:
  ProcFile(uint64_t ino, mode_t perm, Owner owner, Generator read,
           WriterFactory writer = nullptr)
      : ino_(ino),
        perm_(perm),
        owner_(owner),
        read_(std::move(read)),
        writer_(std::move(writer)) {}

  mode_t type() const override { return S_IFREG; }
  bool checks_modes() const override { return true; }
  base::Result<struct stat> Stat() const override;
  // Only O_TRUNC's truncation (ignored, as proc_sys_setattr does).
  base::Result<void> SetAttr(const AttrChange& change) override;
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;

 private:
  const uint64_t ino_;
  const mode_t perm_;
  const Owner owner_;
  const Generator read_;
  const WriterFactory writer_;
};

// A symlink (size 0, lrwxrwxrwx) owned by `owner`; with `jump`, following
// it lands on that open file (the fd links).
class ProcLink : public Node {
 public:
  ProcLink(uint64_t ino, std::string target, Owner owner = {},
           mode_t perm = 0777, std::shared_ptr<FileDescription> jump = nullptr)
      : ino_(ino),
        target_(std::move(target)),
        owner_(owner),
        perm_(perm),
        jump_(std::move(jump)) {}
  mode_t type() const override { return S_IFLNK; }
  base::Result<struct stat> Stat() const override;
  base::Result<std::string> Readlink() const override { return target_; }
  std::shared_ptr<FileDescription> Jump() const override { return jump_; }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(ELOOP);  // the VFS never opens a symlink itself
  }

 private:
  const uint64_t ino_;
  const std::string target_;
  const Owner owner_;
  const mode_t perm_;
  const std::shared_ptr<FileDescription> jump_;
};

// /proc/<pid> (and /proc/<pid>/task/<tid> with `tid`): procfs_pid.cc.
base::Result<std::shared_ptr<Node>> MakePidDir(const Walker& w, int pid,
                                               int tid);
// /proc/<pid>/mem: procfs_mem.cc.
std::shared_ptr<Node> MakeMemNode(const Walker& w, int pid, uint64_t ino,
                                  Owner owner);
// /proc/sysvipc: procfs_sysvipc.cc.
std::shared_ptr<Node> MakeSysvipcDir(const Walker& w);
// /proc/sys: procfs_sys.cc.
std::shared_ptr<Node> MakeSysDir(const Walker& w);

// Text generators. procfs_status.cc: stat, status, statm of process `pid`
// (`tid` 0) or one thread.
base::Result<std::string> PidStat(const Walker& w, int pid, int tid);
base::Result<std::string> PidStatus(const Walker& w, int pid, int tid);
base::Result<std::string> PidStatm(const Walker& w, int pid);
// procfs_pid_files.cc.
base::Result<std::string> PidMaps(const Walker& w, int pid, bool smaps);
base::Result<std::string> PidArgs(const Walker& w, int pid, bool environ);
// /proc/<pid>/auxv: the pairs up to AT_NULL, read from the initial stack.
base::Result<std::string> PidAuxv(const Walker& w, int pid);
base::Result<std::string> PidLimits(const Walker& w, int pid);
std::string Mounts(const Walker& w, int pid, bool mountinfo);
base::Result<std::string> FdInfo(const Walker& w, int pid, int fd);
// procfs_system.cc: /proc/meminfo ... by name; nullopt if not one.
struct TopFile {
  const char* name;
  base::Result<std::string> (*make)(const Walker& w);
};
const std::vector<TopFile>& TopFiles();

}  // namespace vfs::procfs

#endif  // SENTRY_VFS_PROCFS_INTERNAL_H_
