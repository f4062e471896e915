#include "sentry/vfs/procfs.h"

#include <dirent.h>

#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sentry/vfs/synthetic.h"

namespace vfs {
namespace {

constexpr uint64_t kRootIno = 1;
constexpr uint64_t kSelfIno = 2;

// Inode numbers of per-process files: stable for a pid, distinct across
// pids. `n` is the fd number for fd links.
enum class PidFile : uint64_t { kDir = 1, kExe = 2, kFdDir = 3, kFdLink = 4 };
uint64_t PidIno(int pid, PidFile file, uint64_t n = 0) {
  return (static_cast<uint64_t>(pid) << 32) |
         (static_cast<uint64_t>(file) << 28) | (n & 0x0fffffff);
}

// Linux's name_to_int: decimal digits, no leading zero, fits an int.
std::optional<int> ParseNumber(std::string_view name) {
  if (name.empty() || (name.size() > 1 && name.front() == '0')) {
    return std::nullopt;
  }
  int value;
  auto [end, ec] =
      std::from_chars(name.data(), name.data() + name.size(), value);
  if (ec != std::errc() || end != name.data() + name.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

// A procfs directory. The process pointer is used only during walks (see
// node.h), so a description holding the node never reaches a process that
// has gone.
class ProcDir : public Node, public std::enable_shared_from_this<ProcDir> {
 public:
  ProcDir(const ProcessView* process, uint64_t ino, mode_t perm)
      : process_(process), ino_(ino), perm_(perm) {}

  mode_t type() const override { return S_IFDIR; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(kProcfsMinor, ino_, S_IFDIR | perm_);
  }
  // Linux's procfs answers O_CREAT of a new name with ENOENT.
  base::Result<std::shared_ptr<FileDescription>> Create(
      std::string_view name, int flags, mode_t mode, const Creds& creds,
      const std::string& path) override {
    return base::Err(ENOENT);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    std::vector<DirEntry> entries = {{ino_, DT_DIR, "."}, {ino_, DT_DIR, ".."}};
    List(entries);
    return std::make_shared<SyntheticDirDescription>(flags, shared_from_this(),
                                                     path, std::move(entries));
  }

 protected:
  // Appends this directory's entries (without "." and "..").
  virtual void List(std::vector<DirEntry>& out) const = 0;

  const ProcessView* const process_;

 private:
  const uint64_t ino_;
  const mode_t perm_;
};

// /proc/<pid>/fd/<n>: readlink shows the file's path, following lands on
// the open description itself.
class FdLinkNode : public Node {
 public:
  FdLinkNode(std::shared_ptr<FileDescription> desc, uint64_t ino)
      : desc_(std::move(desc)), ino_(ino) {}
  mode_t type() const override { return S_IFLNK; }
  base::Result<struct stat> Stat() const override {
    // Linux: r-x for a readable file, -wx for a writable one; size 64.
    mode_t perm = 0;
    if (desc_->readable()) perm |= S_IRUSR | S_IXUSR;
    if (desc_->writable()) perm |= S_IWUSR | S_IXUSR;
    return SyntheticStat(kProcfsMinor, ino_, S_IFLNK | perm, 64);
  }
  base::Result<std::string> Readlink() const override { return desc_->path(); }
  std::shared_ptr<FileDescription> Jump() const override { return desc_; }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(ELOOP);
  }

 private:
  const std::shared_ptr<FileDescription> desc_;
  const uint64_t ino_;
};

class FdDir : public ProcDir {
 public:
  explicit FdDir(const ProcessView* process)
      : ProcDir(process, PidIno(process->pid(), PidFile::kFdDir),
                S_IRUSR | S_IXUSR) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    const std::optional<int> fd = ParseNumber(name);
    if (!fd) return base::Err(ENOENT);
    std::shared_ptr<FileDescription> desc = process_->fd(*fd);
    if (!desc) return base::Err(ENOENT);
    return std::make_shared<FdLinkNode>(
        std::move(desc), PidIno(process_->pid(), PidFile::kFdLink, *fd));
  }

 protected:
  // A snapshot at open: an fd opened to list this directory is not in it
  // yet (Linux would show it; see README.md).
  void List(std::vector<DirEntry>& out) const override {
    for (int fd : process_->fds()) {
      out.push_back({PidIno(process_->pid(), PidFile::kFdLink, fd), DT_LNK,
                     std::to_string(fd)});
    }
  }
};

class PidDir : public ProcDir {
 public:
  explicit PidDir(const ProcessView* process)
      : ProcDir(process, PidIno(process->pid(), PidFile::kDir), 0555) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    if (name == "exe") {
      return std::make_shared<SymlinkNode>(
          kProcfsMinor, PidIno(process_->pid(), PidFile::kExe),
          process_->exe_path(), 0);
    }
    if (name == "fd") return std::make_shared<FdDir>(process_);
    return base::Err(ENOENT);
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    out.push_back({PidIno(process_->pid(), PidFile::kExe), DT_LNK, "exe"});
    out.push_back({PidIno(process_->pid(), PidFile::kFdDir), DT_DIR, "fd"});
  }
};

class RootDir : public ProcDir {
 public:
  explicit RootDir(const ProcessView* process)
      : ProcDir(process, kRootIno, 0555) {}

  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    if (!process_) return base::Err(ENOENT);
    const std::string pid = std::to_string(process_->pid());
    if (name == "self") {
      return std::make_shared<SymlinkNode>(kProcfsMinor, kSelfIno, pid, 0);
    }
    if (name == pid) return std::make_shared<PidDir>(process_);
    return base::Err(ENOENT);
  }

 protected:
  void List(std::vector<DirEntry>& out) const override {
    if (!process_) return;
    out.push_back({kSelfIno, DT_LNK, "self"});
    out.push_back({PidIno(process_->pid(), PidFile::kDir), DT_DIR,
                   std::to_string(process_->pid())});
  }
};

}  // namespace

std::shared_ptr<Node> ProcFs::Root(const PathContext& ctx) {
  return std::make_shared<RootDir>(ctx.process);
}

}  // namespace vfs
