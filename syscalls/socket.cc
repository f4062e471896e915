// socket(2), socketpair(2), bind(2), listen(2), connect(2), accept(2),
// accept4(2), getsockname(2), getpeername(2), shutdown(2): AF_UNIX only.
#include <sys/syscall.h>

#include <optional>

#include "syscalls/socket.h"

namespace syscalls {

using usock::UnixSocket;

namespace {

constexpr int kAfMax = 46;     // AF_MAX of Linux 6.x
constexpr int kSockMax = 11;   // SOCK_MAX
constexpr int kTypeMask = 0xf;

// socket(2)'s checks, in Linux's order; the socket type.
Result<int> CheckSocketArgs(int domain, int type, int protocol) {
  if ((type & ~kTypeMask) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
    return Err(EINVAL);
  if (domain < 0 || domain >= kAfMax) return Err(EAFNOSUPPORT);
  const int kind = type & kTypeMask;
  if (kind >= kSockMax) return Err(EINVAL);
  // TODO(issue 10): AF_INET, AF_INET6, AF_NETLINK.
  if (domain != AF_UNIX) return Err(EAFNOSUPPORT);
  if (protocol != 0 && protocol != AF_UNIX) return Err(EPROTONOSUPPORT);
  switch (kind) {
    case SOCK_STREAM:
    case SOCK_DGRAM:
    case SOCK_SEQPACKET:
      return kind;
    case SOCK_RAW:
      return SOCK_DGRAM;  // as Linux's unix_create
    default:
      return Err(ESOCKTNOSUPPORT);
  }
}

int FileFlags(int type) {
  return O_RDWR | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
}

usock::Ucred Owner(Task& t) {
  const kernel::Credentials c = t.creds();
  return {0, c.fsuid, c.fsgid};
}

// Socket implements Linux syscall socket(2).
Result<int> Socket(Task& t, int domain, int type, int protocol) {
  const int kind = TRY(CheckSocketArgs(domain, type, protocol));
  auto sock = UnixSocket::New(kind, FileFlags(type), Owner(t));
  return t.fds().Install(std::move(sock), type & SOCK_CLOEXEC, 0,
                         NofileLimit(t));
}

// Socketpair implements Linux syscall socketpair(2).
Result<void> Socketpair(Task& t, int domain, int type, int protocol,
                        UserPtr<int> sv) {
  const int kind = TRY(CheckSocketArgs(domain, type, protocol));
  auto [a, b] = UnixSocket::NewPair(kind, FileFlags(type), PeerCreds(t),
                                    Owner(t));
  const bool cloexec = type & SOCK_CLOEXEC;
  const int fa = TRY(t.fds().Install(std::move(a), cloexec, 0, NofileLimit(t)));
  auto fb = t.fds().Install(std::move(b), cloexec, 0, NofileLimit(t));
  if (!fb) {
    (void)t.fds().Remove(fa);
    return std::unexpected(fb.error());
  }
  const int both[2] = {fa, *fb};
  if (auto c = t.mm().CopyOut(sv.addr, both, sizeof both); !c) {
    (void)t.fds().Remove(fa);
    (void)t.fds().Remove(*fb);
    return c;
  }
  return {};
}

// Bind implements Linux syscall bind(2).
Result<void> Bind(Task& t, Fd fd, UserPtr<sockaddr> addr, int len) {
  SocketPtr s = TRY(SocketOf(t, fd));
  const std::string sa = TRY(CopyInSockaddr(t, addr.addr, len));
  if (sa.size() == sizeof(sa_family_t)) {
    sa_family_t family;
    memcpy(&family, sa.data(), sizeof family);
    if (family == AF_UNIX) return s->Autobind();
  }
  const std::string name = TRY(UnixName(sa));
  if (name[0] == '\0') return s->BindAbstract(name);
  // A path: a socket file in the sandbox's tree, made now (EADDRINUSE if
  // anything is there), found again by connect(2) through its inode.
  const vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  const mode_t mode = S_IFSOCK | (0777 & ~t.fs().umask());
  if (auto m = t.kernel().vfs().Mknod(ctx, name, mode, 0); !m) {
    if (m.error().value == EEXIST) return Err(EADDRINUSE);
    return m;
  }
  const struct stat st = TRY(t.kernel().vfs().Stat(ctx, name, false));
  if (auto b = s->BindPath(name, st.st_dev, st.st_ino); !b) {
    (void)t.kernel().vfs().Unlink(ctx, name);  // as Linux: already bound
    return b;
  }
  return {};
}

// Listen implements Linux syscall listen(2).
Result<void> Listen(Task& t, Fd fd, int backlog) {
  SocketPtr s = TRY(SocketOf(t, fd));
  return s->Listen(backlog, PeerCreds(t));
}

// Connect implements Linux syscall connect(2).
Result<void> Connect(Task& t, Fd fd, UserPtr<sockaddr> addr, int len) {
  SocketPtr s = TRY(SocketOf(t, fd));
  const std::string sa = TRY(CopyInSockaddr(t, addr.addr, len));
  if (s->type() == SOCK_DGRAM) {
    // AF_UNSPEC dissolves the association.
    if (sa.size() < sizeof(sa_family_t)) return Err(EINVAL);
    sa_family_t family;
    memcpy(&family, sa.data(), sizeof family);
    if (family == AF_UNSPEC) return s->ConnectDgram(nullptr);
    const std::string name = TRY(UnixName(sa));
    auto to = TRY(ResolveName(t, name, s->type()));
    return s->ConnectDgram(to);
  }
  const std::string name = TRY(UnixName(sa));
  auto server = TRY(ResolveName(t, name, s->type()));
  const usock::Ucred creds = PeerCreds(t);
  TRY(SocketBlock(t, s->flags() & O_NONBLOCK, s->sndtimeo(),
                  [&](usock::WaitOn& w) -> Result<size_t> {
                    TRY(s->Connect(server, creds, &w));
                    return 0;
                  }));
  return {};
}

Result<int> DoAccept(Task& t, Fd fd, uint64_t addr, uint64_t lenp,
                     int flags) {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return Err(EINVAL);
  SocketPtr s = TRY(SocketOf(t, fd));
  if (s->type() == SOCK_DGRAM) return Err(EOPNOTSUPP);
  SocketPtr conn;
  TRY(SocketBlock(t, s->flags() & O_NONBLOCK, s->rcvtimeo(),
                  [&](usock::WaitOn& w) -> Result<size_t> {
                    conn = TRY(s->Accept(flags & SOCK_NONBLOCK ? O_NONBLOCK
                                                               : 0,
                                         &w));
                    return 0;
                  }));
  // The client's name (usually none: just the family).
  if (addr != 0) {
    const std::string peer = conn->PeerName().value_or("");
    TRY(CopyOutName(t, peer, addr, lenp));
  }
  return t.fds().Install(std::move(conn), flags & SOCK_CLOEXEC, 0,
                         NofileLimit(t));
}

// Accept implements Linux syscall accept(2).
Result<int> Accept(Task& t, Fd fd, UserPtr<sockaddr> addr,
                   UserPtr<socklen_t> len) {
  return DoAccept(t, fd, addr.addr, len.addr, 0);
}

// Accept4 implements Linux syscall accept4(2).
Result<int> Accept4(Task& t, Fd fd, UserPtr<sockaddr> addr,
                    UserPtr<socklen_t> len, int flags) {
  return DoAccept(t, fd, addr.addr, len.addr, flags);
}

// Getsockname implements Linux syscall getsockname(2).
Result<void> Getsockname(Task& t, Fd fd, UserPtr<sockaddr> addr,
                         UserPtr<socklen_t> len) {
  SocketPtr s = TRY(SocketOf(t, fd));
  return CopyOutName(t, s->Name(), addr.addr, len.addr);
}

// Getpeername implements Linux syscall getpeername(2).
Result<void> Getpeername(Task& t, Fd fd, UserPtr<sockaddr> addr,
                         UserPtr<socklen_t> len) {
  SocketPtr s = TRY(SocketOf(t, fd));
  const std::string name = TRY(s->PeerName());
  return CopyOutName(t, name, addr.addr, len.addr);
}

// Shutdown implements Linux syscall shutdown(2).
Result<void> Shutdown(Task& t, Fd fd, int how) {
  SocketPtr s = TRY(SocketOf(t, fd));
  return s->Shutdown(how);
}

}  // namespace

void RegisterSocket(Registrar& r) {
  constexpr const char* kUnixOnly =
      "AF_UNIX only (stream, dgram, seqpacket); other families EAFNOSUPPORT";
  r.Partial<&Socket>(SYS_socket, kUnixOnly);
  r.Partial<&Socketpair>(SYS_socketpair, kUnixOnly);
  r.Partial<&Bind>(SYS_bind, kUnixOnly);
  r.Partial<&Listen>(SYS_listen, kUnixOnly);
  r.Partial<&Connect>(SYS_connect, kUnixOnly);
  r.Partial<&Accept>(SYS_accept, kUnixOnly);
  r.Partial<&Accept4>(SYS_accept4, kUnixOnly);
  r.Partial<&Getsockname>(SYS_getsockname, kUnixOnly);
  r.Partial<&Getpeername>(SYS_getpeername, kUnixOnly);
  r.Partial<&Shutdown>(SYS_shutdown, kUnixOnly);
}

}  // namespace syscalls
