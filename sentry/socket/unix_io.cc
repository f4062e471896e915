// Moving data: send and receive on AF_UNIX sockets (Linux's
// unix_stream_sendmsg, unix_dgram_sendmsg and their recvmsg).
#include <algorithm>

#include "sentry/socket/unix_endpoint.h"
#include "sentry/socket/unix_socket.h"
#include "sentry/vfs/iov_cursor.h"

namespace usock {

using base::Err;
using base::Result;

namespace {

size_t TotalLength(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

// The receiver of a datagram: the address given, else the connected peer.
Result<std::shared_ptr<Endpoint>> DgramReceiver(Endpoint& ep,
                                                const SendArgs& args)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu()) {
  std::shared_ptr<Endpoint> other = args.to ? args.to : ep.peer;
  if (!other) return Err(ENOTCONN);
  if (other->dead) {
    if (other == ep.peer) {  // a dead peer disconnects us
      ep.peer.reset();
      ep.state = State::kClose;
    }
    return Err(ECONNREFUSED);
  }
  // unix_may_send: a receiver connected elsewhere takes nothing from us.
  if (other->peer && other->peer.get() != &ep) return Err(EPERM);
  if (other->shutdown & kRcvShutdown) return Err(EPIPE);
  return other;
}

}  // namespace

Result<size_t> UnixSocket::Send(std::span<const iovec> src, SendArgs& args,
                                WaitOn* wait) {
  const size_t total = TotalLength(src);
  Notifier n;
  absl::MutexLock lock(&Mu());
  Endpoint& ep = *ep_;
  if (ep.shutdown & kSendShutdown) return Err(EPIPE);
  std::shared_ptr<Endpoint> other;
  if (ep.type == SOCK_DGRAM) {
    other = TRY(DgramReceiver(ep, args));
    if (other.get() != &ep && other->peer.get() != &ep &&
        other->rq.size() > kMaxDgramQlen) {
      *wait = {other, kRoomEvent};
      return Err(EAGAIN);
    }
  } else {
    if (ep.state != State::kEstablished || !ep.peer) return Err(ENOTCONN);
    other = ep.peer;
    if (other->dead || (other->shutdown & kRcvShutdown)) return Err(EPIPE);
  }
  const bool stream = ep.type == SOCK_STREAM;
  if (!stream && total + 32 > ep.sndbuf) return Err(EMSGSIZE);
  if (ep.wmem >= ep.sndbuf) {
    *wait = {ep_, kOutEvents};
    return Err(EAGAIN);
  }
  vfs::IovCursor cursor(src);
  size_t sent = 0;
  // A stream write goes in pieces of at most half the send buffer (as
  // Linux's skbs), as long as the buffer has room; a message goes whole.
  const size_t piece = stream ? std::max<size_t>(ep.sndbuf / 2 - 64, 1) : total;
  do {
    Message m;
    const size_t size = std::min(total - sent, piece);
    m.data.resize(size);
    cursor.Gather(m.data.data(), size);
    m.rights = std::move(args.rights);
    args.rights.clear();
    m.creds = args.creds;
    m.from = ep.name;
    m.sender = ep_;
    ep.wmem += size;
    other->rq_bytes += size;
    other->rq.push_back(std::move(m));
    sent += size;
  } while (sent < total && ep.wmem < ep.sndbuf);
  n.Add(other, kInEvents);
  return sent;
}

Result<RecvResult> UnixSocket::Recv(std::span<const iovec> dst, int flags,
                                    WaitOn* wait) {
  const size_t cap = TotalLength(dst);
  const bool peek = flags & MSG_PEEK;
  Notifier n;
  absl::MutexLock lock(&Mu());
  Endpoint& ep = *ep_;
  if (ep.type == SOCK_STREAM && ep.state != State::kEstablished)
    return Err(EINVAL);
  if (ep.type == SOCK_SEQPACKET && ep.state != State::kEstablished)
    return Err(ENOTCONN);
  if (ep.rq.empty()) {
    if (ep.err) return Err(std::exchange(ep.err, 0));
    if (ep.shutdown & kRcvShutdown) return RecvResult{};
    *wait = {ep_, kInEvents};
    return Err(EAGAIN);
  }
  RecvResult r;
  vfs::IovCursor cursor(dst);
  const Message& first = ep.rq.front();
  r.from = first.from;
  if (ep.passcred) r.creds = first.creds;
  if (ep.type != SOCK_STREAM) {
    Message& m = ep.rq.front();
    r.length = m.data.size();
    r.copied = std::min(cap, r.length);
    r.truncated = r.copied < r.length;
    cursor.Scatter(m.data.data(), r.copied);
    if (peek) {
      r.rights = m.rights;
    } else {
      r.rights = std::move(m.rights);
      m.rights.clear();
      PopLocked(ep, n);
    }
    return r;
  }
  // A stream read spans messages, but one that carried fds ends it, and
  // one carrying fds starts a read of its own (Linux's unix_stream_read).
  for (size_t i = 0; i < ep.rq.size() && r.copied < cap;) {
    Message& m = ep.rq[i];
    if (r.copied > 0 && !m.rights.empty()) break;
    const size_t avail = m.data.size() - m.off;
    const size_t take = std::min(avail, cap - r.copied);
    cursor.Scatter(m.data.data() + m.off, take);
    r.copied += take;
    const bool had_rights = !m.rights.empty();
    if (peek) {
      if (had_rights) r.rights = m.rights;
      ++i;
    } else {
      if (had_rights) {
        r.rights = std::move(m.rights);
        m.rights.clear();
      }
      if (take == avail) {
        PopLocked(ep, n);
      } else {
        m.off += take;
        ep.rq_bytes -= take;
      }
    }
    if (had_rights) break;
  }
  r.length = r.copied;
  return r;
}

}  // namespace usock
