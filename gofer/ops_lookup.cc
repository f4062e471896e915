// Operations that read: attach, walk, stat, open, readlink, getdents,
// statfs.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gofer/server.h"
#include "gofer/wire.h"

namespace gofer {

using base::Err;
using base::Result;
using base::UniqueFd;

Result<void> Server::Attach(const proto::AttachRequest& req,
                            proto::AttachResponse* resp) {
  std::string name = req.mount().empty() ? "/" : req.mount();
  const Mount* mount = nullptr;
  for (const Mount& m : mounts_)
    if (m.name == name) mount = &m;
  if (!mount) return Err(ENOENT);
  auto node = std::make_shared<Node>();
  node->fd.Reset(fcntl(mount->root.get(), F_DUPFD_CLOEXEC, 0));
  if (!node->fd) return Err(errno);
  struct stat st;
  if (fstatat(node->fd.get(), "", &st, AT_EMPTY_PATH) != 0) return Err(errno);
  node->mount = mount;
  node->dev = st.st_dev;
  node->ino = st.st_ino;
  node->type = st.st_mode & S_IFMT;
  resp->mutable_node()->set_handle(TRY(Insert(std::move(node))));
  FillStat(st, resp->mutable_node()->mutable_stat());
  resp->set_read_only(mount->read_only);
  return {};
}

Result<void> Server::Walk(const proto::WalkRequest& req,
                          proto::WalkResponse* resp) {
  NodeRef dir = TRY(LookupDir(req.dir()));
  *resp->mutable_node() = TRY(AddChild(dir, req.name()));
  return {};
}

Result<void> Server::GetStat(const proto::StatRequest& req,
                             proto::StatResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  struct stat st;
  if (fstatat(node->fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
    return Err(errno);
  FillStat(st, resp->mutable_stat());
  return {};
}

Result<UniqueFd> Server::Open(const proto::OpenRequest& req) {
  NodeRef node = TRY(Lookup(req.handle()));
  int flags = static_cast<int>(req.flags());
  if ((flags & ~kOpenFlags) || (flags & O_ACCMODE) == O_ACCMODE)
    return Err(EINVAL);
  bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
  switch (node->type) {
    case S_IFREG:
      break;
    case S_IFDIR:
      if (writes) return Err(EISDIR);
      break;
    case S_IFLNK:
      return Err(ELOOP);
    case S_IFSOCK:
      return Err(ENXIO);  // as open(2) of a socket; Connect reaches it
    default:
      // Host FIFOs and devices are not handed out: the sentry has its own.
      return Err(EACCES);
  }
  if (writes && node->mount->read_only) return Err(EROFS);
  return Reopen(node, flags & ~O_CLOEXEC);
}

Result<void> Server::Readlink(const proto::ReadlinkRequest& req,
                              proto::ReadlinkResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (node->type != S_IFLNK) return Err(EINVAL);
  char buf[PATH_MAX];
  ssize_t n = readlinkat(node->fd.get(), "", buf, sizeof(buf));
  if (n < 0) return Err(errno);
  resp->set_target(buf, n);
  return {};
}

Result<void> Server::Getdents(const proto::GetdentsRequest& req,
                              proto::GetdentsResponse* resp) {
  NodeRef dir = TRY(LookupDir(req.handle()));
  if (req.offset() < 0) return Err(EINVAL);
  uint32_t count = req.count();
  if (count == 0 || count > kMaxDirents) count = kMaxDirents;
  UniqueFd fd = TRY(Reopen(dir, O_RDONLY | O_DIRECTORY));
  if (lseek(fd.get(), req.offset(), SEEK_SET) < 0) return Err(errno);
  alignas(8) char buf[16384];
  while (static_cast<uint32_t>(resp->entries_size()) < count) {
    long n = syscall(SYS_getdents64, fd.get(), buf, sizeof(buf));
    if (n < 0) return Err(errno);
    if (n == 0) break;
    for (long pos = 0; pos < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + pos);
      pos += d->d_reclen;
      if (static_cast<uint32_t>(resp->entries_size()) == count) break;
      proto::Dirent* e = resp->add_entries();
      e->set_ino(d->d_ino);
      e->set_offset(d->d_off);
      e->set_type(d->d_type);
      e->set_name(d->d_name, strnlen(d->d_name, NAME_MAX));
    }
  }
  return {};
}

Result<void> Server::Statfs(const proto::StatfsRequest& req,
                            proto::StatfsResponse* resp) {
  NodeRef node = TRY(Lookup(req.handle()));
  struct statfs s;
  if (fstatfs(node->fd.get(), &s) != 0) return Err(errno);
  resp->set_type(s.f_type);
  resp->set_bsize(s.f_bsize);
  resp->set_blocks(s.f_blocks);
  resp->set_bfree(s.f_bfree);
  resp->set_bavail(s.f_bavail);
  resp->set_files(s.f_files);
  resp->set_ffree(s.f_ffree);
  resp->set_namelen(s.f_namelen);
  resp->set_frsize(s.f_frsize);
  resp->set_flags(s.f_flags);
  return {};
}

}  // namespace gofer
