// The calls that change names: mkdir, mknod, symlink, link, unlink, rmdir,
// rename. Each resolves its parent, then makes Linux's checks in Linux's
// order (see the comments in fs/namei.c: filename_create, do_unlinkat,
// do_rmdir, do_renameat2, may_delete) before the filesystem acts.
#include <stdio.h>  // RENAME_*

#include <algorithm>
#include <optional>

#include "sentry/vfs/inotify.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs_impl.h"

namespace vfs {
namespace {

// Is `path` strictly below `dir` (both canonical)?
bool IsBelow(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() + 1 && path.starts_with(dir) &&
         path[dir.size()] == '/';
}

// After unlink or rmdir of `r`, whose stat before was `before` (taken only
// while watched): the link count (files), the end of the file once no
// name is left, then the name's removal from the directory (Linux's
// vfs_unlink/vfs_rmdir and d_delete_notify). The file's end is reported
// at once, even while it is open (Linux: at the last close).
void NotifyRemoved(const Resolved& r, const std::optional<struct stat>& before,
                   bool is_dir) {
  if (!before) return;
  // At most one link fewer: a lower file the overlay hid behind a
  // whiteout still shows its lower count.
  auto now = r.node->Stat();
  const nlink_t fewer = before->st_nlink > 0 ? before->st_nlink - 1 : 0;
  const nlink_t links = now ? std::min(now->st_nlink, fewer) : 0;
  if (!is_dir) NotifyFile(nullptr, "", *before, IN_ATTRIB);
  if (is_dir || links == 0) NotifyDeleted(*before);
  NotifyNodeEntry(*r.parent, r.name, is_dir, IN_DELETE);
}

// The file's stat, if anyone watches (for the events after it changes).
std::optional<struct stat> StatIfWatched(Node& node) {
  if (!NotifyWatched()) return std::nullopt;
  auto st = node.Stat();
  if (!st) return std::nullopt;
  return *st;
}

}  // namespace

base::Result<VfsImpl::Change> VfsImpl::WalkForChange(const PathContext& ctx,
                                                     std::string_view path) {
  path = path.substr(0, path.find('\0'));
  if (path.empty()) return base::Err(ENOENT);
  if (path.size() >= kPathMax) return base::Err(ENAMETOOLONG);
  bool trailing_slash = false;
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
    trailing_slash = true;
  }
  const std::string_view last = path.substr(path.rfind('/') + 1);
  Last kind = Last::kNormal;
  if (path == "/") {
    kind = Last::kRoot;
  } else if (last == ".") {
    kind = Last::kDot;
  } else if (last == "..") {
    kind = Last::kDotDot;
  }
  if (kind != Last::kNormal) {
    Resolved r = TRY(WalkIn(ctx, path, {.follow = true}));
    Filesystem* fs = r.node_fs;
    return Change{std::move(r), kind, trailing_slash, fs};
  }
  Resolved r =
      TRY(WalkIn(ctx, path, {.follow = false, .allow_missing = true}));
  Filesystem* fs = r.fs;
  return Change{std::move(r), kind, trailing_slash, fs};
}

base::Result<VfsImpl::Change> VfsImpl::PrepareCreate(const PathContext& ctx,
                                                     std::string_view path,
                                                     bool dir) {
  Change c = TRY(WalkForChange(ctx, path));
  if (c.last != Last::kNormal || c.r.node) return base::Err(EEXIST);
  // "name/" asks for a directory: only mkdir may make one.
  if (c.trailing_slash && !dir) return base::Err(ENOENT);
  if (ParentReadOnly(c.r)) return base::Err(EROFS);
  return c;
}

base::Result<void> VfsImpl::Mkdir(const PathContext& ctx, std::string_view path,
                                  mode_t mode) {
  Change c = TRY(PrepareCreate(ctx, path, /*dir=*/true));
  TRY(MayCreate(TRY(c.r.parent->Stat()), ctx.creds));
  TRY(c.r.parent->MakeChild(c.r.name, S_IFDIR | (mode & 01777), ctx.creds,
                            ""));
  NotifyNodeEntry(*c.r.parent, c.r.name, /*is_dir=*/true, IN_CREATE);
  return {};
}

base::Result<void> VfsImpl::Mknod(const PathContext& ctx, std::string_view path,
                                  mode_t mode, dev_t dev) {
  const mode_t type = mode & S_IFMT;
  switch (type) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      return base::Err(EPERM);
    default:
      return base::Err(EINVAL);
  }
  Change c = TRY(PrepareCreate(ctx, path, /*dir=*/false));
  TRY(MayCreate(TRY(c.r.parent->Stat()), ctx.creds));
  // Devices only ever come from devfs. FIFOs and socket files are made
  // where the filesystem can hold them (tmpfs, the overlay's upper layer).
  if (type == S_IFCHR || type == S_IFBLK) return base::Err(EPERM);
  TRY(c.r.parent->MakeChild(c.r.name,
                            (type == 0 ? S_IFREG : type) | (mode & 07777),
                            ctx.creds, ""));
  NotifyNodeEntry(*c.r.parent, c.r.name, /*is_dir=*/false, IN_CREATE);
  return {};
}

