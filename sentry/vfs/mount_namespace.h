// A mount namespace: the mount table its processes walk.
//
// The table is copy-on-write (path_walk.h): a walk holds the table it
// started with and reads it without a lock; Change copies it, applies
// itself to the copy and swaps it in under mu_, so concurrent mounts do
// not lose each other. A new namespace (unshare or clone with
// CLONE_NEWNS) starts with the same table and then goes its own way: two
// namespaces never share a change, as Linux with private propagation.
//
// Lock order: mu_ is a leaf.
#ifndef SENTRY_VFS_MOUNT_NAMESPACE_H_
#define SENTRY_VFS_MOUNT_NAMESPACE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "base/result.h"

namespace vfs {

struct MountTable;

// What pivot_root(2) did, as canonical paths before it: the new root, and
// where the old root went (both absolute; put_old at or below new_root).
struct PivotMove {
  std::string new_root;
  std::string put_old;

  // Where a process's root or cwd `path` (canonical, from before) is now.
  // As Linux's chroot_fs_refs, a root or cwd that was the old root becomes
  // the new root; the rest keep their place in the tree, so their paths
  // change: below new_root they lose its prefix, elsewhere they move below
  // put_old.
  std::string Apply(std::string_view path) const;
};

class MountNamespace {
 public:
  explicit MountNamespace(std::shared_ptr<const MountTable> table);

  std::shared_ptr<const MountTable> Table() const;
  // Replaces the table with `change` applied to a copy of it; on an error
  // nothing changes.
  base::Result<void> Change(
      const std::function<base::Result<void>(MountTable&)>& change);
  // A new namespace with this one's mounts (Linux's copy_mnt_ns).
  std::shared_ptr<MountNamespace> Copy() const;

  // Distinct for every namespace ever made in this sentry; the first is 1
  // (/proc/<pid>/ns/mnt).
  uint64_t id() const { return id_; }

 private:
  static inline std::atomic<uint64_t> next_id_{1};
  const uint64_t id_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const MountTable> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vfs

#endif  // SENTRY_VFS_MOUNT_NAMESPACE_H_
