// AF_UNIX control messages and options: SCM_RIGHTS (pipes, sockets,
// regular files; MSG_CTRUNC; MSG_CMSG_CLOEXEC; more than SCM_MAX_FD;
// closed fds), SCM_CREDENTIALS with SO_PASSCRED, SO_PEERCRED, buffer sizes,
// timeouts, SO_ERROR, short optlens, bad cmsg lengths; no fd leaks.
#include <fcntl.h>
#include <sys/time.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "unix_util.h"

namespace syscall_test {
namespace {

// Sends one byte with `fds` as SCM_RIGHTS.
ssize_t SendFds(int sock, const std::vector<int>& fds) {
  std::vector<char> ctl(CMSG_SPACE(fds.size() * sizeof(int)));
  char c = 'F';
  iovec iov = {&c, 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.data();
  m.msg_controllen = ctl.size();
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  memcpy(CMSG_DATA(h), fds.data(), fds.size() * sizeof(int));
  return sendmsg(sock, &m, 0);
}

// Receives one byte and the fds that came with it, into `ctl_size` bytes
// of control buffer.
std::vector<int> RecvFds(int sock, size_t ctl_size, int flags = 0,
                         int* msg_flags = nullptr) {
  std::vector<char> ctl(ctl_size);
  char c;
  iovec iov = {&c, 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.empty() ? nullptr : ctl.data();
  m.msg_controllen = ctl.size();
  std::vector<int> fds;
  if (recvmsg(sock, &m, flags) != 1) {
    ADD_FAILURE() << "recvmsg: " << ErrnoName(errno);
    return fds;
  }
  if (msg_flags) *msg_flags = m.msg_flags;
  for (cmsghdr* h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  return fds;
}

TEST(UnixScm, RightsOfEveryKind) {
  const int before = CountFds();
  {
    auto [a, b] = Pair(SOCK_STREAM);
    int p[2];
    ASSERT_THAT(pipe(p), SyscallSucceeds());
    auto [x, y] = Pair(SOCK_DGRAM);
    FileDescriptor f(open(kRegularFile, O_RDONLY));
    ASSERT_THAT(SendFds(a.get(), {p[1], x.get(), f.get()}),
                SyscallSucceedsWithValue(1));
    close(p[1]);
    std::vector<int> got = RecvFds(b.get(), CMSG_SPACE(3 * sizeof(int)),
                                   MSG_CMSG_CLOEXEC);
    ASSERT_EQ(got.size(), 3u);
    for (int fd : got) EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    // The pipe's write end works.
    ASSERT_THAT(write(got[0], "p", 1), SyscallSucceedsWithValue(1));
    char c;
    ASSERT_THAT(read(p[0], &c, 1), SyscallSucceedsWithValue(1));
    // The socket is the same socket.
    ASSERT_THAT(send(got[1], "s", 1, 0), SyscallSucceedsWithValue(1));
    ASSERT_THAT(recv(y.get(), &c, 1, 0), SyscallSucceedsWithValue(1));
    // The file shares its offset with ours.
    ASSERT_THAT(lseek(got[2], 3, SEEK_SET), SyscallSucceeds());
    EXPECT_EQ(lseek(f.get(), 0, SEEK_CUR), 3);
    for (int fd : got) close(fd);
    close(p[0]);
  }
  EXPECT_EQ(CountFds(), before);
}

TEST(UnixScm, CtruncAndPeek) {
  const int before = CountFds();
  {
    auto [a, b] = Pair(SOCK_DGRAM);
    FileDescriptor f1(open(kRegularFile, O_RDONLY));
    FileDescriptor f2(open(kRegularFile, O_RDONLY));
    ASSERT_THAT(SendFds(a.get(), {f1.get(), f2.get()}),
                SyscallSucceedsWithValue(1));
    // A peek gets copies of the fds too.
    std::vector<int> peeked = RecvFds(b.get(), 256, MSG_PEEK);
    EXPECT_EQ(peeked.size(), 2u);
    for (int fd : peeked) close(fd);
    int flags = 0;
    // Room for one fd only (CMSG_SPACE would round up to room for two).
    std::vector<int> got = RecvFds(b.get(), CMSG_LEN(sizeof(int)), 0, &flags);
    EXPECT_EQ(got.size(), 1u);
    EXPECT_EQ(flags & MSG_CTRUNC, MSG_CTRUNC);
    for (int fd : got) close(fd);
    // No control buffer at all: the fds are dropped.
    ASSERT_THAT(SendFds(a.get(), {f1.get()}), SyscallSucceedsWithValue(1));
    got = RecvFds(b.get(), 0, 0, &flags);
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(flags & MSG_CTRUNC, MSG_CTRUNC);
  }
  EXPECT_EQ(CountFds(), before);
}

TEST(UnixScm, TooManyOrClosedFds) {
  const int before = CountFds();
  {
    auto [a, b] = Pair(SOCK_STREAM);
    FileDescriptor f(open(kRegularFile, O_RDONLY));
    std::vector<int> many(253, f.get());
    ASSERT_THAT(SendFds(a.get(), many), SyscallSucceedsWithValue(1));
    std::vector<int> got = RecvFds(b.get(), CMSG_SPACE(253 * sizeof(int)));
    EXPECT_EQ(got.size(), 253u);
    for (int fd : got) close(fd);
    many.push_back(f.get());
    EXPECT_THAT(SendFds(a.get(), many), SyscallFailsWithErrno(EINVAL));
    FileDescriptor g(open(kRegularFile, O_RDONLY));
    const int closed = g.release();
    close(closed);
    EXPECT_THAT(SendFds(a.get(), {f.get(), closed}),
                SyscallFailsWithErrno(EBADF));
    char c;
    EXPECT_THAT(recv(b.get(), &c, 1, MSG_DONTWAIT),
                SyscallFailsWithErrno(EAGAIN));
  }
  EXPECT_EQ(CountFds(), before);
}

TEST(UnixScm, BadCmsgLengths) {
  auto [a, b] = Pair(SOCK_DGRAM);
  char c = 'x';
  iovec iov = {&c, 1};
  alignas(cmsghdr) char ctl[64] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  cmsghdr* h = reinterpret_cast<cmsghdr*>(ctl);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = sizeof ctl + 1;  // past the buffer
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  h->cmsg_len = ~size_t{0};  // overflows any sum
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  h->cmsg_len = sizeof(cmsghdr) - 1;
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  h->cmsg_len = CMSG_LEN(0);  // no fds: fine
  m.msg_controllen = CMSG_LEN(0);
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallSucceedsWithValue(1));
  h->cmsg_type = 77;  // unknown SOL_SOCKET type
  h->cmsg_len = CMSG_LEN(4);
  m.msg_controllen = CMSG_SPACE(4);
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  h->cmsg_level = 12345;  // other levels are ignored
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallSucceedsWithValue(1));
  // Fewer than a header's bytes: no control message at all.
  m.msg_controllen = sizeof(cmsghdr) - 1;
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallSucceedsWithValue(1));
  m.msg_controllen = sizeof ctl;
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_CREDENTIALS;
  h->cmsg_len = CMSG_LEN(sizeof(ucred) - 1);
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EINVAL));
  m.msg_control = BadAddress<void>();
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EFAULT));
  m.msg_controllen = size_t{1} << 40;
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(ENOBUFS));
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  m.msg_iovlen = 1025;
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EMSGSIZE));
}

