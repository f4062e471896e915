// AF_UNIX sockets as files and data paths: socket/socketpair arguments,
// stream/dgram/seqpacket transfers, read/write, sendmsg/recvmsg flags
// (MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC, MSG_WAITALL, MSG_NOSIGNAL),
// shutdown, EPIPE/SIGPIPE, fstat, O_NONBLOCK, FIONREAD, poll readiness.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "unix_util.h"

namespace syscall_test {
namespace {

TEST(UnixSocket, CreateArguments) {
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM | 0x1000000, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(-1, SOCK_STREAM, 0), SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(12345, SOCK_STREAM, 0),
              SyscallFailsWithErrno(EAFNOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, 11, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(socket(AF_UNIX, SOCK_RDM, 0),
              SyscallFailsWithErrno(ESOCKTNOSUPPORT));
  EXPECT_THAT(socket(AF_UNIX, SOCK_STREAM, 2),
              SyscallFailsWithErrno(EPROTONOSUPPORT));
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    FileDescriptor s(socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ASSERT_GE(s.get(), 0) << ErrnoName(errno);
    EXPECT_EQ(fcntl(s.get(), F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(fcntl(s.get(), F_GETFL), O_RDWR | O_NONBLOCK);
    int v = -1;
    socklen_t len = sizeof v;
    ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, &len),
                SyscallSucceeds());
    EXPECT_EQ(v, type);
    ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_DOMAIN, &v, &len),
                SyscallSucceeds());
    EXPECT_EQ(v, AF_UNIX);
    ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_PROTOCOL, &v, &len),
                SyscallSucceeds());
    EXPECT_EQ(v, 0);
  }
  // SOCK_RAW is a datagram socket.
  FileDescriptor raw(socket(AF_UNIX, SOCK_RAW, 0));
  ASSERT_GE(raw.get(), 0);
  int v = -1;
  socklen_t len = sizeof v;
  ASSERT_THAT(getsockopt(raw.get(), SOL_SOCKET, SO_TYPE, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, SOCK_DGRAM);
}

