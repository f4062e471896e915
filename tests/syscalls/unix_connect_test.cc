// AF_UNIX names and connections: bind (abstract names, autobind, socket
// files in /tmp and the root's /var/tmp), listen backlogs, connect,
// accept/accept4, getsockname/getpeername, datagram addressing, and bad
// addresses.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "temp_dir.h"
#include "test_util.h"
#include "unix_util.h"

namespace syscall_test {
namespace {

std::string SockName(int fd, bool peer = false) {
  sockaddr_un sa{};
  socklen_t len = sizeof sa;
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  EXPECT_EQ(r, 0) << ErrnoName(errno);
  EXPECT_EQ(sa.sun_family, AF_UNIX);
  return std::string(sa.sun_path, len - offsetof(sockaddr_un, sun_path));
}

// A listener at `name`, a client connected to it, and the accepted end;
// then data both ways.
void ConnectAndTalk(const std::string& name, int type) {
  UnixAddr a = MakeAddr(name);
  FileDescriptor srv(socket(AF_UNIX, type, 0));
  ASSERT_THAT(bind(srv.get(), a.get(), a.len), SyscallSucceeds());
  ASSERT_THAT(listen(srv.get(), 5), SyscallSucceeds());
  int v = 0;
  socklen_t vl = sizeof v;
  ASSERT_THAT(getsockopt(srv.get(), SOL_SOCKET, SO_ACCEPTCONN, &v, &vl),
              SyscallSucceeds());
  EXPECT_EQ(v, 1);
  FileDescriptor cli(socket(AF_UNIX, type, 0));
  ASSERT_THAT(connect(cli.get(), a.get(), a.len), SyscallSucceeds());
  EXPECT_THAT(connect(cli.get(), a.get(), a.len),
              SyscallFailsWithErrno(EISCONN));
  pollfd p = {srv.get(), POLLIN, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  sockaddr_un peer{};
  socklen_t plen = sizeof peer;
  FileDescriptor conn(accept4(srv.get(), reinterpret_cast<sockaddr*>(&peer),
                              &plen, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ASSERT_GE(conn.get(), 0) << ErrnoName(errno);
  EXPECT_EQ(plen, sizeof(sa_family_t));  // the client has no name
  EXPECT_EQ(fcntl(conn.get(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl(conn.get(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  std::string expect = name[0] == '\0' ? name : name + std::string(1, '\0');
  EXPECT_EQ(SockName(srv.get()), expect);
  EXPECT_EQ(SockName(conn.get()), expect);
  EXPECT_EQ(SockName(cli.get(), true), expect);
  EXPECT_EQ(SockName(cli.get()), "");
  ASSERT_THAT(send(cli.get(), "ping", 4, 0), SyscallSucceedsWithValue(4));
  char buf[8];
  ASSERT_THAT(recv(conn.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(4));
  ASSERT_THAT(send(conn.get(), "pong", 4, 0), SyscallSucceedsWithValue(4));
  ASSERT_THAT(recv(cli.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "pong");
  ASSERT_THAT(fcntl(srv.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_THAT(accept(srv.get(), nullptr, nullptr),
              SyscallFailsWithErrno(EAGAIN));
}

TEST(UnixConnect, Abstract) {
  ConnectAndTalk(AbstractName("abs"), SOCK_STREAM);
  ConnectAndTalk(AbstractName("absq"), SOCK_SEQPACKET);
}

TEST(UnixConnect, PathInTmp) {
  TempDir dir;
  ConnectAndTalk(dir / "sock", SOCK_STREAM);
  // The socket file stays after its socket closed; nobody listens there.
  struct stat st;
  ASSERT_THAT(lstat((dir / "sock").c_str(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  UnixAddr a = MakeAddr(dir / "sock");
  FileDescriptor cli(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(cli.get(), a.get(), a.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  FileDescriptor again(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(bind(again.get(), a.get(), a.len),
              SyscallFailsWithErrno(EADDRINUSE));
  // Opening a socket file is ENXIO.
  EXPECT_THAT(open((dir / "sock").c_str(), O_RDWR),
              SyscallFailsWithErrno(ENXIO));
}

TEST(UnixConnect, PathInVarTmp) {
  TempDir dir("/var/tmp");
  ConnectAndTalk(dir / "s", SOCK_STREAM);
}

TEST(UnixConnect, BindMakesSocketFileWithUmask) {
  TempDir dir;
  const mode_t old = umask(027);
  UnixAddr a = MakeAddr(dir / "m");
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  umask(old);
  struct stat st;
  ASSERT_THAT(stat((dir / "m").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFSOCK | 0750);
  // Bound already.
  UnixAddr b = MakeAddr(AbstractName("twice"));
  EXPECT_THAT(bind(s.get(), b.get(), b.len), SyscallFailsWithErrno(EINVAL));
  // Not a socket, or missing.
  MakeFile(dir / "file");
  UnixAddr f = MakeAddr(dir / "file");
  FileDescriptor c(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(connect(c.get(), f.get(), f.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  UnixAddr missing = MakeAddr(dir / "missing");
  EXPECT_THAT(connect(c.get(), missing.get(), missing.len),
              SyscallFailsWithErrno(ENOENT));
  // A socket of another type.
  FileDescriptor st_sock(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(st_sock.get(), a.get(), a.len),
              SyscallFailsWithErrno(EPROTOTYPE));
}

TEST(UnixConnect, Autobind) {
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  ASSERT_THAT(bind(s.get(), reinterpret_cast<sockaddr*>(&sa),
                   sizeof(sa_family_t)),
              SyscallSucceeds());
  const std::string name = SockName(s.get());
  ASSERT_EQ(name.size(), 6u);
  EXPECT_EQ(name[0], '\0');
  // Unbound: just the family.
  FileDescriptor u(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_EQ(SockName(u.get()), "");
}

TEST(UnixConnect, AbstractInUseAndFreedByClose) {
  UnixAddr a = MakeAddr(AbstractName("inuse"));
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  FileDescriptor t(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(bind(t.get(), a.get(), a.len), SyscallFailsWithErrno(EADDRINUSE));
  // Bound but not listening: refused.
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(connect(c.get(), a.get(), a.len),
              SyscallFailsWithErrno(ECONNREFUSED));
  s.reset();
  EXPECT_THAT(bind(t.get(), a.get(), a.len), SyscallSucceeds());
}

TEST(UnixConnect, BacklogFull) {
  UnixAddr a = MakeAddr(AbstractName("backlog"));
  FileDescriptor srv(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(srv.get(), a.get(), a.len), SyscallSucceeds());
  ASSERT_THAT(listen(srv.get(), 1), SyscallSucceeds());
  std::vector<FileDescriptor> clients;
  int ok = 0;
  for (int i = 0; i < 5; ++i) {
    FileDescriptor c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    if (connect(c.get(), a.get(), a.len) == 0) {
      ++ok;
      clients.push_back(std::move(c));
    } else {
      EXPECT_EQ(errno, EAGAIN);
    }
  }
  EXPECT_EQ(ok, 2);  // one more than the backlog, as Linux
  FileDescriptor conn(accept(srv.get(), nullptr, nullptr));
  ASSERT_GE(conn.get(), 0);
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
  EXPECT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
}

TEST(UnixConnect, ListenerClosedResetsPending) {
  UnixAddr a = MakeAddr(AbstractName("pending"));
  FileDescriptor srv(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(srv.get(), a.get(), a.len), SyscallSucceeds());
  ASSERT_THAT(listen(srv.get(), 4), SyscallSucceeds());
  FileDescriptor c(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(connect(c.get(), a.get(), a.len), SyscallSucceeds());
  srv.reset();
  char ch;
  EXPECT_THAT(recv(c.get(), &ch, 1, 0), SyscallFailsWithErrno(ECONNRESET));
  EXPECT_THAT(recv(c.get(), &ch, 1, 0), SyscallSucceedsWithValue(0));
}

TEST(UnixConnect, DatagramAddressing) {
  UnixAddr ra = MakeAddr(AbstractName("dgram_r"));
  UnixAddr sa = MakeAddr(AbstractName("dgram_s"));
  FileDescriptor r(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(bind(r.get(), ra.get(), ra.len), SyscallSucceeds());
  FileDescriptor s(socket(AF_UNIX, SOCK_DGRAM, 0));
  FileDescriptor anon(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(bind(s.get(), sa.get(), sa.len), SyscallSucceeds());
  ASSERT_THAT(sendto(s.get(), "a", 1, 0, ra.get(), ra.len),
              SyscallSucceedsWithValue(1));
  ASSERT_THAT(sendto(anon.get(), "b", 1, 0, ra.get(), ra.len),
              SyscallSucceedsWithValue(1));
  char c;
  sockaddr_un from{};
  socklen_t flen = sizeof from;
  ASSERT_THAT(recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&from),
                       &flen),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(flen, sa.len);
  EXPECT_EQ(std::string(from.sun_path, flen - 2),
            std::string(sa.sa.sun_path, sa.len - 2));
  flen = sizeof from;
  ASSERT_THAT(recvfrom(r.get(), &c, 1, 0, reinterpret_cast<sockaddr*>(&from),
                       &flen),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(flen, 0u);  // an unnamed sender
  // A receiver connected elsewhere takes nothing from others.
  ASSERT_THAT(connect(r.get(), sa.get(), sa.len), SyscallSucceeds());
  EXPECT_THAT(sendto(anon.get(), "c", 1, 0, ra.get(), ra.len),
              SyscallFailsWithErrno(EPERM));
  EXPECT_EQ(SockName(r.get(), true), std::string(sa.sa.sun_path, sa.len - 2));
  // AF_UNSPEC disconnects.
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  ASSERT_THAT(connect(r.get(), &unspec, sizeof unspec), SyscallSucceeds());
  EXPECT_THAT(sendto(anon.get(), "c", 1, 0, ra.get(), ra.len),
              SyscallSucceedsWithValue(1));
  // A connected peer that closed: ECONNREFUSED.
  FileDescriptor x(socket(AF_UNIX, SOCK_DGRAM, 0));
  ASSERT_THAT(connect(x.get(), sa.get(), sa.len), SyscallSucceeds());
  s.reset();
  EXPECT_THAT(send(x.get(), "d", 1, 0), SyscallFailsWithErrno(ECONNREFUSED));
  EXPECT_THAT(send(x.get(), "d", 1, 0), SyscallFailsWithErrno(ENOTCONN));
}

TEST(UnixConnect, StreamSendtoWithAddress) {
  auto [a, b] = Pair(SOCK_STREAM);
  UnixAddr x = MakeAddr(AbstractName("sendto"));
  EXPECT_THAT(sendto(a.get(), "x", 1, 0, x.get(), x.len),
              SyscallFailsWithErrno(EISCONN));
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  EXPECT_THAT(sendto(s.get(), "x", 1, 0, x.get(), x.len),
              SyscallFailsWithErrno(EOPNOTSUPP));
}

TEST(UnixConnect, BadAddresses) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  UnixAddr a = MakeAddr(AbstractName("bad"));
  EXPECT_THAT(bind(s.get(), a.get(), 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s.get(), a.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s.get(), a.get(), -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s.get(), a.get(), sizeof(sockaddr_un) + 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s.get(), a.get(), sizeof(sockaddr_storage) + 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(bind(s.get(), BadAddress<sockaddr>(), a.len),
              SyscallFailsWithErrno(EFAULT));
  UnixAddr inet = a;
  inet.sa.sun_family = AF_INET;
  EXPECT_THAT(bind(s.get(), inet.get(), inet.len),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(connect(s.get(), inet.get(), inet.len),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(connect(s.get(), a.get(), sizeof(sa_family_t)),
              SyscallFailsWithErrno(EINVAL));
  socklen_t len = -1;
  sockaddr_un out;
  EXPECT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&out), &len),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&out),
                          BadAddress<socklen_t>()),
              SyscallFailsWithErrno(EFAULT));
  // A short buffer gets a prefix and the full length.
  ASSERT_THAT(bind(s.get(), a.get(), a.len), SyscallSucceeds());
  len = 4;
  memset(&out, 0x7f, sizeof out);
  ASSERT_THAT(getsockname(s.get(), reinterpret_cast<sockaddr*>(&out), &len),
              SyscallSucceeds());
  EXPECT_EQ(len, a.len);
  EXPECT_EQ(out.sun_path[2], 0x7f);
}

}  // namespace
}  // namespace syscall_test
