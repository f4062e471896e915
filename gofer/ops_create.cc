// Operations that change names: create, mkdir, mknod, symlink, link,
// unlink, rmdir, rename, bind, connect.
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

bool IsSocketType(uint32_t type) {
  return type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET;
}

// A sockaddr for `name` relative to the cwd; names that do not fit are
// ENAMETOOLONG.
Result<sockaddr_un> UnixAddr(const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() >= sizeof(addr.sun_path)) return Err(ENAMETOOLONG);
  memcpy(addr.sun_path, name.data(), name.size());
  return addr;
}

}  // namespace

// A directory handle the client may change.
#define WRITABLE_DIR(handle)                     \
  ({                                             \
    auto d_ = TRY(LookupDir(handle));            \
    if (d_->mount->read_only) return Err(EROFS); \
    d_;                                          \
  })

// Gives the node the owner the client asked for, through its own O_PATH
// fd (so never another file that took its name meanwhile), and answers
// with its stat afterwards.
static Result<void> ChownNode(const Node& node, bool has_owner,
                              const proto::Owner& owner, proto::Node* out) {
  if (has_owner && fchownat(node.fd.get(), "", owner.uid(), owner.gid(),
                            AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return Err(errno);
  struct stat st;
  if (fstatat(node.fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
    return Err(errno);
  FillStat(st, out->mutable_stat());
  return {};
}

// The handle for a file just made as `req.name()` in `dir`, if it is still
// there with the type it was made with, with the owner the request asks.
template <class Request>
Result<proto::Node> Server::AddNew(const NodeRef& dir, const Request& req,
                                   mode_t type) {
  struct stat st;
  NodeRef node = TRY(OpenChild(dir, req.name(), &st));
  if (node->type != type) return Err(ESTALE);
  proto::Node out;
  TRY(ChownNode(*node, req.has_owner(), req.owner(), &out));
  out.set_handle(TRY(Insert(std::move(node))));
  return out;
}

Result<UniqueFd> Server::Create(const proto::CreateRequest& req,
                                proto::CreateResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  int flags = static_cast<int>(req.flags());
  if ((flags & ~(kOpenFlags & ~O_DIRECTORY)) ||
      (flags & O_ACCMODE) == O_ACCMODE)
    return Err(EINVAL);
  absl::ReaderMutexLock ns(&namespace_mu_);
  UniqueFd fd(openat(dir->fd.get(), req.name().c_str(),
                     (flags & ~O_CLOEXEC) | O_CREAT | O_EXCL | O_NOFOLLOW |
                         O_CLOEXEC | O_NOCTTY,
                     req.mode() & 07777));
  if (!fd) return Err(errno);
  struct stat st, fst;
  NodeRef node = TRY(OpenChild(dir, req.name(), &st));
  if (fstat(fd.get(), &fst) != 0) return Err(errno);
  if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) return Err(ESTALE);
  TRY(ChownNode(*node, req.has_owner(), req.owner(), resp->mutable_node()));
  resp->mutable_node()->set_handle(TRY(Insert(std::move(node))));
  return fd;
}

Result<void> Server::Mkdir(const proto::MkdirRequest& req,
                           proto::MkdirResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (mkdirat(dir->fd.get(), req.name().c_str(), req.mode() & 07777) != 0)
    return Err(errno);
  *resp->mutable_node() = TRY(AddNew(dir, req, S_IFDIR));
  return {};
}

Result<void> Server::Mknod(const proto::MknodRequest& req,
                           proto::MknodResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  mode_t type = req.mode() & S_IFMT;
  if (type == 0) type = S_IFREG;
  // No device nodes: a host device made here would be reachable by the
  // host, and the sentry serves its own /dev.
  if (type != S_IFREG && type != S_IFIFO) return Err(EPERM);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (mknodat(dir->fd.get(), req.name().c_str(), type | (req.mode() & 07777),
              0) != 0)
    return Err(errno);
  *resp->mutable_node() = TRY(AddNew(dir, req, type));
  return {};
}

Result<void> Server::Symlink(const proto::SymlinkRequest& req,
                             proto::SymlinkResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  const std::string& target = req.target();
  if (target.empty()) return Err(ENOENT);
  if (target.size() >= PATH_MAX) return Err(ENAMETOOLONG);
  if (target.find('\0') != std::string::npos) return Err(EINVAL);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (symlinkat(target.c_str(), dir->fd.get(), req.name().c_str()) != 0)
    return Err(errno);
  *resp->mutable_node() = TRY(AddNew(dir, req, S_IFLNK));
  return {};
}

Result<void> Server::Link(const proto::LinkRequest& req,
                          proto::LinkResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  NodeRef target = TRY(Lookup(req.target()));
  if (target->type == S_IFDIR) return Err(EPERM);
  if (target->mount != dir->mount) return Err(EXDEV);
  absl::ReaderMutexLock ns(&namespace_mu_);
  // Links the file the handle holds, whatever its name is now
  // (CAP_DAC_READ_SEARCH). Without it, through its last known name.
  if (linkat(target->fd.get(), "", dir->fd.get(), req.name().c_str(),
             AT_EMPTY_PATH) != 0) {
    if (errno != ENOENT && errno != EPERM) return Err(errno);
    auto [parent, name] = TRY(Where(target));
    if (linkat(parent->fd.get(), name.c_str(), dir->fd.get(),
               req.name().c_str(), 0) != 0)
      return Err(errno);
  }
  struct stat st;
  NodeRef node = TRY(OpenChild(dir, req.name(), &st));
  if (node->dev != target->dev || node->ino != target->ino) {
    // The fallback linked whatever took the old name meanwhile.
    unlinkat(dir->fd.get(), req.name().c_str(), 0);
    return Err(ESTALE);
  }
  FillStat(st, resp->mutable_node()->mutable_stat());
  resp->mutable_node()->set_handle(TRY(Insert(std::move(node))));
  return {};
}

Result<void> Server::Unlink(const proto::UnlinkRequest& req) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (unlinkat(dir->fd.get(), req.name().c_str(), 0) != 0) return Err(errno);
  return {};
}

Result<void> Server::Rmdir(const proto::RmdirRequest& req) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (unlinkat(dir->fd.get(), req.name().c_str(), AT_REMOVEDIR) != 0)
    return Err(errno);
  return {};
}

Result<void> Server::Rename(const proto::RenameRequest& req) {
  NodeRef old_dir = WRITABLE_DIR(req.old_dir());
  NodeRef new_dir = WRITABLE_DIR(req.new_dir());
  if (int e = CheckName(req.old_name())) return Err(e);
  if (int e = CheckName(req.new_name())) return Err(e);
  uint32_t flags = req.flags();
  // RENAME_WHITEOUT would make a device node; the overlay keeps its
  // whiteouts in the sentry.
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return Err(EINVAL);
  if (old_dir->mount != new_dir->mount) return Err(EXDEV);
  absl::ReaderMutexLock ns(&namespace_mu_);
  if (renameat2(old_dir->fd.get(), req.old_name().c_str(), new_dir->fd.get(),
                req.new_name().c_str(), flags) != 0)
    return Err(errno);
  Renamed(old_dir, req.old_name(), new_dir, req.new_name(),
          flags & RENAME_EXCHANGE);
  return {};
}

Result<UniqueFd> Server::Bind(const proto::BindRequest& req,
                              proto::BindResponse* resp) {
  NodeRef dir = WRITABLE_DIR(req.dir());
  if (int e = CheckName(req.name())) return Err(e);
  if (!IsSocketType(req.type())) return Err(ESOCKTNOSUPPORT);
  sockaddr_un addr = TRY(UnixAddr(req.name()));
  UniqueFd sock(socket(AF_UNIX, req.type() | SOCK_CLOEXEC, 0));
  if (!sock) return Err(errno);
  // bind(2) takes a path, not a directory fd: resolve the name from the
  // cwd, which only Bind and Connect use, under the exclusive lock.
  // The socket file's mode comes from the umask (0 otherwise): the
  // operations that depend on it hold the lock shared, so none runs now.
  absl::MutexLock ns(&namespace_mu_);
  if (fchdir(dir->fd.get()) != 0) return Err(errno);
  umask(~req.mode() & 0777);
  int rc = bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  umask(0);
  (void)fchdir(mounts_[0].root.get());
  if (rc != 0) return Err(bind_errno);
  *resp->mutable_node() = TRY(AddNew(dir, req, S_IFSOCK));
  return sock;
}

Result<UniqueFd> Server::Connect(const proto::ConnectRequest& req) {
  NodeRef node = TRY(Lookup(req.handle()));
  if (node->type != S_IFSOCK) return Err(ECONNREFUSED);
  if (!IsSocketType(req.type())) return Err(ESOCKTNOSUPPORT);
  auto [parent, name] = TRY(Where(node));
  sockaddr_un addr = TRY(UnixAddr(name));
  // Non-blocking, so a full backlog answers EAGAIN instead of holding the
  // lock below.
  UniqueFd sock(socket(AF_UNIX, req.type() | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return Err(errno);
  // connect(2) follows a symlink in the last component: with the lock
  // held exclusively no other operation can put one in place of the
  // socket file checked here.
  absl::MutexLock ns(&namespace_mu_);
  struct stat st;
  if (fstatat(parent->fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return Err(errno == ENOENT ? ESTALE : errno);
  if (st.st_dev != node->dev || st.st_ino != node->ino) return Err(ESTALE);
  if (fchdir(parent->fd.get()) != 0) return Err(errno);
  int rc =
      connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int connect_errno = errno;
  (void)fchdir(mounts_[0].root.get());
  if (rc != 0) return Err(connect_errno);
  int fl = fcntl(sock.get(), F_GETFL);
  if (fl < 0 || fcntl(sock.get(), F_SETFL, fl & ~O_NONBLOCK) != 0)
    return Err(errno);
  return sock;
}

#undef WRITABLE_DIR

}  // namespace gofer
