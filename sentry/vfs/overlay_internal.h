// Overlay internals, shared by overlay.cc (lookup, stat, open, listing,
// copy-up) and overlay_namei.cc (the calls that change names).
//
// Locks, outermost first (README.md has the whole order):
//   State::mu  ->  tmpfs and lower locks  ->  ONode::upper_mu_, State::ino_mu
// State::mu serialises copy-up and every namespace change of the overlay
// and guards the whiteouts and opaque marks, so a change sees upper,
// lower and whiteouts consistently; lookups hold it shared.
#ifndef SENTRY_VFS_OVERLAY_INTERNAL_H_
#define SENTRY_VFS_OVERLAY_INTERNAL_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/node.h"
#include "sentry/vfs/overlay.h"
#include "sentry/vfs/synthetic.h"
#include "sentry/vfs/tmpfs.h"

namespace vfs::overlay {

struct State {
  std::unique_ptr<Tmpfs> upper;
  dev_t dev = 0;

  absl::Mutex mu;  // copy-up, namespace changes, whiteouts, opaque marks
  // Names removed from the lower layer, by upper directory inode number
  // (tmpfs never reuses one). A whiteout and an upper entry of the same
  // name never coexist.
  std::map<uint64_t, std::set<std::string, std::less<>>> whiteouts
      ABSL_GUARDED_BY(mu);
  // Upper directories that hide the lower directory of their name (made
  // by mkdir over a whiteout, or moved over a lower directory).
  std::set<uint64_t> opaque ABSL_GUARDED_BY(mu);

  // The overlay's inode number of a lower file (st_dev, st_ino), given
  // on first sight from the upper tmpfs's counter and kept: stable, and
  // never the host's own numbers.
  uint64_t LowerIno(dev_t dev, ino_t ino);

  bool IsWhiteoutLocked(uint64_t dir_ino, std::string_view name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu);
  // Removes a whiteout; true if there was one.
  bool EraseWhiteoutLocked(uint64_t dir_ino, std::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

 private:
  absl::Mutex ino_mu;  // a leaf
  std::map<std::pair<dev_t, ino_t>, uint64_t> lower_inos ABSL_GUARDED_BY(ino_mu);
};

// The inode number of an upper (tmpfs) node: its key in the side tables.
uint64_t UpperIno(const Node& upper);

// Copy-up's xattrs (overlay_xattr.cc): gives `upper` the user.* and
// trusted.* attributes `lower` shows, but never an overlayfs mark
// (trusted.overlay.*). ENOSPC if the upper tmpfs has no room.
base::Result<void> CopyXattrs(const Node& lower, Node& upper);

// One overlay file: its upper node (once copied up or made there) and
// its lower node (null if none is visible: a pure upper file, or below an
// opaque directory). Made on demand by Lookup, as host nodes are.
class ONode : public Node, public std::enable_shared_from_this<ONode> {
 public:
  ONode(std::shared_ptr<State> st, std::shared_ptr<ONode> parent,
        std::string name, mode_t type, std::shared_ptr<Node> upper,
        std::shared_ptr<Node> lower)
      : st_(std::move(st)),
        parent_(std::move(parent)),
        name_(std::move(name)),
        type_(type),
        lower_(std::move(lower)),
        upper_(std::move(upper)) {}

  mode_t type() const override { return type_; }
  bool checks_modes() const override { return true; }
  base::Result<struct stat> Stat() const override;
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
  base::Result<void> SetAttr(const AttrChange& change) override;
  base::Result<void> Allocate(uint64_t offset, uint64_t length,
                              int mode) override;
  base::Result<struct statfs> Statfs() const override;
  // The upper file's, else the lower's (as overlayfs asks the real file);
  // setting copies up.
  std::optional<timespec> BirthTime() const override;
  base::Result<uint32_t> InodeFlags() const override;
  base::Result<void> SetInodeFlags(uint32_t flags) override;
  base::Result<std::string> Readlink() const override;
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override;
  // overlay_xattr.cc: read from the upper file if there is one, else the
  // lower; changes copy up first.
  base::Result<std::string> GetXattr(const std::string& name) const override;
  base::Result<std::vector<std::string>> ListXattr() const override;
  base::Result<void> SetXattr(const std::string& name, std::string_view value,
                              int flags) override;
  base::Result<void> RemoveXattr(const std::string& name) override;

  std::shared_ptr<Node> upper() const {
    absl::MutexLock lock(&upper_mu_);
    return upper_;
  }
  const std::shared_ptr<Node>& lower() const { return lower_; }

  // The child `name`, as Lookup, with st_->mu held.
  base::Result<std::shared_ptr<ONode>> LookupLocked(std::string_view name)
      ABSL_SHARED_LOCKS_REQUIRED(st_->mu);
  // The merged listing of a directory (no "." or ".."): upper entries,
  // then lower ones not hidden by an upper entry, a whiteout or opacity.
  base::Result<std::vector<DirEntry>> ListLocked()
      ABSL_SHARED_LOCKS_REQUIRED(st_->mu);
  // Copies this file (and its parents) up if needed; returns the upper
  // node. `data` false copies a regular file's metadata only (it is
  // about to be truncated to 0).
  base::Result<std::shared_ptr<Node>> CopyUpLocked(bool data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(st_->mu);

 private:
  void SetUpper(std::shared_ptr<Node> upper) {
    absl::MutexLock lock(&upper_mu_);
    upper_ = std::move(upper);
  }
  // Does the lower directory have `name` (ignoring whiteouts)?
  bool LowerHas(std::string_view name) const;
  // Two names of one file?
  static bool SameFile(const ONode& a, const ONode& b);

  const std::shared_ptr<State> st_;
  const std::shared_ptr<ONode> parent_;  // null for the root
  const std::string name_;
  const mode_t type_;
  const std::shared_ptr<Node> lower_;
  mutable absl::Mutex upper_mu_;  // a leaf
  std::shared_ptr<Node> upper_ ABSL_GUARDED_BY(upper_mu_);
};

}  // namespace vfs::overlay

#endif  // SENTRY_VFS_OVERLAY_INTERNAL_H_
