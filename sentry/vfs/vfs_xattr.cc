// The extended-attribute calls: getxattr, listxattr, setxattr and
// removexattr by path and by open file, with the checks Linux's VFS makes
// before a filesystem sees the call (fs/xattr.c, security/commoncap.c).
#include <sys/xattr.h>

#include <cstring>

#include "sentry/vfs/inotify.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs_impl.h"
#include "sentry/vfs/xattr.h"

namespace vfs {
namespace {

// CAP_SYS_ADMIN (trusted.*, security.*) and CAP_SETFCAP
// (security.capability): uid 0 stands for them, as for the other
// capabilities the VFS checks (permission.h).
bool IsAdmin(const Creds& c) { return IsRoot(c); }

// Linux's xattr_permission: who may read (kMayRead) or change (kMayWrite)
// `ns` on a file with `st`.
base::Result<void> XattrPermission(const struct stat& st, XattrNs ns, int mask,
                                   const Creds& c) {
  const bool write = mask & kMayWrite;
  switch (ns) {
    case XattrNs::kSecurity:
    case XattrNs::kSystem:
      return {};  // the security module's and the ACLs' business
    case XattrNs::kTrusted:
      if (!IsAdmin(c)) return base::Err(write ? EPERM : ENODATA);
      return {};
    case XattrNs::kUser:
      // Only files and directories: a device's or a symlink's mode bits
      // say nothing about who may write its xattrs.
      if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        return base::Err(write ? EPERM : ENODATA);
      }
      // /tmp is world-writable: its xattrs are its owner's.
      if (S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && write &&
          !IsOwner(st, c) && !IsRoot(c)) {
        return base::Err(EPERM);
      }
      break;
    case XattrNs::kUnknown:
      break;
  }
  return CheckPermission(st, mask, c);
}

// xattr_resolve_name: an unknown namespace is EOPNOTSUPP, a namespace
// prefix with nothing after it EINVAL.
base::Result<void> CheckName(const std::string& name, XattrNs ns) {
  switch (ns) {
    case XattrNs::kUser:
      return name.size() > kXattrUserPrefix.size() ? base::Result<void>{}
                                                   : base::Err(EINVAL);
    case XattrNs::kTrusted:
      return name.size() > kXattrTrustedPrefix.size() ? base::Result<void>{}
                                                      : base::Err(EINVAL);
    case XattrNs::kSecurity:
      return name.size() > kXattrSecurityPrefix.size() ? base::Result<void>{}
                                                       : base::Err(EINVAL);
    case XattrNs::kSystem:
      // Whole names (system.posix_acl_access...), not a prefix: the
      // filesystem knows which it has (EOPNOTSUPP for the others).
      return {};
    case XattrNs::kUnknown:
      break;
  }
  return base::Err(EOPNOTSUPP);
}

// vfs_cap_data: magic_etc, then {permitted, inheritable}, then (revision
// 3) the root uid of the namespace the capabilities belong to.
constexpr uint32_t kCapRevisionMask = 0xff000000;
constexpr uint32_t kCapRevision2 = 0x02000000;
constexpr uint32_t kCapRevision3 = 0x03000000;
constexpr size_t kCapsSize2 = 20;
constexpr size_t kCapsSize3 = 24;

// cap_convert_nscap: a security.capability value must be a revision 2 or
// 3 header of the right size (EINVAL) and needs CAP_SETFCAP (EPERM). A
// revision 3 value for root (uid 0) is stored as revision 2, as Linux
// does in the initial namespace (the sandbox's only one).
base::Result<std::string> ConvertFileCaps(std::string_view value,
                                          const Creds& c) {
  uint32_t magic = 0;
  if (value.size() >= sizeof magic) {
    std::memcpy(&magic, value.data(), sizeof magic);
  }
  const uint32_t rev = magic & kCapRevisionMask;
  const bool v2 = value.size() == kCapsSize2 && rev == kCapRevision2;
  const bool v3 = value.size() == kCapsSize3 && rev == kCapRevision3;
  if (!v2 && !v3) return base::Err(EINVAL);
  if (!IsAdmin(c)) return base::Err(EPERM);
  std::string out(value);
  if (v3) {
    uint32_t rootid;
    std::memcpy(&rootid, value.data() + kCapsSize2, sizeof rootid);
    if (rootid == 0) {
      magic = (magic & ~kCapRevisionMask) | kCapRevision2;
      out.resize(kCapsSize2);
      std::memcpy(out.data(), &magic, sizeof magic);
    }
  }
  return out;
}

using XattrFile = VfsImpl::NodeAndStat;

base::Result<std::string> DoGet(const XattrFile& f, const Creds& c,
                                const std::string& name) {
  const XattrNs ns = XattrNamespace(name);
  TRY(XattrPermission(f.st, ns, kMayRead, c));
  TRY(CheckName(name, ns));
  if (!f.node) return base::Err(EOPNOTSUPP);
  return f.node->GetXattr(name);
}

// vfs_listxattr checks no permission: anyone may see the names (but
// trusted.* only CAP_SYS_ADMIN, as the handler's list() says).
base::Result<std::vector<std::string>> DoList(const XattrFile& f,
                                              const Creds& c) {
  if (!f.node) return std::vector<std::string>{};
  std::vector<std::string> names = TRY(f.node->ListXattr());
  if (!IsAdmin(c)) {
    std::erase_if(names, [](const std::string& n) {
      return XattrNamespace(n) == XattrNs::kTrusted;
    });
  }
  return names;
}

base::Result<void> DoSet(const XattrFile& f, const Creds& c,
                         const std::string& name, std::string_view value,
                         int flags) {
  if ((f.node && f.node->read_only()) || f.read_only_mount)
    return base::Err(EROFS);
  std::string caps;
  if (name == kXattrSecurityCapability) {
    caps = TRY(ConvertFileCaps(value, c));
    value = caps;
  }
  const XattrNs ns = XattrNamespace(name);
  TRY(XattrPermission(f.st, ns, kMayWrite, c));
  // cap_inode_setxattr: the security module's names are its own.
  if (ns == XattrNs::kSecurity && name != kXattrSecurityCapability &&
      !IsAdmin(c)) {
    return base::Err(EPERM);
  }
  TRY(CheckName(name, ns));
  if (!f.node) return base::Err(EOPNOTSUPP);
  TRY(f.node->SetXattr(name, value, flags));
  // fsnotify_xattr (the file's own watches here; Linux tells its
  // directory's too).
  if (NotifyWatched()) NotifyFile(nullptr, "", f.st, IN_ATTRIB);
  return {};
}

base::Result<void> DoRemove(const XattrFile& f, const Creds& c,
                            const std::string& name) {
  if ((f.node && f.node->read_only()) || f.read_only_mount)
    return base::Err(EROFS);
  const XattrNs ns = XattrNamespace(name);
  TRY(XattrPermission(f.st, ns, kMayWrite, c));
  // cap_inode_removexattr: CAP_SETFCAP for security.capability,
  // CAP_SYS_ADMIN for the rest of security.*.
  if (ns == XattrNs::kSecurity && !IsAdmin(c)) return base::Err(EPERM);
  TRY(CheckName(name, ns));
  if (!f.node) return base::Err(EOPNOTSUPP);
  TRY(f.node->RemoveXattr(name));
  if (NotifyWatched()) NotifyFile(nullptr, "", f.st, IN_ATTRIB);
  return {};
}

}  // namespace