TEST(UnixSocket, NotASocket) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  EXPECT_THAT(shutdown(p[0], SHUT_RD), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(send(p[1], "x", 1, 0), SyscallFailsWithErrno(ENOTSOCK));
  EXPECT_THAT(listen(p[0], 1), SyscallFailsWithErrno(ENOTSOCK));
  close(p[0]);
  close(p[1]);
  EXPECT_THAT(listen(p[0], 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(socketpair(AF_UNIX, SOCK_STREAM, 0, BadAddress<int>()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(UnixSocket, FstatAndFdLink) {
  auto [a, b] = Pair(SOCK_STREAM);
  struct stat st;
  ASSERT_THAT(fstat(a.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  char link[64] = {};
  const std::string fd = "/proc/self/fd/" + std::to_string(a.get());
  ASSERT_THAT(readlink(fd.c_str(), link, sizeof link - 1), SyscallSucceeds());
  EXPECT_EQ(std::string(link), "socket:[" + std::to_string(st.st_ino) + "]");
  struct stat st2;
  ASSERT_THAT(fstat(b.get(), &st2), SyscallSucceeds());
  EXPECT_NE(st.st_ino, st2.st_ino);
  EXPECT_THAT(lseek(a.get(), 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
}

TEST(UnixSocket, StreamReadWrite) {
  auto [a, b] = Pair(SOCK_STREAM);
  ASSERT_THAT(write(a.get(), "hello", 5), SyscallSucceedsWithValue(5));
  ASSERT_THAT(write(a.get(), "world", 5), SyscallSucceedsWithValue(5));
  int n = -1;
  ASSERT_THAT(ioctl(b.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 10);
  char buf[16] = {};
  // A stream read spans writes.
  ASSERT_THAT(read(b.get(), buf, 7), SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(buf, 7), "hellowo");
  char x[2], y[8];
  iovec iov[2] = {{x, 2}, {y, 8}};
  ASSERT_THAT(readv(b.get(), iov, 2), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(x, 2), "rl");
  EXPECT_EQ(y[0], 'd');
  EXPECT_THAT(recv(b.get(), buf, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
  iovec out[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cd"), 2}};
  ASSERT_THAT(writev(b.get(), out, 2), SyscallSucceedsWithValue(4));
  ASSERT_THAT(recv(a.get(), buf, sizeof buf, MSG_PEEK),
              SyscallSucceedsWithValue(4));
  ASSERT_THAT(recv(a.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "abcd");
}

TEST(UnixSocket, DatagramBoundaries) {
  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    auto [a, b] = Pair(type);
    ASSERT_THAT(send(a.get(), "one", 3, 0), SyscallSucceedsWithValue(3));
    ASSERT_THAT(send(a.get(), "three", 5, 0), SyscallSucceedsWithValue(5));
    ASSERT_THAT(send(a.get(), "", 0, 0), SyscallSucceedsWithValue(0));
    int n = -1;
    ASSERT_THAT(ioctl(b.get(), FIONREAD, &n), SyscallSucceeds());
    EXPECT_EQ(n, type == SOCK_DGRAM ? 3 : 8);
    char buf[16] = {};
    ASSERT_THAT(recv(b.get(), buf, sizeof buf, MSG_PEEK),
                SyscallSucceedsWithValue(3));
    ASSERT_THAT(recv(b.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(3));
    EXPECT_EQ(std::string(buf, 3), "one");
    // A short buffer truncates the message; MSG_TRUNC says how long it was.
    msghdr m{};
    iovec iov = {buf, 2};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    ASSERT_THAT(recvmsg(b.get(), &m, MSG_TRUNC), SyscallSucceedsWithValue(5));
    EXPECT_EQ(m.msg_flags & MSG_TRUNC, MSG_TRUNC);
    EXPECT_EQ(std::string(buf, 2), "th");
    // The empty message is a message.
    ASSERT_THAT(recv(b.get(), buf, sizeof buf, MSG_DONTWAIT),
                SyscallSucceedsWithValue(0));
    EXPECT_THAT(recv(b.get(), buf, sizeof buf, MSG_DONTWAIT),
                SyscallFailsWithErrno(EAGAIN));
  }
}

TEST(UnixSocket, MessageTooLong) {
  auto [a, b] = Pair(SOCK_DGRAM);
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len),
              SyscallSucceeds());
  std::string big(sndbuf, 'x');
  EXPECT_THAT(send(a.get(), big.data(), big.size(), 0),
              SyscallFailsWithErrno(EMSGSIZE));
}

TEST(UnixSocket, WaitAll) {
  auto [a, b] = Pair(SOCK_STREAM);
  ASSERT_THAT(write(a.get(), "abc", 3), SyscallSucceedsWithValue(3));
  ASSERT_THAT(shutdown(a.get(), SHUT_WR), SyscallSucceeds());
  char buf[8];
  // MSG_WAITALL stops at EOF with what it has.
  EXPECT_THAT(recv(b.get(), buf, sizeof buf, MSG_WAITALL),
              SyscallSucceedsWithValue(3));
  EXPECT_THAT(recv(b.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(0));
}

TEST(UnixSocket, ShutdownSemantics) {
  auto [a, b] = Pair(SOCK_STREAM);
  EXPECT_THAT(shutdown(a.get(), 3), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shutdown(a.get(), -1), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(shutdown(a.get(), SHUT_WR), SyscallSucceeds());
  EXPECT_THAT(send(a.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  char c;
  EXPECT_THAT(read(b.get(), &c, 1), SyscallSucceedsWithValue(0));
  // The other direction still works.
  ASSERT_THAT(write(b.get(), "y", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(read(a.get(), &c, 1), SyscallSucceedsWithValue(1));
  pollfd p = {b.get(), POLLIN | POLLOUT | POLLRDHUP, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT | POLLRDHUP);
  ASSERT_THAT(shutdown(b.get(), SHUT_RD), SyscallSucceeds());
  // Writing to a peer that shut its reading down is EPIPE.
  EXPECT_THAT(send(a.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
}

TEST(UnixSocket, SigpipeUnlessNosignal) {
  auto [a, b] = Pair(SOCK_STREAM);
  b.reset();
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &set, &old), SyscallSucceeds());
  EXPECT_THAT(send(a.get(), "x", 1, MSG_NOSIGNAL), SyscallFailsWithErrno(EPIPE));
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  EXPECT_THAT(write(a.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  sigpending(&pending);
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));
  const timespec zero = {0, 0};
  EXPECT_EQ(sigtimedwait(&set, nullptr, &zero), SIGPIPE);
  EXPECT_THAT(send(a.get(), "x", 1, 0), SyscallFailsWithErrno(EPIPE));
  EXPECT_EQ(sigtimedwait(&set, nullptr, &zero), SIGPIPE);
  ASSERT_THAT(sigprocmask(SIG_SETMASK, &old, nullptr), SyscallSucceeds());
}

TEST(UnixSocket, PeerClosedReadsEofOrReset) {
  {
    auto [a, b] = Pair(SOCK_STREAM);
    ASSERT_THAT(write(a.get(), "xy", 2), SyscallSucceedsWithValue(2));
    a.reset();
    char buf[4];
    // What was sent before the close is still read, then EOF.
    EXPECT_THAT(read(b.get(), buf, sizeof buf), SyscallSucceedsWithValue(2));
    EXPECT_THAT(read(b.get(), buf, sizeof buf), SyscallSucceedsWithValue(0));
    pollfd p = {b.get(), POLLIN | POLLOUT, 0};
    ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
    EXPECT_EQ(p.revents & (POLLIN | POLLHUP), POLLIN | POLLHUP);
  }
  {
    // Closing with unread data resets the peer once.
    auto [a, b] = Pair(SOCK_STREAM);
    ASSERT_THAT(write(b.get(), "z", 1), SyscallSucceedsWithValue(1));
    a.reset();
    char c;
    EXPECT_THAT(read(b.get(), &c, 1), SyscallFailsWithErrno(ECONNRESET));
    EXPECT_THAT(read(b.get(), &c, 1), SyscallSucceedsWithValue(0));
  }
}

TEST(UnixSocket, NonblockingByFcntl) {
  auto [a, b] = Pair(SOCK_STREAM);
  ASSERT_THAT(fcntl(a.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(a.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  // Fill the buffer: a non-blocking writer then gets EAGAIN.
  std::string chunk(65536, 'x');
  ssize_t total = 0;
  for (;;) {
    ssize_t n = write(a.get(), chunk.data(), chunk.size());
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN);
      break;
    }
    total += n;
    ASSERT_LT(total, 64 << 20);
  }
  EXPECT_GT(total, 0);
  pollfd p = {a.get(), POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  int outq = -1;
  ASSERT_THAT(ioctl(a.get(), TIOCOUTQ, &outq), SyscallSucceeds());
  EXPECT_GT(outq, 0);
}

TEST(UnixSocket, PollReadiness) {
  auto [a, b] = Pair(SOCK_STREAM);
  pollfd p = {b.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLOUT);
  ASSERT_THAT(write(a.get(), "x", 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
  // An unconnected stream socket is writable and hung up.
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  pollfd q = {s.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&q, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(q.revents, POLLOUT | POLLHUP);
}

TEST(UnixSocket, UnconnectedErrors) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  char c;
  EXPECT_THAT(send(s.get(), "x", 1, MSG_NOSIGNAL),
              SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(recv(s.get(), &c, 1, 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor q(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  EXPECT_THAT(recv(q.get(), &c, 1, 0), SyscallFailsWithErrno(ENOTCONN));
  FileDescriptor d(socket(AF_UNIX, SOCK_DGRAM, 0));
  EXPECT_THAT(send(d.get(), "x", 1, 0), SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(recv(d.get(), &c, 1, MSG_DONTWAIT),
              SyscallFailsWithErrno(EAGAIN));
  sockaddr_un sa;
  socklen_t len = sizeof sa;
  EXPECT_THAT(getpeername(s.get(), reinterpret_cast<sockaddr*>(&sa), &len),
              SyscallFailsWithErrno(ENOTCONN));
  EXPECT_THAT(accept(d.get(), nullptr, nullptr),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(accept(s.get(), nullptr, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(listen(d.get(), 1), SyscallFailsWithErrno(EOPNOTSUPP));
  // No listening on an unbound socket.
  EXPECT_THAT(listen(s.get(), 1), SyscallFailsWithErrno(EINVAL));
}

TEST(UnixSocket, SendmmsgRecvmmsg) {
  auto [a, b] = Pair(SOCK_DGRAM);
  char m0[] = "first", m1[] = "second";
  iovec iov[2] = {{m0, 5}, {m1, 6}};
  mmsghdr out[2] = {};
  out[0].msg_hdr.msg_iov = &iov[0];
  out[0].msg_hdr.msg_iovlen = 1;
  out[1].msg_hdr.msg_iov = &iov[1];
  out[1].msg_hdr.msg_iovlen = 1;
  ASSERT_THAT(sendmmsg(a.get(), out, 2, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(out[0].msg_len, 5u);
  EXPECT_EQ(out[1].msg_len, 6u);
  char r0[8], r1[8], r2[8];
  iovec rio[3] = {{r0, 8}, {r1, 8}, {r2, 8}};
  mmsghdr in[3] = {};
  for (int i = 0; i < 3; ++i) {
    in[i].msg_hdr.msg_iov = &rio[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_THAT(recvmmsg(b.get(), in, 3, MSG_DONTWAIT, nullptr),
              SyscallSucceedsWithValue(2));
  EXPECT_EQ(in[0].msg_len, 5u);
  EXPECT_EQ(std::string(r1, in[1].msg_len), "second");
}

TEST(UnixSocket, SendfileAndSplice) {
  auto [a, b] = Pair(SOCK_STREAM);
  FileDescriptor f(open(kRegularFile, O_RDONLY));
  ASSERT_GE(f.get(), 0);
  off_t off = 0;
  ASSERT_THAT(sendfile(a.get(), f.get(), &off, 10),
              SyscallSucceedsWithValue(10));
  EXPECT_EQ(off, 10);
  char want[10], got[10];
  ASSERT_THAT(pread(f.get(), want, 10, 0), SyscallSucceedsWithValue(10));
  ASSERT_THAT(read(b.get(), got, 10), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(got, 10), std::string(want, 10));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  ASSERT_THAT(write(a.get(), "splice", 6), SyscallSucceedsWithValue(6));
  ASSERT_THAT(splice(b.get(), nullptr, p[1], nullptr, 6, 0),
              SyscallSucceedsWithValue(6));
  char buf[8];
  ASSERT_THAT(read(p[0], buf, sizeof buf), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "splice");
  ASSERT_THAT(write(p[1], "back", 4), SyscallSucceedsWithValue(4));
  ASSERT_THAT(splice(p[0], nullptr, a.get(), nullptr, 4, 0),
              SyscallSucceedsWithValue(4));
  ASSERT_THAT(recv(b.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 4), "back");
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace syscall_test
