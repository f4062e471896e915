// The overlay root: lookup, stat, open, merged listings and copy-up. The
// calls that change names are in overlay_namei.cc.
#include "sentry/vfs/overlay.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstring>

#include "sentry/mm/memory_file.h"
#include "sentry/vfs/overlay_internal.h"

namespace vfs {
namespace overlay {
namespace {

constexpr size_t kCopyChunk = 64 * 1024;

bool AllZero(const uint8_t* p, size_t n) {
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

// Copies a regular file's bytes from `lower` to the new, empty `upper`;
// runs of zeros are left as holes, and the size is set at the end.
base::Result<void> CopyData(Node& lower, Node& upper, const struct stat& st) {
  auto src = TRY(lower.Open(O_RDONLY, ""));
  auto dst = TRY(upper.Open(O_WRONLY, ""));
  std::vector<uint8_t> buf(kCopyChunk);
  int64_t off = 0;
  for (;;) {
    iovec in{buf.data(), buf.size()};
    const size_t n = TRY(src->PRead({&in, 1}, off));
    if (n == 0) break;
    if (!AllZero(buf.data(), n)) {
      size_t done = 0;
      while (done < n) {
        iovec out{buf.data() + done, n - done};
        const size_t w = TRY(dst->PWrite({&out, 1}, off + done));
        if (w == 0) return base::Err(ENOSPC);
        done += w;
      }
    }
    off += static_cast<int64_t>(n);
  }
  // The lower size as read (a host file may have changed since the stat).
  TRY(upper.SetAttr({.size = static_cast<uint64_t>(off)}));
  return upper.SetAttr({.atime = st.st_atim, .mtime = st.st_mtim});
}

// Every linux_dirent64 record of an open directory, "." and ".." left out.
base::Result<std::vector<DirEntry>> ReadAllEntries(FileDescription& dir) {
  std::vector<DirEntry> out;
  std::vector<uint8_t> buf(32 * 1024);
  for (;;) {
    const size_t n = TRY(dir.Getdents64(buf));
    if (n == 0) return out;
    for (size_t pos = 0; pos + 19 < n;) {
      uint64_t ino;
      uint16_t reclen;
      std::memcpy(&ino, &buf[pos], 8);
      std::memcpy(&reclen, &buf[pos + 16], 2);
      if (reclen < 20 || pos + reclen > n) return base::Err(EIO);
      const uint8_t type = buf[pos + 18];
      const char* name = reinterpret_cast<const char*>(&buf[pos + 19]);
      std::string s(name, strnlen(name, reclen - 19));
      if (s != "." && s != "..") out.push_back({ino, type, std::move(s)});
      pos += reclen;
    }
  }
}

// An open lower file: I/O goes to the lower description; fstat and the
// fd calls (fchmod...: a copy-up) go to the overlay node, so the fd shows
// the overlay's st_dev and st_ino, as a stat by path does.
class LowerFileDescription : public FileDescription, public NodeDescription {
 public:
  LowerFileDescription(int flags, std::shared_ptr<FileDescription> lower,
                       std::shared_ptr<Node> node)
      : FileDescription(flags),
        lower_(std::move(lower)),
        node_(std::move(node)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return lower_->Read(dst);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return lower_->PRead(dst, offset);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    return lower_->Seek(offset, whence);
  }
  base::Result<size_t> Getdents64(std::span<uint8_t> buf) override {
    return lower_->Getdents64(buf);
  }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  MmapKind mmap_kind() const override { return lower_->mmap_kind(); }
  std::string path() const override { return lower_->path(); }
  std::shared_ptr<Node> node() const override { return node_; }

 private:
  const std::shared_ptr<FileDescription> lower_;
  const std::shared_ptr<Node> node_;
};

}  // namespace

uint64_t State::LowerIno(dev_t d, ino_t i) {
  absl::MutexLock lock(&ino_mu);
  auto [it, fresh] = lower_inos.try_emplace({d, i}, 0);
  if (fresh) it->second = upper->NewIno();
  return it->second;
}

bool State::IsWhiteoutLocked(uint64_t dir_ino, std::string_view name) const {
  auto it = whiteouts.find(dir_ino);
  return it != whiteouts.end() && it->second.find(name) != it->second.end();
}

bool State::EraseWhiteoutLocked(uint64_t dir_ino, std::string_view name) {
  auto it = whiteouts.find(dir_ino);
  if (it == whiteouts.end()) return false;
  auto n = it->second.find(name);
  if (n == it->second.end()) return false;
  it->second.erase(n);
  if (it->second.empty()) whiteouts.erase(it);
  return true;
}

uint64_t UpperIno(const Node& upper) {
  auto st = upper.Stat();
  return st ? st->st_ino : 0;  // tmpfs Stat does not fail
}

base::Result<struct stat> ONode::Stat() const {
  if (std::shared_ptr<Node> up = upper()) {
    struct stat st = TRY(up->Stat());
    // As overlayfs: a merged directory's link count is unknown, and 1
    // says so to find(1) and friends.
    if (type_ == S_IFDIR && lower_) st.st_nlink = 1;
    return st;
  }
  struct stat st = TRY(lower_->Stat());
  st.st_ino = st_->LowerIno(st.st_dev, st.st_ino);
  st.st_dev = st_->dev;
  return st;
}

base::Result<std::shared_ptr<Node>> ONode::Lookup(std::string_view name) {
  absl::ReaderMutexLock lock(&st_->mu);
  return std::shared_ptr<Node>(TRY(LookupLocked(name)));
}

base::Result<std::shared_ptr<ONode>> ONode::LookupLocked(
    std::string_view name) {
  if (type_ != S_IFDIR) return base::Err(ENOTDIR);
  std::shared_ptr<Node> up = upper();
  std::shared_ptr<Node> uc, lc;
  uint64_t up_ino = 0;
  if (up) {
    up_ino = UpperIno(*up);
    auto r = up->Lookup(name);
    if (r) {
      uc = std::move(*r);
    } else if (r.error() != base::Errno(ENOENT)) {
      return std::unexpected(r.error());
    }
  }
  const bool lower_visible =
      lower_ && !(up && (st_->opaque.count(up_ino) ||
                         st_->IsWhiteoutLocked(up_ino, name)));
  // An upper non-directory hides the lower name; an upper directory
  // merges with a lower directory unless it is opaque.
  if (lower_visible && (!uc || (uc->type() == S_IFDIR &&
                                !st_->opaque.count(UpperIno(*uc))))) {
    auto r = lower_->Lookup(name);
    if (r) {
      lc = std::move(*r);
      if (uc && lc->type() != S_IFDIR) lc = nullptr;
    } else if (r.error() != base::Errno(ENOENT) || !uc) {
      return std::unexpected(r.error());
    }
  }
  if (!uc && !lc) return base::Err(ENOENT);
  const mode_t type = uc ? uc->type() : lc->type();
  return std::make_shared<ONode>(st_, shared_from_this(), std::string(name),
                                 type, std::move(uc), std::move(lc));
}

base::Result<std::vector<DirEntry>> ONode::ListLocked() {
  std::vector<DirEntry> out;
  std::set<std::string, std::less<>> seen;
  std::shared_ptr<Node> up = upper();
  uint64_t up_ino = 0;
  if (up) {
    up_ino = UpperIno(*up);
    for (DirEntry& e : TmpfsList(*up)) {
      seen.insert(e.name);
      out.push_back(std::move(e));
    }
  }
  if (!lower_ || (up && st_->opaque.count(up_ino))) return out;
  auto dir = TRY(lower_->Open(O_RDONLY | O_DIRECTORY, ""));
  const dev_t lower_dev = TRY(lower_->Stat()).st_dev;
  for (DirEntry& e : TRY(ReadAllEntries(*dir))) {
    if (seen.count(e.name) || (up && st_->IsWhiteoutLocked(up_ino, e.name))) {
      continue;
    }
    // d_ino is the lower's number: map it as Stat does (a host mount point
    // differs, as on Linux, where d_ino is the covered directory's).
    e.ino = st_->LowerIno(lower_dev, e.ino);
    out.push_back(std::move(e));
  }
  return out;
}

base::Result<std::shared_ptr<Node>> ONode::CopyUpLocked(bool data)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {  // parent_->st_ is st_
  if (std::shared_ptr<Node> up = upper()) return up;
  if (!parent_) return base::Err(EIO);  // the root always has its upper
  std::shared_ptr<Node> parent_up = TRY(parent_->CopyUpLocked(true));
  // Removed since this node was looked up: nothing to copy.
  if (st_->IsWhiteoutLocked(UpperIno(*parent_up), name_)) {
    return base::Err(ENOENT);
  }
  // Copied up meanwhile through another node of the same name.
  if (auto existing = parent_up->Lookup(name_); existing) {
    SetUpper(*existing);
    return *existing;
  }
  const struct stat st = TRY(lower_->Stat());
  // A file with several lower names loses them (as overlayfs without
  // index=on): the copy is a file of its own, with a number of its own.
  const uint64_t ino = type_ != S_IFDIR && st.st_nlink > 1
                           ? st_->upper->NewIno()
                           : st_->LowerIno(st.st_dev, st.st_ino);
  std::string target;
  if (type_ == S_IFLNK) target = TRY(lower_->Readlink());
  std::shared_ptr<Node> up =
      TRY(TmpfsCopyUpChild(*parent_up, name_, st, target, ino));
  if (type_ == S_IFREG && data && st.st_size > 0) {
    if (auto r = CopyData(*lower_, *up, st); !r) {
      (void)parent_up->Remove(name_, *up);
      return std::unexpected(r.error());
    }
  }
  if (auto r = CopyXattrs(*lower_, *up); !r) {
    (void)parent_up->Remove(name_, *up);
    return std::unexpected(r.error());
  }
  SetUpper(up);
  return up;
}

base::Result<std::string> ONode::Readlink() const {
  if (std::shared_ptr<Node> up = upper()) return up->Readlink();
  return lower_->Readlink();
}

base::Result<struct statfs> ONode::Statfs() const {
  struct statfs s = TRY(st_->upper->Root({})->Statfs());
  s.f_type = kOverlayMagic;
  return s;
}

base::Result<std::shared_ptr<FileDescription>> ONode::Open(
    int flags, const std::string& path) {
  if (type_ == S_IFDIR) {
    std::shared_ptr<Node> up = upper();
    if (!lower_) return up->Open(flags, path);
    std::vector<DirEntry> entries;
    {
      absl::ReaderMutexLock lock(&st_->mu);
      entries = TRY(ListLocked());
    }
    const uint64_t self = TRY(Stat()).st_ino;
    const uint64_t parent = parent_ ? TRY(parent_->Stat()).st_ino : self;
    entries.insert(entries.begin(), {{self, DT_DIR, "."},
                                     {parent, DT_DIR, ".."}});
    return std::make_shared<SyntheticDirDescription>(
        flags, shared_from_this(), path, std::move(entries));
  }
  if (type_ == S_IFLNK) return base::Err(ELOOP);
  if (type_ == S_IFREG && (flags & O_ACCMODE) != O_RDONLY) {
    std::shared_ptr<Node> up;
    {
      absl::MutexLock lock(&st_->mu);
      up = TRY(CopyUpLocked(true));
    }
    return up->Open(flags, path);
  }
  // A reader of a lower file keeps reading it even if the file is copied
  // up later (as overlayfs before Linux 4.19).
  if (std::shared_ptr<Node> up = upper()) return up->Open(flags, path);
  return std::make_shared<LowerFileDescription>(
      flags, TRY(lower_->Open(flags, path)), shared_from_this());
}

}  // namespace overlay

base::Result<std::unique_ptr<OverlayFs>> OverlayFs::Create(
    std::unique_ptr<Filesystem> lower, mm::MemoryFile& memory_file) {
  std::shared_ptr<Node> lower_root = lower->Root(PathContext{});
  const struct stat st = TRY(lower_root->Stat());
  auto state = std::make_shared<overlay::State>();
  state->dev = makedev(0, kOverlayMinor);
  state->upper = Tmpfs::Create(memory_file, {.dev_minor = kOverlayMinor,
                                             .root_mode = st.st_mode & 07777,
                                             .root_uid = st.st_uid,
                                             .root_gid = st.st_gid});
  std::shared_ptr<Node> upper_root = state->upper->Root(PathContext{});
  // The root is never copied up: it starts with the lower root's xattrs.
  TRY(overlay::CopyXattrs(*lower_root, *upper_root));
  auto root = std::make_shared<overlay::ONode>(
      state, nullptr, "", S_IFDIR, std::move(upper_root), std::move(lower_root));
  return std::unique_ptr<OverlayFs>(
      new OverlayFs(std::move(lower), std::move(state), std::move(root)));
}

OverlayFs::OverlayFs(std::unique_ptr<Filesystem> lower,
                     std::shared_ptr<overlay::State> state,
                     std::shared_ptr<overlay::ONode> root)
    : lower_(std::move(lower)),
      state_(std::move(state)),
      root_(std::move(root)) {}

OverlayFs::~OverlayFs() = default;

std::shared_ptr<Node> OverlayFs::Root(const PathContext& ctx) { return root_; }

}  // namespace vfs