base::Result<VfsImpl::NodeAndStat> VfsImpl::NodeAndStatAt(
    const PathContext& ctx, std::string_view path, bool follow) {
  Resolved r = TRY(WalkIn(ctx, path, {.follow = follow}));
  const struct stat st = TRY(r.node->Stat());
  return NodeAndStat{std::move(r.node), st,
                     (r.node_flags & kMountReadOnly) != 0};
}

base::Result<VfsImpl::NodeAndStat> VfsImpl::NodeAndStatOf(
    FileDescription& file) {
  Filesystem* fs;
  std::shared_ptr<Node> node = NodeOf(file, &fs);
  // Without a node (pipes, sockets, host stdio) the description's own
  // stat still decides the namespace rules.
  const struct stat st = node ? TRY(node->Stat()) : TRY(file.Stat());
  return NodeAndStat{std::move(node), st,
                     (Table()->FlagsOf(file.path()) & kMountReadOnly) != 0};
}

base::Result<std::string> VfsImpl::GetXattr(const PathContext& ctx,
                                            std::string_view path,
                                            bool follow,
                                            const std::string& name) {
  return DoGet(TRY(NodeAndStatAt(ctx, path, follow)), ctx.creds, name);
}

base::Result<std::string> VfsImpl::GetXattr(FileDescription& file,
                                            const Creds& creds,
                                            const std::string& name) {
  return DoGet(TRY(NodeAndStatOf(file)), creds, name);
}

base::Result<std::vector<std::string>> VfsImpl::ListXattr(
    const PathContext& ctx, std::string_view path, bool follow) {
  return DoList(TRY(NodeAndStatAt(ctx, path, follow)), ctx.creds);
}

base::Result<std::vector<std::string>> VfsImpl::ListXattr(
    FileDescription& file, const Creds& creds) {
  return DoList(TRY(NodeAndStatOf(file)), creds);
}

base::Result<void> VfsImpl::SetXattr(const PathContext& ctx,
                                     std::string_view path, bool follow,
                                     const std::string& name,
                                     std::string_view value, int flags) {
  return DoSet(TRY(NodeAndStatAt(ctx, path, follow)), ctx.creds, name, value,
               flags);
}

base::Result<void> VfsImpl::SetXattr(FileDescription& file, const Creds& creds,
                                     const std::string& name,
                                     std::string_view value, int flags) {
  return DoSet(TRY(NodeAndStatOf(file)), creds, name, value, flags);
}

base::Result<void> VfsImpl::RemoveXattr(const PathContext& ctx,
                                        std::string_view path, bool follow,
                                        const std::string& name) {
  return DoRemove(TRY(NodeAndStatAt(ctx, path, follow)), ctx.creds, name);
}

base::Result<void> VfsImpl::RemoveXattr(FileDescription& file,
                                        const Creds& creds,
                                        const std::string& name) {
  return DoRemove(TRY(NodeAndStatOf(file)), creds, name);
}

}  // namespace vfs