base::Result<void> VfsImpl::Symlink(const PathContext& ctx,
                                    std::string_view target,
                                    std::string_view path) {
  if (target.empty()) return base::Err(ENOENT);
  Change c = TRY(PrepareCreate(ctx, path, /*dir=*/false));
  TRY(MayCreate(TRY(c.r.parent->Stat()), ctx.creds));
  TRY(c.r.parent->MakeChild(c.r.name, S_IFLNK | 0777, ctx.creds, target));
  NotifyNodeEntry(*c.r.parent, c.r.name, /*is_dir=*/false, IN_CREATE);
  return {};
}

base::Result<void> VfsImpl::Link(const PathContext& old_ctx,
                                 std::string_view old_path,
                                 const PathContext& new_ctx,
                                 std::string_view new_path, bool follow) {
  Resolved old = TRY(WalkIn(old_ctx, old_path, {.follow = follow}));
  Change c = TRY(PrepareCreate(new_ctx, new_path, /*dir=*/false));
  // A magic link's file (node_fs unknown) is checked by the filesystem.
  if (old.node_fs != nullptr && old.node_fs != c.dir_fs) {
    return base::Err(EXDEV);
  }
  const Creds& creds = new_ctx.creds;
  const struct stat st = TRY(old.node->Stat());
  // fs.protected_hardlinks (on by default): others' files only if they
  // are plain regular files we may read and write.
  if (!IsRoot(creds) && !IsOwner(st, creds) &&
      (!S_ISREG(st.st_mode) || (st.st_mode & S_ISUID) ||
       (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) ||
       !CheckPermission(st, kMayRead | kMayWrite, creds))) {
    return base::Err(EPERM);
  }
  TRY(MayCreate(TRY(c.r.parent->Stat()), creds));
  if (S_ISDIR(st.st_mode)) return base::Err(EPERM);
  TRY(c.r.parent->Link(c.r.name, *old.node));
  // fsnotify_link: the link count (the file's own watches), then the name.
  NotifyNode(nullptr, "", *old.node, IN_ATTRIB);
  NotifyNodeEntry(*c.r.parent, c.r.name, /*is_dir=*/false, IN_CREATE);
  return {};
}

base::Result<void> VfsImpl::Unlink(const PathContext& ctx,
                                   std::string_view path) {
  Change c = TRY(WalkForChange(ctx, path));
  if (c.last != Last::kNormal) return base::Err(EISDIR);
  if (ParentReadOnly(c.r)) return base::Err(EROFS);
  if (!c.r.node) return base::Err(ENOENT);
  const bool dir = c.r.node->type() == S_IFDIR;
  if (c.trailing_slash) return base::Err(dir ? EISDIR : ENOTDIR);
  TRY(MayDelete(TRY(c.r.parent->Stat()), TRY(c.r.node->Stat()), ctx.creds));
  if (dir) return base::Err(EISDIR);
  const std::optional<struct stat> before = StatIfWatched(*c.r.node);
  TRY(c.r.parent->Remove(c.r.name, *c.r.node));
  NotifyRemoved(c.r, before, /*is_dir=*/false);
  return {};
}

base::Result<void> VfsImpl::Rmdir(const PathContext& ctx,
                                  std::string_view path) {
  Change c = TRY(WalkForChange(ctx, path));
  switch (c.last) {
    case Last::kDot:
      return base::Err(EINVAL);
    case Last::kDotDot:
      return base::Err(ENOTEMPTY);
    case Last::kRoot:
      return base::Err(EBUSY);
    case Last::kNormal:
      break;
  }
  if (ParentReadOnly(c.r)) return base::Err(EROFS);
  if (!c.r.node) return base::Err(ENOENT);
  TRY(MayDelete(TRY(c.r.parent->Stat()), TRY(c.r.node->Stat()), ctx.creds));
  if (c.r.node->type() != S_IFDIR) return base::Err(ENOTDIR);
  if (c.r.node_fs != c.r.fs) return base::Err(EBUSY);  // a mount point
  const std::optional<struct stat> before = StatIfWatched(*c.r.node);
  TRY(c.r.parent->Remove(c.r.name, *c.r.node));
  NotifyRemoved(c.r, before, /*is_dir=*/true);
  return {};
}

