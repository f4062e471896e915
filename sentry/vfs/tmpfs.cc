// tmpfs inodes and directories: the namespace (create, link, remove,
// rename) and metadata. File data is in tmpfs_file.cc.
#include "sentry/vfs/tmpfs.h"

#include <dirent.h>
#include <linux/fs.h>  // FS_*_FL
#include <stdio.h>  // RENAME_NOREPLACE, RENAME_EXCHANGE
#include <sys/sysmacros.h>

#include "absl/strings/str_cat.h"
#include "sentry/pipe/pipe.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/tmpfs_internal.h"

namespace vfs {
namespace tmpfs {
namespace {

// Linux's tmpfs counts this many bytes per name in a directory's size.
constexpr off_t kBogoDirentSize = 20;

bool NotNewer(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec ||
         (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

}  // namespace

timespec Now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

Inode::Inode(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid,
             uint32_t gid, uint64_t ino)
    : fs_(std::move(fs)),
      type_(mode & S_IFMT),
      ino_(ino != 0 ? ino : fs_->next_ino.fetch_add(1)),
      perm_(mode & 07777),
      uid_(uid),
      gid_(gid),
      btime_(Now()) {
  atime_ = mtime_ = ctime_ = btime_;
  fs_->live.fetch_add(1);
}

Inode::~Inode() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // the last reference
  fs_->live.fetch_sub(1);
  fs_->xattr_used.fetch_sub(XattrSpace(xattrs_));
}

base::Result<struct stat> Inode::Stat() const {
  absl::MutexLock lock(&fs_->mu);
  struct stat st {};
  st.st_dev = fs_->dev;
  st.st_ino = ino_;
  st.st_mode = type_ | perm_;
  st.st_nlink = nlink_;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_blksize = mm::kPageSize;
  st.st_atim = atime_;
  st.st_mtim = mtime_;
  st.st_ctim = ctime_;
  FillStatLocked(st);
  return st;
}

base::Result<void> Inode::SetAttr(const AttrChange& change) {
  if (change.size) return base::Err(EINVAL);  // only File has a size
  absl::MutexLock lock(&fs_->mu);
  const timespec now = Now();
  if (change.mode) perm_ = *change.mode & 07777;
  if (change.uid) uid_ = *change.uid;
  if (change.gid) gid_ = *change.gid;
  auto set_time = [&](timespec& field, const std::optional<timespec>& t) {
    if (!t || t->tv_nsec == UTIME_OMIT) return;
    field = t->tv_nsec == UTIME_NOW ? now : *t;
  };
  set_time(atime_, change.atime);
  set_time(mtime_, change.mtime);
  ctime_ = now;
  return {};
}

base::Result<struct statfs> Inode::Statfs() const {
  struct statfs s {};
  const uint64_t total = fs_->mf.size() / mm::kPageSize;
  const uint64_t used = fs_->mf.allocated() / mm::kPageSize;
  s.f_type = kTmpfsMagic;
  s.f_bsize = s.f_frsize = mm::kPageSize;
  s.f_blocks = total;
  s.f_bfree = s.f_bavail = total - std::min(used, total);
  s.f_files = total;
  s.f_ffree = total - std::min<uint64_t>(fs_->live.load(), total);
  s.f_fsid.__val[0] = static_cast<int>(minor(fs_->dev));
  s.f_namelen = 255;
  s.f_flags = kStValid;
  return s;
}

void Inode::TouchLocked(bool atime, bool mtime, bool ctime) {
  const timespec now = Now();
  if (atime) atime_ = now;
  if (mtime) mtime_ = now;
  if (ctime) ctime_ = now;
}

base::Result<uint32_t> Inode::InodeFlags() const {
  absl::MutexLock lock(&fs_->mu);
  return inode_flags_;
}

base::Result<void> Inode::SetInodeFlags(uint32_t flags) {
  // Linux's tmpfs also keeps FS_IMMUTABLE_FL and FS_APPEND_FL, which
  // forbid writes; the sentry does not enforce them yet, so it refuses
  // them rather than pretend (README.md).
  if (flags & ~(FS_NODUMP_FL | FS_NOATIME_FL)) return base::Err(EOPNOTSUPP);
  absl::MutexLock lock(&fs_->mu);
  inode_flags_ = flags;
  TouchLocked(false, false, true);
  return {};
}

void Inode::Accessed() {
  absl::MutexLock lock(&fs_->mu);
  if (inode_flags_ & FS_NOATIME_FL) return;
  const timespec now = Now();
  if (NotNewer(atime_, mtime_) || NotNewer(atime_, ctime_) ||
      now.tv_sec - atime_.tv_sec >= 24 * 60 * 60) {
    atime_ = now;
  }
}

Dir::Dir(std::shared_ptr<FsState> fs, mode_t mode, uint32_t uid, uint32_t gid,
         const std::shared_ptr<Dir>& parent, uint64_t ino)
    : Inode(std::move(fs), S_IFDIR | (mode & 07777), uid, gid, ino),
      parent_(parent) {
  nlink_ = 2;  // its name and its "."
}

void Dir::FillStatLocked(struct stat& st) const {
  st.st_size = static_cast<off_t>(2 + by_name_.size()) * kBogoDirentSize;
}

std::shared_ptr<Inode> Dir::FindLocked(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  return by_cookie_.at(it->second).node;
}

void Dir::InsertLocked(std::string_view name, std::shared_ptr<Inode> node) {
  const int64_t cookie = next_cookie_++;
  by_name_.emplace(std::string(name), cookie);
  by_cookie_.emplace(cookie, Child{std::string(name), std::move(node)});
}

std::shared_ptr<Inode> Dir::EraseLocked(std::string_view name) {
  auto it = by_name_.find(name);
  auto child = by_cookie_.extract(it->second);
  by_name_.erase(it);
  return std::move(child.mapped().node);
}

bool Dir::IsAncestorOfLocked(const Dir* dir) const {
  std::shared_ptr<Dir> hold;
  while (dir != nullptr) {
    if (dir == this) return true;
    hold = dir->parent_.lock();
    dir = hold.get();
  }
  return false;
}

void Dir::DropLinkLocked(Inode& victim) {
  if (victim.type_ == S_IFDIR) {
    victim.nlink_ = 0;  // rmdir leaves nothing, not even "."
    --nlink_;           // its ".." pointed here
    static_cast<Dir&>(victim).parent_.reset();
  } else {
    --victim.nlink_;
  }
  victim.TouchLocked(false, false, true);
}

base::Result<std::shared_ptr<Node>> Dir::Lookup(std::string_view name) {
  absl::MutexLock lock(&fs_->mu);
  std::shared_ptr<Inode> node = FindLocked(name);
  if (!node) return base::Err(ENOENT);
  return node;
}

uint32_t Dir::ChildGroupLocked(mode_t* mode, const Creds& creds) const {
  uint32_t gid = creds.gid;
  if (perm_ & S_ISGID) {
    // A set-group-ID directory hands its group down (and its bit, to
    // directories), as on Linux.
    gid = gid_;
    if (S_ISDIR(*mode)) *mode |= S_ISGID;
  }
  if (!S_ISDIR(*mode) &&
      (*mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !IsRoot(creds) &&
      !InGroup(creds, gid)) {
    *mode &= ~S_ISGID;
  }
  return gid;
}

base::Result<std::shared_ptr<Inode>> Dir::NewChildLocked(
    std::string_view name, mode_t mode, const Creds& creds,
    std::string_view target) {
  if (nlink_ == 0) return base::Err(ENOENT);  // removed meanwhile
  if (FindLocked(name)) return base::Err(EEXIST);
  const uint32_t gid = ChildGroupLocked(&mode, creds);
  std::shared_ptr<Inode> node;
  switch (mode & S_IFMT) {
    case S_IFDIR:
      node = std::make_shared<Dir>(
          fs_, mode, creds.uid, gid,
          std::static_pointer_cast<Dir>(shared_from_this()));
      ++nlink_;  // the child's ".."
      break;
    case S_IFREG:
      node = std::make_shared<File>(fs_, mode, creds.uid, gid);
      node->nlink_ = 1;
      break;
    case S_IFLNK:
      node =
          std::make_shared<Symlink>(fs_, creds.uid, gid, std::string(target));
      node->nlink_ = 1;
      break;
    case S_IFIFO:
    case S_IFSOCK:
      node = std::make_shared<Special>(fs_, mode, creds.uid, gid);
      node->nlink_ = 1;
      break;
    default:
      return base::Err(EPERM);  // devices come from devfs only
  }
  InsertLocked(name, node);
  TouchLocked(false, true, true);
  return node;
}

base::Result<std::shared_ptr<FileDescription>> Dir::Create(
    std::string_view name, int flags, mode_t mode, const Creds& creds,
    const std::string& path) {
  std::shared_ptr<Inode> node;
  {
    absl::MutexLock lock(&fs_->mu);
    node = TRY(NewChildLocked(name, S_IFREG | (mode & 07777), creds, ""));
  }
  return node->Open(flags, path);
}

base::Result<std::shared_ptr<FileDescription>> Dir::CreateUnnamed(
    int flags, mode_t mode, const Creds& creds, const std::string& path,
    bool linkable) {
  std::shared_ptr<Inode> node;
  {
    absl::MutexLock lock(&fs_->mu);
    if (nlink_ == 0) return base::Err(ENOENT);  // removed meanwhile
    mode = S_IFREG | (mode & 07777);
    const uint32_t gid = ChildGroupLocked(&mode, creds);
    node = std::make_shared<File>(fs_, mode, creds.uid, gid);
    node->linkable_ = linkable;  // nlink_ stays 0: no name yet
  }
  return node->Open(flags, absl::StrCat(path == "/" ? "" : path, "/#",
                                        node->ino_, " (deleted)"));
}

base::Result<void> Dir::MakeChild(std::string_view name, mode_t mode,
                                  const Creds& creds, std::string_view target) {
  absl::MutexLock lock(&fs_->mu);
  TRY(NewChildLocked(name, mode, creds, target));
  return {};
}

base::Result<std::shared_ptr<Node>> Dir::MakeCopy(std::string_view name,
                                                  const struct stat& st,
                                                  std::string_view target,
                                                  uint64_t ino) {
  absl::MutexLock lock(&fs_->mu);
  if (nlink_ == 0) return base::Err(ENOENT);
  if (FindLocked(name)) return base::Err(EEXIST);
  const mode_t perm = st.st_mode & 07777;
  std::shared_ptr<Inode> node;
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
      node = std::make_shared<Dir>(
          fs_, perm, st.st_uid, st.st_gid,
          std::static_pointer_cast<Dir>(shared_from_this()), ino);
      ++nlink_;
      break;
    case S_IFREG:
      node = std::make_shared<File>(fs_, S_IFREG | perm, st.st_uid, st.st_gid,
                                    ino);
      node->nlink_ = 1;
      break;
    case S_IFLNK:
      node = std::make_shared<Symlink>(fs_, st.st_uid, st.st_gid,
                                       std::string(target), ino);
      node->nlink_ = 1;
      break;
    default:
      return base::Err(EPERM);  // no devices, fifos or sockets in tmpfs
  }
  // The copy keeps the file's times; its ctime is the copy's.
  node->atime_ = st.st_atim;
  node->mtime_ = st.st_mtim;
  InsertLocked(name, node);
  TouchLocked(false, true, true);
  return std::shared_ptr<Node>(node);
}

base::Result<void> Dir::Link(std::string_view name, Node& target) {
  auto* inode = dynamic_cast<Inode*>(&target);
  if (inode == nullptr || inode->fs_ != fs_) return base::Err(EXDEV);
  if (inode->type_ == S_IFDIR) return base::Err(EPERM);
  absl::MutexLock lock(&fs_->mu);
  if (nlink_ == 0) return base::Err(ENOENT);
  if (FindLocked(name)) return base::Err(EEXIST);
  // Unlinked meanwhile, or an O_TMPFILE|O_EXCL file.
  if (inode->nlink_ == 0 && !inode->linkable_) return base::Err(ENOENT);
  inode->linkable_ = false;
  ++inode->nlink_;
  inode->TouchLocked(false, false, true);
  InsertLocked(name, inode->shared_from_this());
  TouchLocked(false, true, true);
  return {};
}

base::Result<void> Dir::Remove(std::string_view name, const Node& child) {
  std::shared_ptr<Inode> dropped;  // released after the lock
  absl::MutexLock lock(&fs_->mu);
  std::shared_ptr<Inode> node = FindLocked(name);
  if (!node || node.get() != &child) return base::Err(ENOENT);
  if (node->type_ == S_IFDIR && !static_cast<Dir&>(*node).EmptyLocked()) {
    return base::Err(ENOTEMPTY);
  }
  dropped = EraseLocked(name);
  DropLinkLocked(*node);
  TouchLocked(false, true, true);
  return {};
}

base::Result<void> Dir::Rename(std::string_view name, Node& new_dir,
                               std::string_view new_name, unsigned flags) {
  auto* to = dynamic_cast<Dir*>(&new_dir);
  if (to == nullptr || to->fs_ != fs_) return base::Err(EXDEV);
  std::shared_ptr<Inode> dropped;  // released after the lock
  absl::MutexLock lock(&fs_->mu);
  std::shared_ptr<Inode> src = FindLocked(name);
  if (!src) return base::Err(ENOENT);
  std::shared_ptr<Inode> dst = to->FindLocked(new_name);
  if (flags & RENAME_EXCHANGE) {
    if (!dst) return base::Err(ENOENT);
    return ExchangeLocked(name, *to, new_name);
  }
  if (dst && (flags & RENAME_NOREPLACE)) return base::Err(EEXIST);
  if (dst == src) return {};  // two names of one file: nothing to do
  const bool is_dir = src->type_ == S_IFDIR;
  if (is_dir && static_cast<Dir&>(*src).IsAncestorOfLocked(to)) {
    return base::Err(EINVAL);
  }
  if (dst) {
    if (is_dir && dst->type_ != S_IFDIR) return base::Err(ENOTDIR);
    if (!is_dir && dst->type_ == S_IFDIR) return base::Err(EISDIR);
    if (dst->type_ == S_IFDIR && !static_cast<Dir&>(*dst).EmptyLocked()) {
      return base::Err(ENOTEMPTY);
    }
    dropped = to->EraseLocked(new_name);
    to->DropLinkLocked(*dst);
  }
  to->InsertLocked(new_name, EraseLocked(name));
  if (is_dir && to != this) {
    --nlink_;
    ++to->nlink_;
    static_cast<Dir&>(*src).parent_ =
        std::static_pointer_cast<Dir>(to->shared_from_this());
  }
  src->TouchLocked(false, false, true);
  TouchLocked(false, true, true);
  to->TouchLocked(false, true, true);
  return {};
}

base::Result<void> Dir::ExchangeLocked(std::string_view name, Dir& to,
                                       std::string_view new_name) {
  Child& a = by_cookie_.at(by_name_.find(name)->second);
  Child& b = to.by_cookie_.at(to.by_name_.find(new_name)->second);
  if (a.node == b.node) return {};
  const bool a_dir = a.node->type_ == S_IFDIR;
  const bool b_dir = b.node->type_ == S_IFDIR;
  if (a_dir && static_cast<Dir&>(*a.node).IsAncestorOfLocked(&to)) {
    return base::Err(EINVAL);
  }
  if (b_dir && static_cast<Dir&>(*b.node).IsAncestorOfLocked(this)) {
    return base::Err(EINVAL);
  }
  std::swap(a.node, b.node);
  if (&to != this) {
    auto self = std::static_pointer_cast<Dir>(shared_from_this());
    auto other = std::static_pointer_cast<Dir>(to.shared_from_this());
    if (a_dir) static_cast<Dir&>(*b.node).parent_ = other;
    if (b_dir) static_cast<Dir&>(*a.node).parent_ = self;
    nlink_ += static_cast<int>(b_dir) - static_cast<int>(a_dir);
    to.nlink_ += static_cast<int>(a_dir) - static_cast<int>(b_dir);
  }
  a.node->TouchLocked(false, false, true);
  b.node->TouchLocked(false, false, true);
  TouchLocked(false, true, true);
  to.TouchLocked(false, true, true);
  return {};
}

std::vector<Dir::Listed> Dir::List(int64_t pos, size_t max) {
  std::vector<Listed> out;
  absl::MutexLock lock(&fs_->mu);
  if (pos == 0 && out.size() < max) {
    out.push_back({1, {ino_, DT_DIR, "."}});
    pos = 1;
  }
  if (pos == 1 && out.size() < max) {
    std::shared_ptr<Dir> parent = parent_.lock();
    out.push_back({kFirstCookie, {parent ? parent->ino_ : ino_, DT_DIR, ".."}});
    pos = kFirstCookie;
  }
  for (auto it = by_cookie_.lower_bound(pos);
       it != by_cookie_.end() && out.size() < max; ++it) {
    const Inode& node = *it->second.node;
    out.push_back({it->first + 1,
                   {node.ino_, static_cast<uint8_t>(IFTODT(node.type_)),
                    it->second.name}});
  }
  return out;
}

}  // namespace tmpfs

std::unique_ptr<Tmpfs> Tmpfs::Create(mm::MemoryFile& memory_file,
                                     const Options& options) {
  auto state = std::make_shared<tmpfs::FsState>(
      memory_file, makedev(0, options.dev_minor), options.xattr_space);
  auto root = std::make_shared<tmpfs::Dir>(
      state, options.root_mode, options.root_uid, options.root_gid, nullptr);
  return std::unique_ptr<Tmpfs>(new Tmpfs(std::move(state), std::move(root)));
}

Tmpfs::Tmpfs(std::shared_ptr<tmpfs::FsState> state,
             std::shared_ptr<tmpfs::Dir> root)
    : state_(std::move(state)), root_(std::move(root)) {}

Tmpfs::~Tmpfs() = default;

std::shared_ptr<Node> Tmpfs::Root(const PathContext& ctx) { return root_; }

uint64_t Tmpfs::pages() const { return state_->pages.load(); }
uint64_t Tmpfs::NewIno() { return state_->next_ino.fetch_add(1); }

base::Result<std::shared_ptr<Node>> TmpfsCopyUpChild(Node& dir,
                                                     std::string_view name,
                                                     const struct stat& st,
                                                     std::string_view target,
                                                     uint64_t ino) {
  auto* d = dynamic_cast<tmpfs::Dir*>(&dir);
  if (d == nullptr) return base::Err(EXDEV);
  return d->MakeCopy(name, st, target, ino);
}

base::Result<std::shared_ptr<FileDescription>> tmpfs::Special::Open(
    int flags, const std::string& path) {
  // Opening a socket file is ENXIO, as Linux (connect(2) reaches it).
  if (type_ != S_IFIFO) return base::Err(ENXIO);
  const struct stat st = TRY(Stat());
  std::shared_ptr<pipes::Pipe> pipe;
  {
    absl::MutexLock lock(&pipe_mu_);
    pipe = pipe_.lock();
    if (!pipe) {
      // Made by the first open, gone (with its data) after the last
      // close, as Linux's pipe_inode_info of a FIFO.
      pipe = std::make_shared<pipes::Pipe>(st.st_uid, st.st_gid);
      pipe_ = pipe;
    }
  }
  return pipes::OpenFifo(std::move(pipe), flags, shared_from_this(), path);
}

bool TmpfsIsChildOf(const Node& node, const Tmpfs& fs) {
  auto* inode = dynamic_cast<const tmpfs::Inode*>(&node);
  return inode != nullptr && inode->fs_ptr() == fs.state_;
}

std::vector<DirEntry> TmpfsList(Node& dir) {
  auto* d = dynamic_cast<tmpfs::Dir*>(&dir);
  if (d == nullptr) return {};
  std::vector<DirEntry> out;
  for (auto& l : d->List(tmpfs::Dir::kFirstCookie, SIZE_MAX)) {
    out.push_back(std::move(l.entry));
  }
  return out;
}
uint64_t Tmpfs::files() const { return state_->live.load(); }

bool IsTmpfsNode(const Node& node) {
  return dynamic_cast<const tmpfs::Inode*>(&node) != nullptr;
}

}  // namespace vfs
