// UnixSocket as a file (fstat, poll, ioctl, close) and its options;
// endpoint bookkeeping shared by unix_io.cc and unix_connect.cc.
#include "sentry/socket/unix_socket.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "sentry/kernel/task.h"
#include "sentry/socket/unix_endpoint.h"

namespace usock {

using base::Err;
using base::Result;

namespace {

// sockfs's st_dev: an anonymous device, as Linux's 0:8.
constexpr unsigned kSockfsMinor = 8;

uint64_t NextIno() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

absl::Mutex& Mu() {
  static absl::Mutex* mu = new absl::Mutex;
  return *mu;
}

Endpoint::Endpoint(int type, const Ucred& owner)
    : type(type), ino(NextIno()), owner(owner) {}

size_t AddressLength(const std::string& name) {
  const size_t family = sizeof(sa_family_t);
  if (name.empty()) return family;
  if (name[0] == '\0') return family + name.size();  // abstract
  return family + name.size() + 1;                   // a path and its NUL
}

uint64_t ReadinessLocked(Endpoint& ep) {
  uint64_t mask = 0;
  const bool connection = ep.type != SOCK_DGRAM;
  if (ep.err) mask |= EPOLLERR;
  if (ep.shutdown == kShutdownMask) mask |= EPOLLHUP;
  if (ep.shutdown & kRcvShutdown) mask |= EPOLLRDHUP | kInEvents;
  if (!ep.rq.empty() || !ep.backlog_q.empty()) mask |= kInEvents;
  if (connection && ep.state == State::kClose) mask |= EPOLLHUP;
  // unix_writable: not listening, and at most a quarter of the send
  // buffer in flight.
  bool writable = ep.state != State::kListen && ep.wmem * 4 <= ep.sndbuf;
  if (writable && ep.type == SOCK_DGRAM && ep.peer) {
    Endpoint& other = *ep.peer;
    if (other.peer.get() != &ep && other.rq.size() > kMaxDgramQlen)
      writable = false;
  }
  if (writable) mask |= kOutEvents;
  return mask;
}

void PopLocked(Endpoint& ep, Notifier& n) {
  Message& m = ep.rq.front();
  ep.rq_bytes -= m.data.size() - m.off;
  if (m.sender) {
    m.sender->wmem -= m.data.size();
    n.Add(m.sender, kOutEvents | kRoomEvent);
  }
  n.Drop(std::move(m.rights));
  if (m.sender) n.Drop(std::move(m.sender));
  ep.rq.pop_front();
}

void PurgeLocked(Endpoint& ep, Notifier& n) {
  while (!ep.rq.empty()) PopLocked(ep, n);
}

void ReleaseLocked(const std::shared_ptr<Endpoint>& ep, Notifier& n) {
  ep->dead = true;
  ep->shutdown = kShutdownMask;
  UnbindLocked(*ep);
  std::shared_ptr<Endpoint> peer = std::move(ep->peer);
  ep->peer.reset();
  const bool unread = !ep->rq.empty();
  if (peer && ep->type != SOCK_DGRAM) {
    peer->shutdown = kShutdownMask;
    if (unread) peer->err = ECONNRESET;
    n.Add(peer, EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLRDHUP | EPOLLERR |
                    kRoomEvent);
  } else if (peer) {
    n.Add(peer, kRoomEvent);
  }
  if (peer) n.Drop(std::move(peer));
  PurgeLocked(*ep, n);
  // Connections never accepted: their clients are reset.
  while (!ep->backlog_q.empty()) {
    std::shared_ptr<Endpoint> embryo = std::move(ep->backlog_q.front());
    ep->backlog_q.pop_front();
    if (embryo->peer) {
      embryo->peer->shutdown = kShutdownMask;
      embryo->peer->err = ECONNRESET;
      n.Add(embryo->peer, kAllEvents);
    }
    ReleaseLocked(embryo, n);
    n.Drop(std::move(embryo));
  }
  n.Add(ep, kAllEvents);
}

std::shared_ptr<UnixSocket> UnixSocket::New(int type, int flags,
                                            const Ucred& owner) {
  return std::make_shared<UnixSocket>(std::make_shared<Endpoint>(type, owner),
                                      flags);
}

std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>
UnixSocket::NewPair(int type, int flags, const Ucred& creds,
                    const Ucred& owner) {
  auto a = New(type, flags, owner);
  auto b = New(type, flags, owner);
  absl::MutexLock lock(&Mu());
  for (auto [x, y] : {std::pair{a->ep_, b->ep_}, std::pair{b->ep_, a->ep_}}) {
    x->peer = y;
    x->state = State::kEstablished;
    x->has_peer_cred = true;
    x->peer_cred = creds;
  }
  return {a, b};
}

UnixSocket::UnixSocket(std::shared_ptr<Endpoint> ep, int flags)
    : FileDescription(flags), ep_(std::move(ep)) {}

UnixSocket::~UnixSocket() {
  Notifier n;
  absl::MutexLock lock(&Mu());
  ReleaseLocked(ep_, n);
}

int UnixSocket::type() const { return ep_->type; }

Result<size_t> UnixSocket::Read(std::span<const iovec> dst) {
  WaitOn wait;
  RecvResult r = TRY(Recv(dst, 0, &wait));
  return r.copied;
}

Result<size_t> UnixSocket::Write(std::span<const iovec> src) {
  WaitOn wait;
  SendArgs args;
  return Send(src, args, &wait);
}

Result<struct stat> UnixSocket::Stat() {
  struct stat st {};
  st.st_dev = makedev(0, kSockfsMinor);
  st.st_ino = ep_->ino;
  st.st_mode = S_IFSOCK | 0777;
  st.st_nlink = 1;
  st.st_uid = ep_->owner.uid;
  st.st_gid = ep_->owner.gid;
  st.st_blksize = 4096;
  return st;
}

Result<uint64_t> UnixSocket::Ioctl(kernel::Task& task, uint32_t cmd,
                                   uint64_t arg) {
  int n = 0;
  {
    absl::MutexLock lock(&Mu());
    switch (cmd) {
      case SIOCINQ:  // FIONREAD
        if (ep_->state == State::kListen) return Err(EINVAL);
        if (ep_->type == SOCK_DGRAM) {
          if (!ep_->rq.empty()) n = ep_->rq.front().data.size();
        } else {
          n = static_cast<int>(ep_->rq_bytes);
        }
        break;
      case SIOCOUTQ:
        n = static_cast<int>(ep_->wmem);
        break;
      default:
        return Err(ENOTTY);
    }
  }
  TRY(task.mm().CopyOut(arg, &n, sizeof n));
  return 0;
}

uint64_t UnixSocket::Readiness(uint64_t mask) {
  absl::MutexLock lock(&Mu());
  return ReadinessLocked(*ep_) & mask;
}

void UnixSocket::EventRegister(waiter::Entry* e) { ep_->queue.Register(e); }
void UnixSocket::EventUnregister(waiter::Entry* e) {
  ep_->queue.Unregister(e);
}

std::string UnixSocket::path() const {
  return "socket:[" + std::to_string(ep_->ino) + "]";
}

Result<Ucred> UnixSocket::PeerCred() const {
  absl::MutexLock lock(&Mu());
  // Linux answers for an unconnected socket too: no pid, overflow ids.
  if (!ep_->has_peer_cred) return Ucred{0, 65534, 65534};
  return ep_->peer_cred;
}

bool UnixSocket::passcred() const {
  absl::MutexLock lock(&Mu());
  return ep_->passcred;
}
void UnixSocket::set_passcred(bool on) {
  absl::MutexLock lock(&Mu());
  ep_->passcred = on;
}
size_t UnixSocket::sndbuf() const {
  absl::MutexLock lock(&Mu());
  return ep_->sndbuf;
}
size_t UnixSocket::rcvbuf() const {
  absl::MutexLock lock(&Mu());
  return ep_->rcvbuf;
}
void UnixSocket::set_sndbuf(size_t v) {
  Notifier n;
  absl::MutexLock lock(&Mu());
  ep_->sndbuf = v;
  n.Add(ep_, kOutEvents | kRoomEvent);
}
void UnixSocket::set_rcvbuf(size_t v) {
  absl::MutexLock lock(&Mu());
  ep_->rcvbuf = v;
}
bool UnixSocket::listening() const {
  absl::MutexLock lock(&Mu());
  return ep_->state == State::kListen;
}
int UnixSocket::TakeError() {
  absl::MutexLock lock(&Mu());
  return std::exchange(ep_->err, 0);
}
absl::Duration UnixSocket::rcvtimeo() const {
  absl::MutexLock lock(&Mu());
  return ep_->rcvtimeo;
}
absl::Duration UnixSocket::sndtimeo() const {
  absl::MutexLock lock(&Mu());
  return ep_->sndtimeo;
}
void UnixSocket::set_rcvtimeo(absl::Duration d) {
  absl::MutexLock lock(&Mu());
  ep_->rcvtimeo = d;
}
void UnixSocket::set_sndtimeo(absl::Duration d) {
  absl::MutexLock lock(&Mu());
  ep_->sndtimeo = d;
}

waiter::Queue& QueueOf(Endpoint& ep) { return ep.queue; }

Result<void> CheckType(const std::shared_ptr<Endpoint>& ep, int type) {
  if (ep->type != type) return Err(EPROTOTYPE);
  return {};
}

}  // namespace usock
