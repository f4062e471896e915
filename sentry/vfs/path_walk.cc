#include "sentry/vfs/path_walk.h"

#include <linux/openat2.h>

#include <deque>
#include <utility>
#include <vector>

#include "sentry/vfs/permission.h"
#include "sentry/vfs/tmpfs.h"

namespace vfs {
namespace {

// Where a followed magic link lands: the open file itself. Opening it
// yields that same description (Linux would reopen the file with the new
// flags; see README.md).
class DescriptionNode : public Node {
 public:
  explicit DescriptionNode(std::shared_ptr<FileDescription> desc)
      : desc_(std::move(desc)) {
    auto st = desc_->Stat();
    type_ = st ? (st->st_mode & S_IFMT) : S_IFREG;
  }
  mode_t type() const override { return type_; }
  base::Result<struct stat> Stat() const override { return desc_->Stat(); }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return desc_;
  }

 private:
  std::shared_ptr<FileDescription> desc_;
  mode_t type_;
};

// Splits a path into components. A trailing slash becomes a final ".", so
// the component before it is no longer final: it must be a directory and a
// symlink there is followed, exactly what Linux does for "name/".
std::vector<std::string> Split(std::string_view path) {
  // A C string ends at its NUL; passed on, "..\0x" would reach a host
  // openat as "..".
  path = path.substr(0, path.find('\0'));
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (end > pos) parts.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  if (!parts.empty() && path.back() == '/') parts.emplace_back(".");
  return parts;
}

void PushFront(std::deque<std::string>& rest, std::string_view path) {
  std::vector<std::string> parts = Split(path);
  rest.insert(rest.begin(), std::make_move_iterator(parts.begin()),
              std::make_move_iterator(parts.end()));
}

class Walker {
 public:
  Walker(const MountTable& mounts, const PathContext& ctx)
      : mounts_(mounts),
        ctx_(ctx),
        resolve_(ctx.resolve),
        scoped_(ctx.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {}

  base::Result<Resolved> Run(std::string_view path, WalkOptions opts) {
    std::deque<std::string> rest;
    PushFront(rest, path);
    // RESOLVE_BENEATH refuses what RESOLVE_IN_ROOT would start at its root.
    if (path.front() == '/' && (resolve_ & RESOLVE_BENEATH))
      return base::Err(EXDEV);
    // The root (chroot, or openat2's dirfd for a scoped walk) is walked
    // from the real "/" first; ".." then stops there. It is canonical and
    // was a directory when chroot(2) or open(2) took it.
    const std::string& root = scoped_ ? ctx_.start : ctx_.root;
    if (root != "/") {
      ResetToRoot();
      for (const std::string& name : Split(root)) {
        auto child = LookupChild(name);
        if (!child.has_value()) return std::unexpected(child.error());
        if (child->node->type() != S_IFDIR) return base::Err(ENOTDIR);
        Push(name, std::move(*child));
      }
      root_ = stack_;
      root_path_ = path_;
    }
    // ctx.start is canonical, so walking it again from "/" lands where the
    // caller stands (a dentry cache would make this free; see README.md).
    // A start outside the root (chdir before chroot) walks from the real
    // "/", and ".." may climb there, as on Linux.
    bool outside = false;
    std::string_view start;
    if (path.front() != '/') {
      start = ctx_.start;
      if (Under(start, root_path_)) {
        start.remove_prefix(root_path_.size());
      } else {
        outside = true;
      }
    }
    ResetToRoot();
    if (outside) {
      stack_.resize(1);
      path_.clear();
      floor_ = 1;
    }
    // The start has neither links nor ".." to check, and Linux checks no
    // search permission above a cwd or dirfd.
    for (const std::string& name : Split(start)) {
      auto child = LookupChild(name);
      if (!child.has_value()) return std::unexpected(child.error());
      if (child->node->type() != S_IFDIR) return base::Err(ENOTDIR);
      Push(name, std::move(*child));
    }
    int links = 0;
    while (!rest.empty()) {
      std::string name = std::move(rest.front());
      rest.pop_front();
      const bool last = rest.empty();
      if (name == ".") continue;
      TRY(MaySearch(*top()));
      if (name == "..") {
        TRY(Pop());
        continue;
      }
      if (name.size() > kNameMax) return base::Err(ENAMETOOLONG);
      auto child = LookupChild(name);
      if (!child.has_value()) {
        if (last && opts.allow_missing && child.error() == base::Errno(ENOENT))
          return Resolved{.parent = top(),
                          .name = name,
                          .path = ChildPath(name),
                          .fs = top_fs(),
                          .parent_flags = top_flags(),
                          .node_flags = top_flags()};
        return std::unexpected(child.error());
      }
      if (child->node->type() == S_IFLNK && (!last || opts.follow)) {
        if (resolve_ & RESOLVE_NO_SYMLINKS) return base::Err(ELOOP);
        if (++links > kMaxSymlinks) return base::Err(ELOOP);
        std::shared_ptr<Node> node = std::move(child->node);
        std::string target;
        if (auto desc = node->Jump()) {
          // Linux's nd_jump_link: a magic link may lead anywhere.
          if (resolve_ & RESOLVE_NO_MAGICLINKS) return base::Err(ELOOP);
          if (resolve_ & RESOLVE_NO_XDEV) return base::Err(EXDEV);
          if (scoped_) return base::Err(EXDEV);
          if (last) {
            std::string p = desc->path();
            const unsigned long flags = mounts_.FlagsOf(p);
            std::shared_ptr<Node> landed;
            // (An anonymous pipe's end knows no node.)
            auto* nd = dynamic_cast<NodeDescription*>(desc.get());
            if (nd && nd->node()) {
              landed = nd->node();
            } else {
              landed = std::make_shared<DescriptionNode>(std::move(desc));
            }
            return Resolved{.node = std::move(landed),
                            .parent = top(),
                            .name = name,
                            .path = std::move(p),
                            .fs = top_fs(),
                            .parent_flags = top_flags(),
                            .node_flags = flags};
          }
          // Walking on through an fd link: only a directory with a
          // sandbox path can go on ("pipe:[3]/x" is ENOTDIR).
          target = desc->path();
          if (target.empty() || target.front() != '/') {
            return base::Err(ENOTDIR);
          }
        } else {
          target = TRY(node->Readlink());
        }
        if (target.empty()) return base::Err(ENOENT);
        if (target.front() == '/') TRY(JumpToRoot());
        PushFront(rest, target);
        continue;
      }
      if (!last && child->node->type() != S_IFDIR) return base::Err(ENOTDIR);
      // Entering another mount (a mount point) crosses.
      if ((resolve_ & RESOLVE_NO_XDEV) && child->mount != stack_.back().mount)
        return base::Err(EXDEV);
      Push(name, std::move(*child));
    }
    if (stack_.size() == 1) {
      return Resolved{.node = top(),
                      .parent = top(),
                      .path = "/",
                      .fs = top_fs(),
                      .node_fs = top_fs(),
                      .parent_flags = top_flags(),
                      .node_flags = top_flags()};
    }
    const Entry& parent = stack_[stack_.size() - 2];
    return Resolved{.node = top(),
                    .parent = parent.node,
                    .name = path_.substr(stack_.back().path_len + 1),
                    .path = path_,
                    .fs = parent.fs,
                    .node_fs = top_fs(),
                    .parent_flags = parent.flags,
                    .node_flags = top_flags()};
  }

 private:
  struct Entry {
    std::shared_ptr<Node> node;
    size_t path_len;  // length of path_ before this entry's "/name"
    Filesystem* fs;   // the filesystem `node` belongs to
    unsigned long flags;  // its mount's flags
    int mount;            // its mount's id (RESOLVE_NO_XDEV)
  };

  const std::shared_ptr<Node>& top() const { return stack_.back().node; }
  Filesystem* top_fs() const { return stack_.back().fs; }
  unsigned long top_flags() const { return stack_.back().flags; }
  std::string ChildPath(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }

  // To the process's root (the real "/" unless chroot'ed).
  void ResetToRoot() {
    if (!root_.empty()) {
      stack_ = root_;
      path_ = root_path_;
      floor_ = root_.size();
      return;
    }
    stack_.clear();
    path_.clear();
    const Mount& root = mounts_.root_mount;
    stack_.push_back({root.root ? root.root : root.fs->Root(ctx_), 0, root.fs,
                      root.flags, root.id});
    floor_ = 1;
  }
  // An absolute symlink target: back to the root, unless openat2 forbids
  // it (Linux's nd_jump_root).
  base::Result<void> JumpToRoot() {
    if (resolve_ & RESOLVE_BENEATH) return base::Err(EXDEV);
    const int from = stack_.back().mount;
    ResetToRoot();
    if ((resolve_ & RESOLVE_NO_XDEV) && stack_.back().mount != from)
      return base::Err(EXDEV);
    return {};
  }
  static bool Under(std::string_view path, std::string_view dir) {
    if (dir.empty()) return true;
    return path.starts_with(dir) &&
           (path.size() == dir.size() || path[dir.size()] == '/');
  }
  // A mount point hides whatever the parent filesystem has there.
  struct Child {
    std::shared_ptr<Node> node;
    Filesystem* fs;
    unsigned long flags;
    int mount;
  };
  void Push(std::string_view name, Child child) {
    stack_.push_back({std::move(child.node), path_.size(), child.fs,
                      child.flags, child.mount});
    path_ += '/';
    path_ += name;
  }
  base::Result<void> Pop() {
    if (stack_.size() <= floor_) {
      // ".." of the root is the root, but RESOLVE_BENEATH may not try.
      if (scoped_ && (resolve_ & RESOLVE_BENEATH)) return base::Err(EXDEV);
      return {};
    }
    // Leaving a mount for the one it sits on crosses.
    if ((resolve_ & RESOLVE_NO_XDEV) &&
        stack_[stack_.size() - 2].mount != stack_.back().mount)
      return base::Err(EXDEV);
    path_.resize(stack_.back().path_len);
    stack_.pop_back();
    return {};
  }

  // Looking a name up (".." too) needs search permission on the directory,
  // checked on tmpfs and the overlay so far (see README.md).
  base::Result<void> MaySearch(Node& dir) {
    if (!dir.checks_modes()) return {};
    return CheckPermission(TRY(dir.Stat()), kMayExec, ctx_.creds);
  }

  base::Result<Child> LookupChild(std::string_view name) {
    if (auto it = mounts_.mounts.find(ChildPath(name));
        it != mounts_.mounts.end()) {
      const Mount& m = it->second;
      return Child{m.root ? m.root : m.fs->Root(ctx_), m.fs, m.flags, m.id};
    }
    return Child{TRY(top()->Lookup(name)), top_fs(), top_flags(),
                 stack_.back().mount};
  }

  const MountTable& mounts_;
  const PathContext& ctx_;
  const uint64_t resolve_;  // openat2's RESOLVE_* flags
  const bool scoped_;       // RESOLVE_BENEATH or RESOLVE_IN_ROOT
  std::vector<Entry> stack_;  // stack_[0] is "/"
  std::string path_;          // "" at "/", else "/a/b"
  // The chain down to the process's root (empty: the real "/"), and how
  // far ".." may pop.
  std::vector<Entry> root_;
  std::string root_path_;
  size_t floor_ = 1;
};

}  // namespace

unsigned long MountTable::FlagsOf(std::string_view path) const {
  unsigned long flags = root_mount.flags;
  size_t best = 0;
  for (const auto& [point, m] : mounts) {
    if (point.size() > best && path.starts_with(point) &&
        (path.size() == point.size() || path[point.size()] == '/')) {
      flags = m.flags;
      best = point.size();
    }
  }
  return flags;
}

base::Result<Resolved> Walk(const MountTable& mounts, const PathContext& ctx,
                            std::string_view path, WalkOptions opts) {
  path = path.substr(0, path.find('\0'));
  if (path.empty()) return base::Err(ENOENT);
  if (path.size() >= kPathMax) return base::Err(ENAMETOOLONG);
  return Walker(mounts, ctx).Run(path, opts);
}

}  // namespace vfs
