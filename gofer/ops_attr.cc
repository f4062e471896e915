// Operations on attributes: setattr and the xattr family.
#include <fcntl.h>
#include <linux/limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gofer/server.h"
#include "gofer/wire.h"

namespace gofer {

using base::Err;
using base::Result;
using base::UniqueFd;

namespace {

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

bool IsValidXattrName(const std::string& name) {
  return !name.empty() && name.size() <= XATTR_NAME_MAX &&
         name.find('\0') == std::string::npos;
}

// Only the "user." namespace is served, read or written: "security."
// holds the host's labels and file capabilities (the host trusts them;
// the sandbox honours neither, and they say things about the host),
// "trusted." needs CAP_SYS_ADMIN, which the gofer never has, and
// "system." is ACLs, which the sentry does not implement. Other names
// read as absent (ENODATA) and cannot be changed (EPERM), without a host
// call.
bool IsServedXattrName(const std::string& name) {
  return IsValidXattrName(name) && name.starts_with("user.");
}

bool HasXattrs(mode_t type) { return type == S_IFREG || type == S_IFDIR; }

}  // namespace

Result<void> Server::Setattr(const proto::SetattrRequest& req,
                             proto::SetattrResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  uint32_t mask = req.mask();
  if (mask & ~kSetattrAll) return Err(EINVAL);
  if (mask && node->mount->read_only) return Err(EROFS);
  int fd = node->fd.get();

  if (mask & kSetattrMode) {
    mode_t mode = req.mode() & 07777;
    // fchmodat2 (Linux 6.6) changes the file an O_PATH fd holds; older
    // kernels reopen it.
    if (syscall(SYS_fchmodat2, fd, "", mode,
                AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOSYS) return Err(errno);
      if (node->type != S_IFREG && node->type != S_IFDIR)
        return Err(EOPNOTSUPP);
      UniqueFd f = TRY(Reopen(node, O_RDONLY));
      if (fchmod(f.get(), mode) != 0) return Err(errno);
    }
  }
  if (mask & (kSetattrUid | kSetattrGid)) {
    uid_t uid = (mask & kSetattrUid) ? req.uid() : static_cast<uid_t>(-1);
    gid_t gid = (mask & kSetattrGid) ? req.gid() : static_cast<gid_t>(-1);
    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return Err(errno);
  }
  if (mask & kSetattrSize) {
    if (node->type == S_IFDIR) return Err(EISDIR);
    if (node->type != S_IFREG || req.size() < 0) return Err(EINVAL);
    UniqueFd f = TRY(Reopen(node, O_WRONLY));
    if (ftruncate(f.get(), req.size()) != 0) return Err(errno);
  }
  if (mask & (kSetattrAtime | kSetattrMtime)) {
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (mask & kSetattrAtime) ts[0] = {req.atime_sec(), req.atime_nsec()};
    if (mask & kSetattrMtime) ts[1] = {req.mtime_sec(), req.mtime_nsec()};
    if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
      return Err(errno);
  }
  struct stat st;
  if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return Err(errno);
  FillStat(st, resp->mutable_stat());
  return {};
}

Result<void> Server::Getxattr(const proto::GetxattrRequest& req,
                              proto::GetxattrResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (!IsValidXattrName(req.name())) return Err(EINVAL);
  if (!IsServedXattrName(req.name()) || !HasXattrs(node->type))
    return Err(ENODATA);
  // Reopened for reading: f*xattr do not work on O_PATH fds, and Reopen
  // never follows a symlink (HasXattrs already refused one).
  UniqueFd f = TRY(Reopen(node, O_RDONLY));
  std::string value(XATTR_SIZE_MAX, '\0');
  ssize_t n =
      fgetxattr(f.get(), req.name().c_str(), value.data(), value.size());
  if (n < 0) return Err(errno);
  value.resize(n);
  resp->set_value(std::move(value));
  return {};
}

Result<void> Server::Setxattr(const proto::SetxattrRequest& req) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (!IsValidXattrName(req.name())) return Err(EINVAL);
  if (req.value().size() > XATTR_SIZE_MAX) return Err(E2BIG);
  if (req.flags() & ~(XATTR_CREATE | XATTR_REPLACE)) return Err(EINVAL);
  if (node->mount->read_only) return Err(EROFS);
  if (!IsServedXattrName(req.name()) || !HasXattrs(node->type))
    return Err(EPERM);
  UniqueFd f = TRY(Reopen(node, O_RDONLY));
  if (fsetxattr(f.get(), req.name().c_str(), req.value().data(),
                req.value().size(), static_cast<int>(req.flags())) != 0)
    return Err(errno);
  return {};
}

Result<void> Server::Listxattr(const proto::ListxattrRequest& req,
                               proto::ListxattrResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (!HasXattrs(node->type)) return {};
  UniqueFd f = TRY(Reopen(node, O_RDONLY));
  std::string list(XATTR_LIST_MAX, '\0');
  ssize_t n = flistxattr(f.get(), list.data(), list.size());
  if (n < 0) return Err(errno);
  for (size_t pos = 0; pos < static_cast<size_t>(n);) {
    size_t len = strnlen(list.data() + pos, n - pos);
    std::string name(list.data() + pos, len);
    if (IsServedXattrName(name)) resp->add_names(std::move(name));
    pos += len + 1;
  }
  return {};
}

Result<void> Server::Removexattr(const proto::RemovexattrRequest& req) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (!IsValidXattrName(req.name())) return Err(EINVAL);
  if (node->mount->read_only) return Err(EROFS);
  if (!IsServedXattrName(req.name()) || !HasXattrs(node->type))
    return Err(EPERM);
  UniqueFd f = TRY(Reopen(node, O_RDONLY));
  if (fremovexattr(f.get(), req.name().c_str()) != 0) return Err(errno);
  return {};
}

}  // namespace gofer
