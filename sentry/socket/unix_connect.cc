// Connections: listen(2), connect(2), accept(2), shutdown(2) and the names
// getsockname(2)/getpeername(2) report.
#include "sentry/socket/unix_endpoint.h"
#include "sentry/socket/unix_socket.h"

namespace usock {

using base::Err;
using base::Result;

Result<void> UnixSocket::Listen(int backlog, const Ucred& creds) {
  if (ep_->type == SOCK_DGRAM) return Err(EOPNOTSUPP);
  Notifier n;
  absl::MutexLock lock(&Mu());
  if (ep_->name.empty()) return Err(EINVAL);  // no listens on unbound sockets
  if (ep_->state == State::kEstablished) return Err(EINVAL);
  // As Linux: a negative backlog is a huge one, capped at somaxconn.
  if (static_cast<unsigned>(backlog) > static_cast<unsigned>(kSomaxconn))
    backlog = kSomaxconn;
  if (backlog > ep_->backlog) n.Add(ep_, kRoomEvent);
  ep_->backlog = backlog;
  if (ep_->state != State::kListen) {
    ep_->state = State::kListen;
    ep_->listen_cred = creds;
  }
  return {};
}

Result<void> UnixSocket::Connect(const std::shared_ptr<Endpoint>& server,
                                 const Ucred& creds, WaitOn* wait) {
  Notifier n;
  absl::MutexLock lock(&Mu());
  if (ep_->state == State::kEstablished) return Err(EISCONN);
  if (ep_->state == State::kListen) return Err(EINVAL);
  if (server->dead || server->state != State::kListen ||
      (server->shutdown & kRcvShutdown))
    return Err(ECONNREFUSED);
  // unix_recvq_full: one more than the backlog fits.
  if (server->backlog_q.size() > static_cast<size_t>(server->backlog)) {
    *wait = {server, kRoomEvent};
    return Err(EAGAIN);
  }
  auto embryo = std::make_shared<Endpoint>(ep_->type, server->owner);
  embryo->state = State::kEstablished;
  embryo->peer = ep_;
  embryo->name = server->name;
  embryo->passcred = server->passcred;
  embryo->has_peer_cred = true;
  embryo->peer_cred = creds;
  ep_->peer = embryo;
  ep_->state = State::kEstablished;
  ep_->has_peer_cred = true;
  ep_->peer_cred = server->listen_cred;
  server->backlog_q.push_back(std::move(embryo));
  n.Add(server, kInEvents);
  n.Add(ep_, kOutEvents);
  return {};
}

Result<void> UnixSocket::ConnectDgram(const std::shared_ptr<Endpoint>& to) {
  Notifier n;
  absl::MutexLock lock(&Mu());
  if (ep_->peer) n.Add(ep_->peer, kRoomEvent);
  ep_->peer = to;
  ep_->state = to ? State::kEstablished : State::kClose;
  n.Add(ep_, kOutEvents);
  return {};
}

Result<std::shared_ptr<UnixSocket>> UnixSocket::Accept(int flags,
                                                      WaitOn* wait) {
  Notifier n;
  absl::MutexLock lock(&Mu());
  if (ep_->state != State::kListen) return Err(EINVAL);
  if (ep_->backlog_q.empty()) {
    *wait = {ep_, kInEvents};
    return Err(EAGAIN);
  }
  std::shared_ptr<Endpoint> embryo = std::move(ep_->backlog_q.front());
  ep_->backlog_q.pop_front();
  n.Add(ep_, kRoomEvent);
  return std::make_shared<UnixSocket>(std::move(embryo), O_RDWR | flags);
}

Result<void> UnixSocket::Shutdown(int how) {
  if (how < SHUT_RD || how > SHUT_RDWR) return Err(EINVAL);
  const int mode = how + 1;  // SHUT_RD: kRcvShutdown, SHUT_WR: kSendShutdown
  Notifier n;
  absl::MutexLock lock(&Mu());
  ep_->shutdown |= mode;
  n.Add(ep_, kAllEvents);
  if (ep_->type != SOCK_DGRAM && ep_->peer &&
      ep_->state == State::kEstablished) {
    int peer_mode = 0;
    if (mode & kRcvShutdown) peer_mode |= kSendShutdown;
    if (mode & kSendShutdown) peer_mode |= kRcvShutdown;
    ep_->peer->shutdown |= peer_mode;
    n.Add(ep_->peer, kAllEvents);
  }
  return {};
}

std::string UnixSocket::Name() const {
  absl::MutexLock lock(&Mu());
  return ep_->name;
}

Result<std::string> UnixSocket::PeerName() const {
  absl::MutexLock lock(&Mu());
  if (!ep_->peer || ep_->state != State::kEstablished) return Err(ENOTCONN);
  return ep_->peer->name;
}

}  // namespace usock
