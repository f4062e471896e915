// The overlay calls that change the tree: each copies up what it touches
// (the directory, and the file for link, rename and attributes), changes
// the upper layer, then records whiteouts and opaque directories so that
// the lower layer's names stay hidden. All under State::mu.
#include <stdio.h>  // RENAME_*

#include "sentry/vfs/overlay_internal.h"

namespace vfs::overlay {

bool ONode::LowerHas(std::string_view name) const {
  return lower_ && lower_->Lookup(name).has_value();
}

bool ONode::SameFile(const ONode& a, const ONode& b) {
  std::shared_ptr<Node> au = a.upper(), bu = b.upper();
  if (au || bu) return au == bu;
  auto as = a.lower_->Stat(), bs = b.lower_->Stat();
  return as && bs && as->st_dev == bs->st_dev && as->st_ino == bs->st_ino;
}

base::Result<std::shared_ptr<FileDescription>> ONode::Create(
    std::string_view name, int flags, mode_t mode, const Creds& creds,
    const std::string& path) {
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  auto file = TRY(up->Create(name, flags, mode, creds, path));
  st_->EraseWhiteoutLocked(UpperIno(*up), name);
  return file;
}

// O_TMPFILE: the file is the upper layer's, made in this directory's
// copy (so the name linkat gives it later is an upper name).
base::Result<std::shared_ptr<FileDescription>> ONode::CreateUnnamed(
    int flags, mode_t mode, const Creds& creds, const std::string& path,
    bool linkable) {
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  return up->CreateUnnamed(flags, mode, creds, path, linkable);
}

base::Result<void> ONode::MakeChild(std::string_view name, mode_t mode,
                                    const Creds& creds,
                                    std::string_view target) {
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  TRY(up->MakeChild(name, mode, creds, target));
  const bool was_whiteout = st_->EraseWhiteoutLocked(UpperIno(*up), name);
  // A directory made where a lower one was removed starts empty: opaque.
  if (S_ISDIR(mode) && (was_whiteout || LowerHas(name))) {
    st_->opaque.insert(UpperIno(*TRY(up->Lookup(name))));
  }
  return {};
}

base::Result<void> ONode::Link(std::string_view name, Node& target) {
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<Node> target_up;
  Node* link_to = &target;
  if (auto* o = dynamic_cast<ONode*>(&target)) {
    if (o->st_ != st_) return base::Err(EXDEV);
    if (o->type_ == S_IFDIR) return base::Err(EPERM);
    // Both names then lead to the one upper inode.
    target_up = TRY(o->CopyUpLocked(true));
    link_to = target_up.get();
  } else if (!TmpfsIsChildOf(target, *st_->upper)) {
    return base::Err(EXDEV);  // a magic link to a file elsewhere
  }
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  TRY(up->Link(name, *link_to));
  st_->EraseWhiteoutLocked(UpperIno(*up), name);
  return {};
}

base::Result<void> ONode::Remove(std::string_view name, const Node& child) {
  absl::MutexLock lock(&st_->mu);
  // The name as it is now (the VFS looked it up without our lock).
  std::shared_ptr<ONode> cur = TRY(LookupLocked(name));
  if (const auto* c = dynamic_cast<const ONode*>(&child);
      c == nullptr || !SameFile(*cur, *c)) {
    return base::Err(ENOENT);
  }
  if (cur->type_ == S_IFDIR && !TRY(cur->ListLocked()).empty()) {
    return base::Err(ENOTEMPTY);
  }
  std::shared_ptr<Node> up = TRY(CopyUpLocked(true));
  const uint64_t up_ino = UpperIno(*up);
  if (std::shared_ptr<Node> cu = cur->upper()) {
    const uint64_t child_ino = UpperIno(*cu);
    TRY(up->Remove(name, *cu));
    if (cur->type_ == S_IFDIR) {
      st_->whiteouts.erase(child_ino);
      st_->opaque.erase(child_ino);
    }
  }
  // An upper file may hide a lower one it replaced: that stays hidden.
  if (cur->lower_ || LowerHas(name)) st_->whiteouts[up_ino].emplace(name);
  return {};
}

base::Result<void> ONode::Rename(std::string_view name, Node& new_dir,
                                 std::string_view new_name, unsigned flags) {
  auto* to = dynamic_cast<ONode*>(&new_dir);
  if (to == nullptr || to->st_ != st_) return base::Err(EXDEV);
  absl::MutexLock lock(&st_->mu);
  std::shared_ptr<ONode> src = TRY(LookupLocked(name));
  std::shared_ptr<ONode> dst;
  if (auto r = to->LookupLocked(new_name); r) {
    dst = std::move(*r);
  } else if (r.error() != base::Errno(ENOENT)) {
    return std::unexpected(r.error());
  }
  const bool exchange = flags & RENAME_EXCHANGE;
  if (exchange && !dst) return base::Err(ENOENT);
  if (dst && (flags & RENAME_NOREPLACE)) return base::Err(EEXIST);
  if (dst && SameFile(*src, *dst)) return {};  // two names of one file
  // Linux's overlayfs without redirect_dir: a directory with lower
  // content cannot be renamed in place; mv(1) then copies it.
  if ((src->type_ == S_IFDIR && src->lower_) ||
      (exchange && dst->type_ == S_IFDIR && dst->lower_)) {
    return base::Err(EXDEV);
  }
  if (dst && !exchange) {
    const bool src_dir = src->type_ == S_IFDIR;
    const bool dst_dir = dst->type_ == S_IFDIR;
    if (src_dir && !dst_dir) return base::Err(ENOTDIR);
    if (!src_dir && dst_dir) return base::Err(EISDIR);
    if (dst_dir && !TRY(dst->ListLocked()).empty()) {
      return base::Err(ENOTEMPTY);
    }
  }
  std::shared_ptr<Node> from_up = TRY(CopyUpLocked(true));
  std::shared_ptr<Node> to_up = TRY(to->CopyUpLocked(true));
  std::shared_ptr<Node> src_up = TRY(src->CopyUpLocked(true));
  std::shared_ptr<Node> dst_up;
  if (exchange) dst_up = TRY(dst->CopyUpLocked(true));
  // A lower-only destination has no upper entry: the moved one hides it.
  // A merged directory being replaced is empty, so its whiteouts go.
  std::shared_ptr<Node> replaced = dst && !exchange ? dst->upper() : nullptr;
  const uint64_t replaced_ino = replaced ? UpperIno(*replaced) : 0;
  TRY(from_up->Rename(name, *to_up, new_name,
                      flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)));
  if (replaced && replaced->type() == S_IFDIR) {
    st_->whiteouts.erase(replaced_ino);
    st_->opaque.erase(replaced_ino);
  }
  // Directories moved over a lower name must hide the lower directory.
  if (src->type_ == S_IFDIR && to->LowerHas(new_name)) {
    st_->opaque.insert(UpperIno(*src_up));
  }
  if (exchange) {
    if (dst->type_ == S_IFDIR && LowerHas(name)) {
      st_->opaque.insert(UpperIno(*dst_up));
    }
    return {};  // both names are still in the upper layer
  }
  st_->EraseWhiteoutLocked(UpperIno(*to_up), new_name);
  if (src->lower_ || LowerHas(name)) {
    st_->whiteouts[UpperIno(*from_up)].emplace(name);
  }
  return {};
}

