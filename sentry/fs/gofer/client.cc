#include "sentry/fs/gofer/client.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>

#include "gofer/wire.h"

namespace gofer {

using base::Err;
using base::Result;
using base::UniqueFd;

namespace {

struct stat ToStat(const proto::Stat& s) {
  struct stat st = {};
  st.st_dev = s.dev();
  st.st_ino = s.ino();
  st.st_mode = s.mode();
  st.st_nlink = s.nlink();
  st.st_uid = s.uid();
  st.st_gid = s.gid();
  st.st_rdev = s.rdev();
  st.st_size = s.size();
  st.st_blksize = s.blksize();
  st.st_blocks = s.blocks();
  st.st_atim = {s.atime_sec(), s.atime_nsec()};
  st.st_mtim = {s.mtime_sec(), s.mtime_nsec()};
  st.st_ctim = {s.ctime_sec(), s.ctime_nsec()};
  return st;
}

Client::Node ToNode(const proto::Node& n) {
  return {n.handle(), ToStat(n.stat())};
}

void SetOwner(std::optional<Client::Owner> owner, proto::Owner* out) {
  out->set_uid(owner->uid);
  out->set_gid(owner->gid);
}

// The one fd an answer must carry.
Result<UniqueFd> TakeFd(Client::Reply& r) {
  if (r.fds.size() != 1) return Err(EIO);
  return std::move(r.fds[0]);
}

}  // namespace

Client::Client(UniqueFd sock, std::function<void()> on_death)
    : sock_(std::move(sock)), on_death_(std::move(on_death)) {
  receiver_ = std::thread([this] { Receive(); });
}

Client::~Client() {
  // Wakes the receiver (it sees end of stream) and tells the gofer.
  closing_ = true;
  shutdown(sock_.get(), SHUT_RDWR);
  receiver_.join();
}

size_t Client::pending() const {
  absl::MutexLock l(&mu_);
  return waiting_.size();
}

void Client::FailAll() {
  dead_ = true;
  for (auto& [id, w] : waiting_) {
    w->failed = true;
    w->done = true;
  }
  waiting_.clear();
}

void Client::Receive() {
  for (;;) {
    auto packet = ReceivePacket(sock_.get());
    proto::Response resp;
    // Anything but a well-formed answer means the gofer is gone or broken:
    // nothing it says later can be trusted to match a call.
    if (!packet || !resp.ParseFromString(packet->bytes)) {
      {
        absl::MutexLock l(&mu_);
        FailAll();
      }
      if (on_death_ && !closing_) on_death_();
      return;
    }
    absl::MutexLock l(&mu_);
    auto it = waiting_.find(resp.id());
    if (it == waiting_.end()) continue;  // its fds close here
    Waiter* w = it->second;
    waiting_.erase(it);
    w->reply.response = std::move(resp);
    w->reply.fds = std::move(packet->fds);
    w->done = true;
  }
}

Result<Client::Reply> Client::Call(proto::Request req) {
  Waiter w;
  uint64_t id;
  {
    absl::MutexLock l(&mu_);
    if (dead_) return Err(EIO);
    id = next_id_++;
    waiting_[id] = &w;
  }
  req.set_id(id);
  auto sent = SendMessage(sock_.get(), req);
  absl::MutexLock l(&mu_);
  if (!sent) {
    // The waiter may already have been failed by the receiver.
    if (waiting_.erase(id) == 0) return Err(EIO);
    return Err(sent.error().value == EMSGSIZE ? EMSGSIZE : EIO);
  }
  mu_.Await(absl::Condition(&w.done));
  if (w.failed) return Err(EIO);
  return std::move(w.reply);
}

Result<Client::Reply> Client::Do(proto::Request req,
                                 proto::Response::ResultCase want) {
  Reply r = TRY(Call(std::move(req)));
  if (uint32_t e = r.response.error()) {
    // An errno from a sane gofer is small and positive.
    if (e > 4095) return Err(EIO);
    return Err(static_cast<int>(e));
  }
  if (r.response.result_case() != want) return Err(EIO);
  return r;
}

Result<Client::Node> Client::Attach(const std::string& mount, bool* read_only) {
  proto::Request req;
  req.mutable_attach()->set_mount(mount);
  Reply r = TRY(Do(std::move(req), proto::Response::kAttach));
  if (read_only) *read_only = r.response.attach().read_only();
  return ToNode(r.response.attach().node());
}

Result<Client::Node> Client::Walk(uint64_t dir, const std::string& name) {
  proto::Request req;
  req.mutable_walk()->set_dir(dir);
  req.mutable_walk()->set_name(name);
  Reply r = TRY(Do(std::move(req), proto::Response::kWalk));
  return ToNode(r.response.walk().node());
}

Result<struct stat> Client::Stat(uint64_t handle) {
  proto::Request req;
  req.mutable_stat()->set_handle(handle);
  Reply r = TRY(Do(std::move(req), proto::Response::kStat));
  return ToStat(r.response.stat().stat());
}

Result<UniqueFd> Client::Open(uint64_t handle, int flags) {
  proto::Request req;
  req.mutable_open()->set_handle(handle);
  req.mutable_open()->set_flags(flags);
  Reply r = TRY(Do(std::move(req), proto::Response::kOpen));
  return TakeFd(r);
}

Result<Client::OpenNode> Client::Create(uint64_t dir, const std::string& name,
                                        int flags, uint32_t mode,
                                        std::optional<Owner> owner) {
  proto::Request req;
  auto* c = req.mutable_create();
  c->set_dir(dir);
  c->set_name(name);
  c->set_flags(flags);
  c->set_mode(mode);
  if (owner) SetOwner(owner, c->mutable_owner());
  Reply r = TRY(Do(std::move(req), proto::Response::kCreate));
  return OpenNode{ToNode(r.response.create().node()), TRY(TakeFd(r))};
}

Result<Client::Node> Client::Mkdir(uint64_t dir, const std::string& name,
                                   uint32_t mode, std::optional<Owner> owner) {
  proto::Request req;
  auto* m = req.mutable_mkdir();
  m->set_dir(dir);
  m->set_name(name);
  m->set_mode(mode);
  if (owner) SetOwner(owner, m->mutable_owner());
  Reply r = TRY(Do(std::move(req), proto::Response::kMkdir));
  return ToNode(r.response.mkdir().node());
}

Result<Client::Node> Client::Mknod(uint64_t dir, const std::string& name,
                                   uint32_t mode, std::optional<Owner> owner) {
  proto::Request req;
  auto* m = req.mutable_mknod();
  m->set_dir(dir);
  m->set_name(name);
  m->set_mode(mode);
  if (owner) SetOwner(owner, m->mutable_owner());
  Reply r = TRY(Do(std::move(req), proto::Response::kMknod));
  return ToNode(r.response.mknod().node());
}

Result<Client::Node> Client::Symlink(uint64_t dir, const std::string& name,
                                     const std::string& target,
                                     std::optional<Owner> owner) {
  proto::Request req;
  auto* s = req.mutable_symlink();
  s->set_dir(dir);
  s->set_name(name);
  s->set_target(target);
  if (owner) SetOwner(owner, s->mutable_owner());
  Reply r = TRY(Do(std::move(req), proto::Response::kSymlink));
  return ToNode(r.response.symlink().node());
}

Result<Client::Node> Client::Link(uint64_t dir, const std::string& name,
                                  uint64_t target) {
  proto::Request req;
  auto* l = req.mutable_link();
  l->set_dir(dir);
  l->set_name(name);
  l->set_target(target);
  Reply r = TRY(Do(std::move(req), proto::Response::kLink));
  return ToNode(r.response.link().node());
}

Result<void> Client::Unlink(uint64_t dir, const std::string& name) {
  proto::Request req;
  req.mutable_unlink()->set_dir(dir);
  req.mutable_unlink()->set_name(name);
  TRY(Do(std::move(req), proto::Response::kUnlink));
  return {};
}

Result<void> Client::Rmdir(uint64_t dir, const std::string& name) {
  proto::Request req;
  req.mutable_rmdir()->set_dir(dir);
  req.mutable_rmdir()->set_name(name);
  TRY(Do(std::move(req), proto::Response::kRmdir));
  return {};
}

Result<void> Client::Rename(uint64_t old_dir, const std::string& old_name,
                            uint64_t new_dir, const std::string& new_name,
                            uint32_t flags) {
  proto::Request req;
  auto* r = req.mutable_rename();
  r->set_old_dir(old_dir);
  r->set_old_name(old_name);
  r->set_new_dir(new_dir);
  r->set_new_name(new_name);
  r->set_flags(flags);
  TRY(Do(std::move(req), proto::Response::kRename));
  return {};
}

Result<std::string> Client::Readlink(uint64_t handle) {
  proto::Request req;
  req.mutable_readlink()->set_handle(handle);
  Reply r = TRY(Do(std::move(req), proto::Response::kReadlink));
  return r.response.readlink().target();
}

Result<std::vector<Client::Dirent>> Client::Getdents(uint64_t dir,
                                                     int64_t offset,
                                                     uint32_t count) {
  proto::Request req;
  auto* g = req.mutable_getdents();
  g->set_handle(dir);
  g->set_offset(offset);
  g->set_count(count);
  Reply r = TRY(Do(std::move(req), proto::Response::kGetdents));
  std::vector<Dirent> out;
  for (const auto& e : r.response.getdents().entries())
    out.push_back(
        {e.ino(), e.offset(), static_cast<uint8_t>(e.type()), e.name()});
  return out;
}

Result<struct stat> Client::Setattr(uint64_t handle, const Attr& attr) {
  proto::Request req;
  auto* s = req.mutable_setattr();
  s->set_handle(handle);
  uint32_t mask = 0;
  if (attr.mode) mask |= kSetattrMode, s->set_mode(*attr.mode);
  if (attr.uid) mask |= kSetattrUid, s->set_uid(*attr.uid);
  if (attr.gid) mask |= kSetattrGid, s->set_gid(*attr.gid);
  if (attr.size) mask |= kSetattrSize, s->set_size(*attr.size);
  if (attr.atime) {
    mask |= kSetattrAtime;
    s->set_atime_sec(attr.atime->tv_sec);
    s->set_atime_nsec(attr.atime->tv_nsec);
  }
  if (attr.mtime) {
    mask |= kSetattrMtime;
    s->set_mtime_sec(attr.mtime->tv_sec);
    s->set_mtime_nsec(attr.mtime->tv_nsec);
  }
  s->set_mask(mask);
  Reply r = TRY(Do(std::move(req), proto::Response::kSetattr));
  return ToStat(r.response.setattr().stat());
}

Result<struct statfs> Client::Statfs(uint64_t handle) {
  proto::Request req;
  req.mutable_statfs()->set_handle(handle);
  Reply r = TRY(Do(std::move(req), proto::Response::kStatfs));
  const auto& s = r.response.statfs();
  struct statfs out = {};
  out.f_type = s.type();
  out.f_bsize = s.bsize();
  out.f_blocks = s.blocks();
  out.f_bfree = s.bfree();
  out.f_bavail = s.bavail();
  out.f_files = s.files();
  out.f_ffree = s.ffree();
  out.f_namelen = s.namelen();
  out.f_frsize = s.frsize();
  out.f_flags = s.flags();
  return out;
}

Result<std::string> Client::Getxattr(uint64_t handle, const std::string& name) {
  proto::Request req;
  req.mutable_getxattr()->set_handle(handle);
  req.mutable_getxattr()->set_name(name);
  Reply r = TRY(Do(std::move(req), proto::Response::kGetxattr));
  return r.response.getxattr().value();
}

Result<void> Client::Setxattr(uint64_t handle, const std::string& name,
                              const std::string& value, int flags) {
  proto::Request req;
  auto* s = req.mutable_setxattr();
  s->set_handle(handle);
  s->set_name(name);
  s->set_value(value);
  s->set_flags(flags);
  TRY(Do(std::move(req), proto::Response::kSetxattr));
  return {};
}

Result<std::vector<std::string>> Client::Listxattr(uint64_t handle) {
  proto::Request req;
  req.mutable_listxattr()->set_handle(handle);
  Reply r = TRY(Do(std::move(req), proto::Response::kListxattr));
  const auto& names = r.response.listxattr().names();
  return std::vector<std::string>(names.begin(), names.end());
}

Result<void> Client::Removexattr(uint64_t handle, const std::string& name) {
  proto::Request req;
  req.mutable_removexattr()->set_handle(handle);
  req.mutable_removexattr()->set_name(name);
  TRY(Do(std::move(req), proto::Response::kRemovexattr));
  return {};
}

Result<Client::OpenNode> Client::Bind(uint64_t dir, const std::string& name,
                                      int type, uint32_t mode,
                                      std::optional<Owner> owner) {
  proto::Request req;
  auto* b = req.mutable_bind();
  b->set_dir(dir);
  b->set_name(name);
  b->set_type(type);
  b->set_mode(mode);
  if (owner) SetOwner(owner, b->mutable_owner());
  Reply r = TRY(Do(std::move(req), proto::Response::kBind));
  return OpenNode{ToNode(r.response.bind().node()), TRY(TakeFd(r))};
}

Result<UniqueFd> Client::Connect(uint64_t handle, int type) {
  proto::Request req;
  req.mutable_connect()->set_handle(handle);
  req.mutable_connect()->set_type(type);
  Reply r = TRY(Do(std::move(req), proto::Response::kConnect));
  return TakeFd(r);
}

Result<void> Client::Close(const std::vector<uint64_t>& handles) {
  proto::Request req;
  for (uint64_t h : handles) req.mutable_close()->add_handles(h);
  if (handles.empty()) req.mutable_close();
  TRY(Do(std::move(req), proto::Response::kClose));
  return {};
}

}  // namespace gofer
