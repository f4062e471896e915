#include "gofer/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "base/log.h"
#include "gofer/wire.h"

namespace gofer {

using base::Err;
using base::Result;
using base::UniqueFd;

namespace {

// An operation's fd, if it answers with one, goes with the answer.
void KeepFd(Result<void>&, std::vector<UniqueFd>*) {}
void KeepFd(Result<UniqueFd>& r, std::vector<UniqueFd>* fds) {
  fds->push_back(std::move(*r));
}

}  // namespace

void FillStat(const struct stat& st, proto::Stat* out) {
  out->set_dev(st.st_dev);
  out->set_ino(st.st_ino);
  out->set_mode(st.st_mode);
  out->set_nlink(st.st_nlink);
  out->set_uid(st.st_uid);
  out->set_gid(st.st_gid);
  out->set_rdev(st.st_rdev);
  out->set_size(st.st_size);
  out->set_blksize(st.st_blksize);
  out->set_blocks(st.st_blocks);
  out->set_atime_sec(st.st_atim.tv_sec);
  out->set_atime_nsec(st.st_atim.tv_nsec);
  out->set_mtime_sec(st.st_mtim.tv_sec);
  out->set_mtime_nsec(st.st_mtim.tv_nsec);
  out->set_ctime_sec(st.st_ctim.tv_sec);
  out->set_ctime_nsec(st.st_ctim.tv_nsec);
}

Server::Server(std::vector<Mount> mounts, Options options)
    : mounts_(std::move(mounts)), options_(options) {}

Server::~Server() = default;

size_t Server::HandleCount() const {
  absl::MutexLock l(&mu_);
  return nodes_.size();
}

int Server::Serve(int sock) {
  // Every worker reads requests itself (a SOCK_SEQPACKET read takes one
  // whole packet, whoever reads), so a request reaches the thread that
  // answers it without a hand-off between threads: on a loaded host each
  // wake-up costs as much as the work (docs/perf.md, "File system").
  const int n = options_.workers < 1 ? 1 : options_.workers;
  std::atomic<int> status = 0;
  std::vector<std::thread> workers;
  for (int i = 1; i < n; ++i) {
    workers.emplace_back([this, sock, &status] {
      if (Worker(sock) != 0) status = 1;
    });
  }
  if (Worker(sock) != 0) status = 1;
  for (auto& t : workers) t.join();
  return status;
}

int Server::Worker(int sock) {
  for (;;) {
    auto packet = ReceivePacket(sock);
    if (!packet) {
      // End of stream: every worker sees it and returns.
      if (packet.error().value == ENODATA) return 0;
      if (packet.error().value != EBADMSG) {
        LOG(Error) << "gofer: receive: "
                   << base::ErrnoName(packet.error().value);
        return 1;
      }
    }
    proto::Request req;
    if (!packet || !req.ParseFromString(packet->bytes)) {
      // Not a request at all: say so under id 0, which no client uses.
      proto::Response resp;
      resp.set_error(EBADMSG);
      (void)SendMessage(sock, resp);
      continue;
    }
    proto::Response resp;
    std::vector<UniqueFd> fds;
    Handle(req, &resp, &fds);
    std::vector<int> raw;
    for (auto& f : fds) raw.push_back(f.get());
    auto sent = SendMessage(sock, resp, raw);
    if (!sent && sent.error().value == EMSGSIZE) {
      // Too big for the socket: the caller must still get an answer.
      proto::Response err;
      err.set_id(req.id());
      err.set_error(EMSGSIZE);
      sent = SendMessage(sock, err);
    }
    // Any other failure means the client is gone; the next read sees it.
  }
}

// Runs one operation: `call` returns Result<void> or Result<UniqueFd>.
#define GOFER_OP(field, call)           \
  case proto::Request::k##field: {      \
    auto r = call;                      \
    if (!r) {                           \
      resp->Clear();                    \
      resp->set_id(req.id());           \
      resp->set_error(r.error().value); \
      return;                           \
    }                                   \
    KeepFd(r, fds);                     \
    return;                             \
  }

void Server::Handle(const proto::Request& req, proto::Response* resp,
                    std::vector<UniqueFd>* fds) {
  resp->set_id(req.id());
  switch (req.op_case()) {
    GOFER_OP(Attach, Attach(req.attach(), resp->mutable_attach()))
    GOFER_OP(Walk, Walk(req.walk(), resp->mutable_walk()))
    GOFER_OP(Stat, GetStat(req.stat(), resp->mutable_stat()))
    GOFER_OP(Open, (resp->mutable_open(), Open(req.open())))
    GOFER_OP(Create, Create(req.create(), resp->mutable_create()))
    GOFER_OP(Mkdir, Mkdir(req.mkdir(), resp->mutable_mkdir()))
    GOFER_OP(Mknod, Mknod(req.mknod(), resp->mutable_mknod()))
    GOFER_OP(Symlink, Symlink(req.symlink(), resp->mutable_symlink()))
    GOFER_OP(Link, Link(req.link(), resp->mutable_link()))
    GOFER_OP(Unlink, (resp->mutable_unlink(), Unlink(req.unlink())))
    GOFER_OP(Rmdir, (resp->mutable_rmdir(), Rmdir(req.rmdir())))
    GOFER_OP(Rename, (resp->mutable_rename(), Rename(req.rename())))
    GOFER_OP(Readlink, Readlink(req.readlink(), resp->mutable_readlink()))
    GOFER_OP(Getdents, Getdents(req.getdents(), resp->mutable_getdents()))
    GOFER_OP(Setattr, Setattr(req.setattr(), resp->mutable_setattr()))
    GOFER_OP(Statfs, Statfs(req.statfs(), resp->mutable_statfs()))
    GOFER_OP(Getxattr, Getxattr(req.getxattr(), resp->mutable_getxattr()))
    GOFER_OP(Setxattr, (resp->mutable_setxattr(), Setxattr(req.setxattr())))
    GOFER_OP(Listxattr, Listxattr(req.listxattr(), resp->mutable_listxattr()))
    GOFER_OP(Removexattr,
             (resp->mutable_removexattr(), Removexattr(req.removexattr())))
    GOFER_OP(Bind, Bind(req.bind(), resp->mutable_bind()))
    GOFER_OP(Connect, (resp->mutable_connect(), Connect(req.connect())))
    case proto::Request::kClose:
      Close(req.close(), resp->mutable_close());
      return;
    case proto::Request::OP_NOT_SET:
      break;
  }
  resp->set_error(EINVAL);
}

