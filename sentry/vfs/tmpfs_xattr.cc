// tmpfs extended attributes: kept per inode in the sentry's memory, as
// Linux's tmpfs keeps them in kernel memory (simple_xattrs), bounded per
// mount (Tmpfs::Options::xattr_space). The VFS has checked names and
// permissions (vfs_xattr.cc); what is left is the filesystem's: which
// system.* names exist, XATTR_CREATE/XATTR_REPLACE and the bound.
#include <sys/xattr.h>

#include "sentry/vfs/tmpfs_internal.h"
#include "sentry/vfs/xattr.h"

namespace vfs::tmpfs {
namespace {

// Linux's tmpfs answers for POSIX ACLs under these names; we keep no ACLs
// (setfacl is EOPNOTSUPP), so a file simply has none.
bool IsAclName(std::string_view name) {
  return name == "system.posix_acl_access" ||
         name == "system.posix_acl_default";
}

}  // namespace

uint64_t XattrSpace(std::string_view name, std::string_view value) {
  return 40 + name.size() + value.size();
}

uint64_t XattrSpace(const std::map<std::string, std::string, std::less<>>& x) {
  uint64_t sum = 0;
  for (const auto& [name, value] : x) sum += XattrSpace(name, value);
  return sum;
}

base::Result<std::string> Inode::GetXattr(const std::string& name) const {
  if (XattrNamespace(name) == XattrNs::kSystem) {
    return base::Err(IsAclName(name) ? ENODATA : EOPNOTSUPP);
  }
  absl::MutexLock lock(&fs_->mu);
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return base::Err(ENODATA);
  return it->second;
}

base::Result<std::vector<std::string>> Inode::ListXattr() const {
  std::vector<std::string> names;
  absl::MutexLock lock(&fs_->mu);
  names.reserve(xattrs_.size());
  for (const auto& [name, value] : xattrs_) names.push_back(name);
  return names;
}

base::Result<void> Inode::SetXattr(const std::string& name,
                                   std::string_view value, int flags) {
  if (XattrNamespace(name) == XattrNs::kSystem) return base::Err(EOPNOTSUPP);
  absl::MutexLock lock(&fs_->mu);
  auto it = xattrs_.find(name);
  if (it != xattrs_.end() && (flags & XATTR_CREATE)) return base::Err(EEXIST);
  if (it == xattrs_.end() && (flags & XATTR_REPLACE)) {
    return base::Err(ENODATA);
  }
  const uint64_t add = XattrSpace(name, value);
  const uint64_t drop = it == xattrs_.end() ? 0 : XattrSpace(name, it->second);
  // Charged under fs_->mu, so no two setters can both fit in the last
  // room; destructors only ever give space back.
  const uint64_t used = fs_->xattr_used.load();
  if (add > drop && used + (add - drop) > fs_->xattr_space) {
    return base::Err(ENOSPC);
  }
  fs_->xattr_used.fetch_add(add);
  fs_->xattr_used.fetch_sub(drop);
  if (it == xattrs_.end()) {
    xattrs_.emplace(name, value);
  } else {
    it->second.assign(value);
  }
  TouchLocked(false, false, true);
  return {};
}

base::Result<void> Inode::RemoveXattr(const std::string& name) {
  if (XattrNamespace(name) == XattrNs::kSystem) {
    // Removing an ACL a file does not have succeeds on Linux's tmpfs.
    if (IsAclName(name)) return {};
    return base::Err(EOPNOTSUPP);
  }
  absl::MutexLock lock(&fs_->mu);
  auto it = xattrs_.find(name);
  if (it == xattrs_.end()) return base::Err(ENODATA);
  fs_->xattr_used.fetch_sub(XattrSpace(name, it->second));
  xattrs_.erase(it);
  TouchLocked(false, false, true);
  return {};
}

}  // namespace vfs::tmpfs
