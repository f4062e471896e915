// setsockopt(2), getsockopt(2): the SOL_SOCKET options of AF_UNIX sockets.
#include <sys/syscall.h>
#include <sys/time.h>

#include <climits>

#include "syscalls/socket.h"

namespace syscalls {
namespace {

constexpr int kCapNetAdmin = 12;

// SO_SNDBUF/SO_RCVBUF as sk_setsockopt: the value doubled (for the
// kernel's overhead), capped by the sysctl unless forced, at least the
// minimum.
size_t BufSize(int val, bool force, size_t min) {
  uint64_t v;
  if (force) {
    v = val < 0 ? 0 : std::min(val, INT_MAX / 2);
  } else {
    v = std::min<uint64_t>(static_cast<uint32_t>(val), usock::kMaxBuf);
  }
  return std::max<uint64_t>(v * 2, min);
}

Result<absl::Duration> Timeout(Task& t, uint64_t optval, int optlen) {
  if (optlen < static_cast<int>(sizeof(timeval))) return Err(EINVAL);
  timeval tv;
  TRY(t.mm().CopyIn(optval, &tv, sizeof tv));
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Err(EDOM);
  if (tv.tv_sec < 0) return absl::ZeroDuration();
  return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec);
}

// Setsockopt implements Linux syscall setsockopt(2).
Result<void> Setsockopt(Task& t, Fd fd, int level, int optname,
                        UserPtr<uint8_t> optval, int optlen) {
  SocketPtr s = TRY(SocketOf(t, fd));
  if (level != SOL_SOCKET) return Err(EOPNOTSUPP);
  if (optname == SO_RCVTIMEO_OLD || optname == SO_SNDTIMEO_OLD) {
    const absl::Duration d = TRY(Timeout(t, optval.addr, optlen));
    if (optname == SO_RCVTIMEO_OLD)
      s->set_rcvtimeo(d);
    else
      s->set_sndtimeo(d);
    return {};
  }
  if (optlen < static_cast<int>(sizeof(int))) return Err(EINVAL);
  int val;
  TRY(t.mm().CopyIn(optval.addr, &val, sizeof val));
  const bool admin = t.creds().HasCap(kCapNetAdmin);
  switch (optname) {
    case SO_PASSCRED:
      s->set_passcred(val != 0);
      return {};
    case SO_SNDBUFFORCE:
      if (!admin) return Err(EPERM);
      [[fallthrough]];
    case SO_SNDBUF:
      s->set_sndbuf(
          BufSize(val, optname == SO_SNDBUFFORCE, usock::kMinSndBuf));
      return {};
    case SO_RCVBUFFORCE:
      if (!admin) return Err(EPERM);
      [[fallthrough]];
    case SO_RCVBUF:
      s->set_rcvbuf(
          BufSize(val, optname == SO_RCVBUFFORCE, usock::kMinRcvBuf));
      return {};
    // Accepted, without effect on AF_UNIX (as on Linux, mostly).
    case SO_REUSEADDR:
    case SO_REUSEPORT:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_OOBINLINE:
    case SO_PRIORITY:
    case SO_RCVLOWAT:
    case SO_PASSSEC:
    case SO_DONTROUTE:
      return {};
    default:
      return Err(ENOPROTOOPT);
  }
}

// Getsockopt implements Linux syscall getsockopt(2).
Result<void> Getsockopt(Task& t, Fd fd, int level, int optname,
                        UserPtr<uint8_t> optval, UserPtr<socklen_t> optlen) {
  SocketPtr s = TRY(SocketOf(t, fd));
  if (level != SOL_SOCKET) return Err(EOPNOTSUPP);
  int len;
  TRY(t.mm().CopyIn(optlen.addr, &len, sizeof len));
  if (len < 0) return Err(EINVAL);
  union {
    int i;
    timeval tv;
    ucred cred;
    linger lg;
  } v{};
  size_t size = sizeof(int);
  switch (optname) {
    case SO_TYPE:
      v.i = s->type();
      break;
    case SO_DOMAIN:
      v.i = AF_UNIX;
      break;
    case SO_PROTOCOL:
      v.i = 0;
      break;
    case SO_ACCEPTCONN:
      v.i = s->listening();
      break;
    case SO_ERROR:
      v.i = s->TakeError();
      break;
    case SO_PASSCRED:
      v.i = s->passcred();
      break;
    case SO_SNDBUF:
      v.i = static_cast<int>(s->sndbuf());
      break;
    case SO_RCVBUF:
      v.i = static_cast<int>(s->rcvbuf());
      break;
    case SO_RCVLOWAT:
      v.i = 1;
      break;
    case SO_REUSEADDR:
    case SO_REUSEPORT:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_OOBINLINE:
    case SO_PRIORITY:
    case SO_PASSSEC:
    case SO_DONTROUTE:
      v.i = 0;
      break;
    case SO_LINGER:
      size = sizeof(linger);
      break;
    case SO_RCVTIMEO_OLD:
      v.tv = absl::ToTimeval(s->rcvtimeo());
      size = sizeof(timeval);
      break;
    case SO_SNDTIMEO_OLD:
      v.tv = absl::ToTimeval(s->sndtimeo());
      size = sizeof(timeval);
      break;
    case SO_PEERCRED: {
      const usock::Ucred c = TRY(s->PeerCred());
      v.cred = {c.pid, c.uid, c.gid};
      size = sizeof(ucred);
      break;
    }
    default:
      return Err(ENOPROTOOPT);
  }
  // As Linux: a short buffer gets the value's first bytes.
  const size_t n = std::min<size_t>(len, size);
  if (n > 0) TRY(t.mm().CopyOut(optval.addr, &v, n));
  const int out = static_cast<int>(n);
  return t.mm().CopyOut(optlen.addr, &out, sizeof out);
}

}  // namespace

void RegisterSockopt(Registrar& r) {
  r.Partial<&Setsockopt>(SYS_setsockopt,
                         "AF_UNIX's SOL_SOCKET options; others ENOPROTOOPT");
  r.Partial<&Getsockopt>(SYS_getsockopt,
                         "AF_UNIX's SOL_SOCKET options; others ENOPROTOOPT");
}

}  // namespace syscalls
