// procfs's nodes: directories, text files and their descriptions, links.
#include <charconv>
#include <cstring>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/procfs_internal.h"

namespace vfs::procfs {
namespace {

struct stat OwnedStat(uint64_t ino, mode_t mode, Owner owner) {
  struct stat st = SyntheticStat(kProcfsMinor, ino, mode);
  st.st_uid = owner.uid;
  st.st_gid = owner.gid;
  return st;
}

// An open procfs text file. The text is made at open and at each seek
// (see ProcFile); reads and writes only copy.
class TextDescription : public FileDescription, public NodeDescription {
 public:
  TextDescription(int flags, std::shared_ptr<Node> node, std::string path,
                  Generator read, KernelView::Writer writer)
      : FileDescription(flags),
        node_(std::move(node)),
        path_(std::move(path)),
        read_(std::move(read)),
        writer_(std::move(writer)) {}

  // Made at open: an error there (the process is gone) fails the open.
  // Made without mu_, which comes after the memory managers' locks that
  // making the text takes (README.md, lock order).
  base::Result<void> Fill() {
    std::string text = TRY(read_());
    absl::MutexLock lock(&mu_);
    text_ = std::move(text);
    return {};
  }

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    absl::MutexLock lock(&mu_);
    TRY(error_);
    const size_t n = CopyOutLocked(dst, pos_);
    pos_ += n;
    return n;
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    absl::MutexLock lock(&mu_);
    TRY(error_);
    return CopyOutLocked(dst, static_cast<uint64_t>(offset));
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    return WriteAll(src);
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    return WriteAll(src);
  }
  // Linux's seq_lseek: SEEK_SET and SEEK_CUR; the text is made again.
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    base::Result<std::string> text =
        readable() ? read_() : base::Result<std::string>(std::string());
    absl::MutexLock lock(&mu_);
    int64_t pos;
    if (whence == SEEK_SET) {
      pos = offset;
    } else if (whence == SEEK_CUR) {
      if (__builtin_add_overflow(static_cast<int64_t>(pos_), offset, &pos))
        return base::Err(EINVAL);
    } else {
      return base::Err(EINVAL);
    }
    if (pos < 0) return base::Err(EINVAL);
    pos_ = static_cast<uint64_t>(pos);
    if (text) {
      text_ = std::move(*text);
      error_ = {};
    } else {
      error_ = std::unexpected(text.error());
    }
    return pos;
  }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  std::string path() const override { return path_; }
  std::shared_ptr<Node> node() const override { return node_; }

 private:
  size_t CopyOutLocked(std::span<const iovec> dst, uint64_t pos)
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    size_t done = 0;
    for (const iovec& v : dst) {
      if (pos >= text_.size()) break;
      const size_t n = std::min(v.iov_len, text_.size() - pos);
      std::memcpy(v.iov_base, text_.data() + pos, n);
      pos += n;
      done += n;
    }
    return done;
  }
  base::Result<size_t> WriteAll(std::span<const iovec> src) {
    if (!writer_) return base::Err(EINVAL);
    std::string data;
    for (const iovec& v : src)
      data.append(static_cast<const char*>(v.iov_base), v.iov_len);
    TRY(writer_(data));
    return data.size();
  }

  const std::shared_ptr<Node> node_;
  const std::string path_;
  const Generator read_;
  const KernelView::Writer writer_;
  absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
  uint64_t pos_ ABSL_GUARDED_BY(mu_) = 0;
  // A seek that could not make the text (the process is gone): reads
  // fail with it, as Linux's do (ESRCH).
  base::Result<void> error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

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

base::Result<struct stat> ProcDir::Stat() const {
  return OwnedStat(ino_, S_IFDIR | perm_, owner_);
}

base::Result<std::shared_ptr<FileDescription>> ProcDir::Open(
    int flags, const std::string& path) {
  std::vector<DirEntry> entries = {{ino_, DT_DIR, "."}, {ino_, DT_DIR, ".."}};
  List(entries);
  return std::make_shared<SyntheticDirDescription>(flags, shared_from_this(),
                                                   path, std::move(entries));
}

base::Result<std::shared_ptr<Node>> TableDir::Lookup(std::string_view name) {
  for (const TableEntry& e : entries_) {
    if (e.name == name) {
      std::shared_ptr<Node> node = e.make();
      if (!node) return base::Err(ENOENT);
      return node;
    }
  }
  return base::Err(ENOENT);
}

void TableDir::List(std::vector<DirEntry>& out) const {
  for (const TableEntry& e : entries_) out.push_back({e.ino, e.type, e.name});
}

base::Result<struct stat> ProcFile::Stat() const {
  return OwnedStat(ino_, S_IFREG | perm_, owner_);
}

base::Result<void> ProcFile::SetAttr(const AttrChange& change) {
  if (change.mode || change.uid || change.gid || change.atime || change.mtime) {
    return base::Err(EPERM);
  }
  return {};
}

base::Result<std::shared_ptr<FileDescription>> ProcFile::Open(
    int flags, const std::string& path) {
  const int acc = flags & O_ACCMODE;
  KernelView::Writer writer;
  if (acc != O_RDONLY && writer_) writer = TRY(writer_());
  auto desc = std::make_shared<TextDescription>(flags, shared_from_this(), path,
                                                read_, std::move(writer));
  if (acc != O_WRONLY) TRY(desc->Fill());
  return desc;
}

base::Result<struct stat> ProcLink::Stat() const {
  return OwnedStat(ino_, S_IFLNK | perm_, owner_);
}

}  // namespace vfs::procfs