#undef GOFER_OP

Result<Server::NodeRef> Server::Lookup(uint64_t handle) const {
  absl::MutexLock l(&mu_);
  auto it = nodes_.find(handle);
  if (it == nodes_.end()) return Err(EBADF);
  return it->second;
}

Result<Server::NodeRef> Server::LookupDir(uint64_t handle) const {
  NodeRef n = TRY(Lookup(handle));
  if (n->type != S_IFDIR) return Err(ENOTDIR);
  return n;
}

Result<uint64_t> Server::Insert(NodeRef node) {
  absl::MutexLock l(&mu_);
  if (nodes_.size() >= options_.max_handles) return Err(EMFILE);
  uint64_t h = next_handle_++;
  nodes_.emplace(h, std::move(node));
  return h;
}

Result<Server::NodeRef> Server::OpenChild(const NodeRef& dir,
                                          const std::string& name,
                                          struct stat* st) {
  if (int e = CheckName(name)) return Err(e);
  int fd = openat(dir->fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Err(errno);
  auto node = std::make_shared<Node>();
  node->fd.Reset(fd);
  if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    return Err(errno);
  node->mount = dir->mount;
  node->dev = st->st_dev;
  node->ino = st->st_ino;
  node->type = st->st_mode & S_IFMT;
  // Only non-directories reopen by name; a directory's parent is not kept
  // alive for it.
  if (node->type != S_IFDIR) {
    node->parent = dir;
    node->name = name;
  }
  return node;
}

Result<proto::Node> Server::AddChild(const NodeRef& dir,
                                     const std::string& name) {
  struct stat st;
  NodeRef node = TRY(OpenChild(dir, name, &st));
  proto::Node out;
  out.set_handle(TRY(Insert(std::move(node))));
  FillStat(st, out.mutable_stat());
  return out;
}

Result<std::pair<Server::NodeRef, std::string>> Server::Where(
    const NodeRef& node) const {
  absl::MutexLock l(&mu_);
  if (!node->parent) return Err(ESTALE);
  return std::make_pair(node->parent, node->name);
}

Result<UniqueFd> Server::Reopen(const NodeRef& node, int flags) {
  // O_NONBLOCK so a FIFO swapped in under the name cannot block a worker;
  // it is cleared again below unless asked for.
  int open_flags = flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  UniqueFd fd;
  if (node->type == S_IFDIR) {
    // A directory reopens through its own O_PATH fd: no name involved.
    fd.Reset(openat(node->fd.get(), ".", open_flags | O_DIRECTORY));
  } else {
    auto [parent, name] = TRY(Where(node));
    fd.Reset(openat(parent->fd.get(), name.c_str(), open_flags));
  }
  if (!fd) return Err(errno == ENOENT ? ESTALE : errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Err(errno);
  if (st.st_dev != node->dev || st.st_ino != node->ino) return Err(ESTALE);
  if (!(flags & O_NONBLOCK)) {
    int fl = fcntl(fd.get(), F_GETFL);
    if (fl < 0 || fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0)
      return Err(errno);
  }
  return fd;
}

void Server::Renamed(const NodeRef& old_dir, const std::string& old_name,
                     const NodeRef& new_dir, const std::string& new_name,
                     bool exchange) {
  // Several nodes may name one directory: compare the files, not the nodes.
  auto same = [](const Node* a, const Node& b) {
    return a && a->dev == b.dev && a->ino == b.ino;
  };
  absl::MutexLock l(&mu_);
  for (auto& [h, n] : nodes_) {
    if (same(n->parent.get(), *old_dir) && n->name == old_name) {
      n->parent = new_dir;
      n->name = new_name;
    } else if (exchange && same(n->parent.get(), *new_dir) &&
               n->name == new_name) {
      n->parent = old_dir;
      n->name = old_name;
    }
  }
}

void Server::Close(const proto::CloseRequest& req, proto::CloseResponse* resp) {
  std::vector<NodeRef> released;  // closed after the lock is dropped
  {
    absl::MutexLock l(&mu_);
    for (uint64_t h : req.handles()) {
      auto it = nodes_.find(h);
      if (it == nodes_.end()) continue;
      released.push_back(std::move(it->second));
      nodes_.erase(it);
    }
  }
  resp->set_closed(released.size());
}

}  // namespace gofer