base::Result<void> ONode::SetAttr(const AttrChange& change) {
  absl::MutexLock lock(&st_->mu);
  // Truncation to 0 alone need not copy the data it drops.
  const bool to_empty = change.size && *change.size == 0 && !change.mode &&
                        !change.uid && !change.gid && !change.atime &&
                        !change.mtime;
  std::shared_ptr<Node> up = TRY(CopyUpLocked(!to_empty));
  return up->SetAttr(change);
}

base::Result<void> ONode::Allocate(uint64_t offset, uint64_t length,
                                  int mode) {
  std::shared_ptr<Node> up;
  {
    absl::MutexLock lock(&st_->mu);
    up = TRY(CopyUpLocked(true));
  }
  return up->Allocate(offset, length, mode);
}

std::optional<timespec> ONode::BirthTime() const {
  if (std::shared_ptr<Node> up = upper()) return up->BirthTime();
  return lower_ ? lower_->BirthTime() : std::nullopt;
}

base::Result<uint32_t> ONode::InodeFlags() const {
  if (std::shared_ptr<Node> up = upper()) return up->InodeFlags();
  return lower_ ? lower_->InodeFlags() : base::Err(ENOTTY);
}

base::Result<void> ONode::SetInodeFlags(uint32_t flags) {
  std::shared_ptr<Node> up;
  {
    absl::MutexLock lock(&st_->mu);
    up = TRY(CopyUpLocked(true));
  }
  return up->SetInodeFlags(flags);
}

}  // namespace vfs::overlay
