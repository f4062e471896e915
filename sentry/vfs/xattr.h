// Extended-attribute names and limits as Linux has them (fs/xattr.c,
// include/uapi/linux/limits.h), shared by the VFS checks (vfs_xattr.cc),
// the filesystems that keep xattrs (tmpfs) and the overlay's copy-up.
#ifndef SENTRY_VFS_XATTR_H_
#define SENTRY_VFS_XATTR_H_

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace vfs {

inline constexpr size_t kXattrNameMax = 255;    // XATTR_NAME_MAX
inline constexpr size_t kXattrSizeMax = 65536;  // XATTR_SIZE_MAX
inline constexpr size_t kXattrListMax = 65536;  // XATTR_LIST_MAX

// The namespaces Linux knows, by prefix.
enum class XattrNs { kUser, kTrusted, kSecurity, kSystem, kUnknown };

inline constexpr std::string_view kXattrUserPrefix = "user.";
inline constexpr std::string_view kXattrTrustedPrefix = "trusted.";
inline constexpr std::string_view kXattrSecurityPrefix = "security.";
inline constexpr std::string_view kXattrSystemPrefix = "system.";
// File capabilities (vfs_cap_data), the one security.* name with rules of
// its own.
inline constexpr std::string_view kXattrSecurityCapability =
    "security.capability";
// Linux's overlayfs keeps its own marks under this prefix and never shows
// them; ours live in the sentry (overlay_internal.h), and a lower layer's
// are hidden the same way.
inline constexpr std::string_view kXattrOverlayPrefix = "trusted.overlay.";

inline XattrNs XattrNamespace(std::string_view name) {
  if (name.starts_with(kXattrUserPrefix)) return XattrNs::kUser;
  if (name.starts_with(kXattrTrustedPrefix)) return XattrNs::kTrusted;
  if (name.starts_with(kXattrSecurityPrefix)) return XattrNs::kSecurity;
  if (name.starts_with(kXattrSystemPrefix)) return XattrNs::kSystem;
  return XattrNs::kUnknown;
}

// The read-only host trees below the overlay (the gofer's, HostFs in
// unit tests) pass only some names to the host: `user.*` (and for HostFs
// `trusted.*`). Everything else answers as a file that has none: the
// ACL names ENODATA (a file without ACLs), other system.* names
// EOPNOTSUPP (no such handler), security.* ENODATA (the host's labels and
// file capabilities are the host's, and the sandbox honours neither).
inline int HiddenXattrError(std::string_view name) {
  if (XattrNamespace(name) != XattrNs::kSystem) return ENODATA;
  return name == "system.posix_acl_access" ||
                 name == "system.posix_acl_default"
             ? ENODATA
             : EOPNOTSUPP;
}

}  // namespace vfs

#endif  // SENTRY_VFS_XATTR_H_