TEST(UnixScm, Credentials) {
  auto [a, b] = Pair(SOCK_DGRAM);
  ucred peer{};
  socklen_t len = sizeof peer;
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len),
              SyscallSucceeds());
  EXPECT_EQ(len, sizeof peer);
  EXPECT_EQ(peer.pid, getpid());
  EXPECT_EQ(peer.uid, getuid());
  EXPECT_EQ(peer.gid, getgid());
  const int on = 1;
  ASSERT_THAT(setsockopt(b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on),
              SyscallSucceeds());
  ASSERT_THAT(send(a.get(), "c", 1, 0), SyscallSucceedsWithValue(1));
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(ucred))];
  char c;
  iovec iov = {&c, 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  ASSERT_THAT(recvmsg(b.get(), &m, 0), SyscallSucceedsWithValue(1));
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->cmsg_type, SCM_CREDENTIALS);
  ucred got;
  memcpy(&got, CMSG_DATA(h), sizeof got);
  EXPECT_EQ(got.pid, getpid());
  EXPECT_EQ(got.uid, getuid());
  // Claiming another pid is EPERM without CAP_SYS_ADMIN; our own is fine.
  ucred mine = {getpid(), getuid(), getgid()};
  h->cmsg_len = CMSG_LEN(sizeof mine);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_CREDENTIALS;
  memcpy(CMSG_DATA(h), &mine, sizeof mine);
  m.msg_controllen = sizeof ctl;
  EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallSucceedsWithValue(1));
  if (getuid() != 0) {
    mine.pid = getpid() == 1 ? 2 : 1;  // not ours
    memcpy(CMSG_DATA(h), &mine, sizeof mine);
    EXPECT_THAT(sendmsg(a.get(), &m, 0), SyscallFailsWithErrno(EPERM));
  }
  // A short optlen gets a prefix.
  len = 4;
  int pid_only = 0;
  ASSERT_THAT(getsockopt(a.get(), SOL_SOCKET, SO_PEERCRED, &pid_only, &len),
              SyscallSucceeds());
  EXPECT_EQ(len, 4u);
  EXPECT_EQ(pid_only, getpid());
}

TEST(UnixScm, Options) {
  FileDescriptor s(socket(AF_UNIX, SOCK_STREAM, 0));
  int v = 1;
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, sizeof v),
              SyscallSucceeds());
  socklen_t len = sizeof v;
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 4608);  // SOCK_MIN_SNDBUF
  v = 10000;
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &v, sizeof v),
              SyscallSucceeds());
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 20000);
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &v, 2),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, sizeof v),
              SyscallFailsWithErrno(ENOPROTOOPT));
  EXPECT_THAT(getsockopt(s.get(), SOL_SOCKET, 9999, &v, &len),
              SyscallFailsWithErrno(ENOPROTOOPT));
  len = -1;
  EXPECT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, &len),
              SyscallFailsWithErrno(EINVAL));
  len = 0;
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_TYPE, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(len, 0u);
  len = sizeof v;
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &v, &len),
              SyscallSucceeds());
  EXPECT_EQ(v, 0);
  timeval tv = {1, 500000};
  ASSERT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
              SyscallSucceeds());
  timeval back{};
  len = sizeof back;
  ASSERT_THAT(getsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &back, &len),
              SyscallSucceeds());
  EXPECT_EQ(back.tv_sec, 1);
  EXPECT_EQ(back.tv_usec, 500000);
  tv.tv_usec = 1000000;
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv),
              SyscallFailsWithErrno(EDOM));
  EXPECT_THAT(setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, 8),
              SyscallFailsWithErrno(EINVAL));
}

TEST(UnixScm, ReceiveTimeout) {
  auto [a, b] = Pair(SOCK_STREAM);
  timeval tv = {0, 10000};
  ASSERT_THAT(setsockopt(b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
              SyscallSucceeds());
  char c;
  EXPECT_THAT(recv(b.get(), &c, 1, 0), SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace syscall_test