base::Result<void> VfsImpl::Rename(const PathContext& old_ctx,
                                   std::string_view old_path,
                                   const PathContext& new_ctx,
                                   std::string_view new_path, unsigned flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) {
    return base::Err(EINVAL);
  }
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) {
    return base::Err(EINVAL);
  }
  // Whiteouts are overlayfs's; no filesystem here makes them.
  if (flags & RENAME_WHITEOUT) return base::Err(EINVAL);
  Change o = TRY(WalkForChange(old_ctx, old_path));
  Change n = TRY(WalkForChange(new_ctx, new_path));
  if (o.dir_fs != n.dir_fs) return base::Err(EXDEV);
  if (o.last != Last::kNormal) return base::Err(EBUSY);
  if (n.last != Last::kNormal) {
    return base::Err((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
  }
  if (ParentReadOnly(o.r)) return base::Err(EROFS);
  if (!o.r.node) return base::Err(ENOENT);
  const bool exchange = flags & RENAME_EXCHANGE;
  if ((flags & RENAME_NOREPLACE) && n.r.node) return base::Err(EEXIST);
  if (exchange && !n.r.node) return base::Err(ENOENT);
  const bool old_dir = o.r.node->type() == S_IFDIR;
  const bool new_dir = n.r.node && n.r.node->type() == S_IFDIR;
  if (!old_dir && (o.trailing_slash || (!exchange && n.trailing_slash))) {
    return base::Err(ENOTDIR);
  }
  if (exchange && !new_dir && n.trailing_slash) return base::Err(ENOTDIR);
  // Neither may be moved below itself (paths are canonical).
  if (IsBelow(n.r.path, o.r.path)) return base::Err(EINVAL);
  if (n.r.node && IsBelow(o.r.path, n.r.path)) {
    return base::Err(exchange ? EINVAL : ENOTEMPTY);
  }
  if (n.r.node == o.r.node) return {};  // one file: nothing to do

  const Creds& creds = old_ctx.creds;
  const struct stat old_st = TRY(o.r.node->Stat());
  TRY(MayDelete(TRY(o.r.parent->Stat()), old_st, creds));
  struct stat new_st {};
  if (n.r.node) {
    new_st = TRY(n.r.node->Stat());
    TRY(MayDelete(TRY(n.r.parent->Stat()), new_st, creds));
    if (!exchange && old_dir && !new_dir) return base::Err(ENOTDIR);
    if (!exchange && !old_dir && new_dir) return base::Err(EISDIR);
  } else {
    TRY(MayCreate(TRY(n.r.parent->Stat()), creds));
  }
  if (o.r.node_fs != o.r.fs || (n.r.node && n.r.node_fs != n.r.fs)) {
    return base::Err(EBUSY);  // a mount point
  }
  // A directory changing parents gets a new "..": that is a write to it.
  if (o.r.parent != n.r.parent) {
    if (old_dir) TRY(CheckPermission(old_st, kMayWrite, creds));
    if (exchange && new_dir) TRY(CheckPermission(new_st, kMayWrite, creds));
  }
  // Identities first: the stats of the files after the move are the same
  // files' (numbers do not change), but the replaced one may be gone.
  const bool watched = NotifyWatched();
  std::optional<struct stat> old_parent_st, new_parent_st;
  if (watched) {
    old_parent_st = TRY(o.r.parent->Stat());
    new_parent_st = TRY(n.r.parent->Stat());
  }
  TRY(o.r.parent->Rename(o.r.name, *n.r.parent, n.r.name, flags));
  if (watched) {
    // fsnotify_move, once per file moved (twice for an exchange).
    const uint32_t cookie = NotifyCookie();
    NotifyEntry(*old_parent_st, o.r.name, old_dir, IN_MOVED_FROM, cookie);
    NotifyEntry(*new_parent_st, n.r.name, old_dir, IN_MOVED_TO, cookie);
    if (n.r.node && !exchange) {
      NotifyFile(nullptr, "", new_st, IN_ATTRIB);
      // As after unlink: at most one link fewer than before.
      auto now = n.r.node->Stat();
      if (!now || now->st_nlink == 0 || new_st.st_nlink <= 1 ||
          S_ISDIR(new_st.st_mode)) {
        NotifyDeleted(new_st);
      }
    }
    NotifyFile(nullptr, "", old_st, IN_MOVE_SELF);
    if (exchange) {
      const uint32_t cookie2 = NotifyCookie();
      NotifyEntry(*new_parent_st, n.r.name, new_dir, IN_MOVED_FROM, cookie2);
      NotifyEntry(*old_parent_st, o.r.name, new_dir, IN_MOVED_TO, cookie2);
      NotifyFile(nullptr, "", new_st, IN_MOVE_SELF);
    }
  }
  return {};
}

}  // namespace vfs
