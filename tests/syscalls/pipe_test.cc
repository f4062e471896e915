// pipe/pipe2: I/O, EOF, EPIPE, O_NONBLOCK, PIPE_BUF atomicity, O_DIRECT
// packets, fstat, flags, FIONREAD, seeking, readiness.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

using ::testing::Eq;

// Both ends of a new pipe, closed at the end of the test.
struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe(int flags = 0) {
  int fds[2] = {-1, -1};
  EXPECT_THAT(syscall(SYS_pipe2, fds, flags), SyscallSucceeds());
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// Writes SIGPIPE's disposition away for the test and back after: Linux
// would kill us on EPIPE (the sandbox does not deliver it yet).
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    EXPECT_THAT(sigaction(SIGPIPE, &ign, &old_), SyscallSucceeds());
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

short Revents(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  EXPECT_THAT(syscall(SYS_poll, &p, 1, 0), SyscallSucceeds());
  return p.revents;
}

TEST(PipeTest, PipeSyscallWorks) {
  int fds[2];
  ASSERT_THAT(syscall(SYS_pipe, fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_THAT(write(w.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[16];
  EXPECT_THAT(read(r.get(), buf, sizeof buf), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(PipeTest, ReadReturnsWhatIsThereAndKeepsTheRest) {
  Pipe p = MakePipe();
  ASSERT_THAT(write(p.w.get(), "abcdef", 6), SyscallSucceedsWithValue(6));
  char buf[16];
  EXPECT_THAT(read(p.r.get(), buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_THAT(read(p.r.get(), buf + 4, 12), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  EXPECT_THAT(read(p.r.get(), buf, 0), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, Vectored) {
  Pipe p = MakePipe();
  char a[] = "ab", b[] = "cde";
  struct iovec out[2] = {{a, 2}, {b, 3}};
  ASSERT_THAT(writev(p.w.get(), out, 2), SyscallSucceedsWithValue(5));
  char x[3], y[8];
  struct iovec in[2] = {{x, 3}, {y, 8}};
  ASSERT_THAT(readv(p.r.get(), in, 2), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(x, 3) + std::string(y, 2), "abcde");
}

TEST(PipeTest, EofOnlyAfterLastWriterCloses) {
  Pipe p = MakePipe();
  FileDescriptor w2(dup(p.w.get()));
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  p.w.reset();
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(1));
  // A writer is left: an empty blocking pipe would wait, so look with poll.
  EXPECT_EQ(Revents(p.r.get(), POLLIN), 0);
  w2.reset();
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(0));
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, EpipeWithoutReaders) {
  IgnoreSigpipe ignore;
  Pipe p = MakePipe();
  p.r.reset();
  EXPECT_THAT(write(p.w.get(), "x", 1), SyscallFailsWithErrno(EPIPE));
  EXPECT_THAT(write(p.w.get(), "", 0), SyscallSucceedsWithValue(0));
}

TEST(PipeTest, WrongEndIsEbadf) {
  Pipe p = MakePipe();
  char c = 0;
  EXPECT_THAT(read(p.w.get(), &c, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(p.r.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST(PipeTest, NonblockingEagain) {
  Pipe p = MakePipe(O_NONBLOCK);
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  std::string big(70000, 'a');
  // More than PIPE_BUF may be split: what fits (64 KiB) goes.
  EXPECT_THAT(write(p.w.get(), big.data(), big.size()),
              SyscallSucceedsWithValue(65536));
  EXPECT_THAT(write(p.w.get(), "x", 1), SyscallFailsWithErrno(EAGAIN));
}

TEST(PipeTest, SetflNonblock) {
  Pipe p = MakePipe();
  ASSERT_THAT(fcntl(p.r.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(p.r.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

// Writes of at most PIPE_BUF bytes are atomic: all or (nonblocking) EAGAIN.
TEST(PipeTest, PipeBufAtomicityWhenNearlyFull) {
  Pipe p = MakePipe(O_NONBLOCK);
  std::string fill(65535, 'a');
  ASSERT_THAT(write(p.w.get(), fill.data(), fill.size()),
              SyscallSucceedsWithValue(65535));
  EXPECT_THAT(write(p.w.get(), "bc", 2), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(write(p.w.get(), "b", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(write(p.w.get(), "c", 1), SyscallFailsWithErrno(EAGAIN));
  // Reading one page lets exactly one more PIPE_BUF write in.
  std::string page(PIPE_BUF, '\0');
  ASSERT_THAT(read(p.r.get(), page.data(), page.size()),
              SyscallSucceedsWithValue(PIPE_BUF));
  EXPECT_THAT(write(p.w.get(), page.data(), PIPE_BUF),
              SyscallSucceedsWithValue(PIPE_BUF));
  EXPECT_THAT(write(p.w.get(), "d", 1), SyscallFailsWithErrno(EAGAIN));
}

// Linux's pipe is 16 pages; a write that does not fit whole in the last
// page's free space takes a fresh page.
TEST(PipeTest, CapacityIsSixteenPages) {
  Pipe p = MakePipe(O_NONBLOCK);
  std::string chunk(4000, 'a');
  int writes = 0;
  while (write(p.w.get(), chunk.data(), chunk.size()) == 4000) ++writes;
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(writes, 16);
  int n = 0;
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 64000);
}

TEST(PipeTest, DirectPacketMode) {
  Pipe p = MakePipe(O_DIRECT | O_NONBLOCK);
  ASSERT_THAT(write(p.w.get(), "one", 3), SyscallSucceedsWithValue(3));
  ASSERT_THAT(write(p.w.get(), "two!", 4), SyscallSucceedsWithValue(4));
  char buf[16];
  EXPECT_THAT(read(p.r.get(), buf, sizeof buf), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "one");
  // A short read takes part of a packet and drops the rest.
  EXPECT_THAT(read(p.r.get(), buf, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "tw");
  EXPECT_THAT(read(p.r.get(), buf, sizeof buf), SyscallFailsWithErrno(EAGAIN));
  // Each packet takes a page: 16 fit.
  int packets = 0;
  while (write(p.w.get(), "z", 1) == 1) ++packets;
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(packets, 16);
}

TEST(PipeTest, DirectSplitsLargeWritesIntoPages) {
  Pipe p = MakePipe(O_DIRECT | O_NONBLOCK);
  std::string data(5000, 'x');
  ASSERT_THAT(write(p.w.get(), data.data(), data.size()),
              SyscallSucceedsWithValue(5000));
  std::string buf(8192, '\0');
  EXPECT_THAT(read(p.r.get(), buf.data(), buf.size()),
              SyscallSucceedsWithValue(4096));
  EXPECT_THAT(read(p.r.get(), buf.data(), buf.size()),
              SyscallSucceedsWithValue(904));
}

TEST(PipeTest, StatusFlags) {
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.r.get(), F_GETFL), SyscallSucceedsWithValue(O_RDONLY));
  EXPECT_THAT(fcntl(p.w.get(), F_GETFL), SyscallSucceedsWithValue(O_WRONLY));
  Pipe q = MakePipe(O_NONBLOCK | O_DIRECT);
  // O_DIRECT belongs to the write end only.
  EXPECT_THAT(fcntl(q.r.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDONLY | O_NONBLOCK));
  EXPECT_THAT(fcntl(q.w.get(), F_GETFL),
              SyscallSucceedsWithValue(O_WRONLY | O_NONBLOCK | O_DIRECT));
}

TEST(PipeTest, Cloexec) {
  Pipe p = MakePipe();
  EXPECT_THAT(fcntl(p.r.get(), F_GETFD), SyscallSucceedsWithValue(0));
  Pipe q = MakePipe(O_CLOEXEC);
  EXPECT_THAT(fcntl(q.r.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(q.w.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST(PipeTest, BadFlagsAndAddress) {
  int fds[2];
  EXPECT_THAT(syscall(SYS_pipe2, fds, O_APPEND), SyscallFailsWithErrno(EINVAL));
  // No fd is left behind when the array is not writable.
  const int next = dup(0);
  ASSERT_GE(next, 0);
  close(next);
  EXPECT_THAT(syscall(SYS_pipe2, BadAddress(), 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(syscall(SYS_pipe, BadAddress()), SyscallFailsWithErrno(EFAULT));
  const int again = dup(0);
  EXPECT_EQ(again, next);
  close(again);
}

TEST(PipeTest, Fstat) {
  Pipe p = MakePipe();
  Pipe q = MakePipe();
  struct stat r {
  }, w{}, other{};
  ASSERT_THAT(fstat(p.r.get(), &r), SyscallSucceeds());
  ASSERT_THAT(fstat(p.w.get(), &w), SyscallSucceeds());
  ASSERT_THAT(fstat(q.r.get(), &other), SyscallSucceeds());
  EXPECT_EQ(r.st_mode, S_IFIFO | 0600u);
  EXPECT_EQ(r.st_nlink, 1u);
  EXPECT_EQ(r.st_uid, geteuid());
  EXPECT_EQ(r.st_gid, getegid());
  EXPECT_EQ(r.st_size, 0);
  EXPECT_EQ(r.st_blksize, 4096);
  EXPECT_EQ(r.st_ino, w.st_ino);
  EXPECT_EQ(r.st_dev, w.st_dev);
  EXPECT_NE(r.st_ino, other.st_ino);
}

TEST(PipeTest, ProcFdLinkNamesThePipe) {
  Pipe p = MakePipe();
  struct stat st {};
  ASSERT_THAT(fstat(p.w.get(), &st), SyscallSucceeds());
  char target[64] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(p.w.get());
  ASSERT_THAT(readlink(link.c_str(), target, sizeof target - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(target), "pipe:[" + std::to_string(st.st_ino) + "]");
}

TEST(PipeTest, NotSeekableOrMappable) {
  Pipe p = MakePipe();
  char c = 0;
  EXPECT_THAT(lseek(p.r.get(), 0, SEEK_CUR), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(pread(p.r.get(), &c, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(pwrite(p.w.get(), &c, 1, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(mmap(nullptr, 4096, PROT_READ, MAP_SHARED, p.r.get(), 0),
              SyscallFailsWithErrno(ENODEV));
}

TEST(PipeTest, Fionread) {
  Pipe p = MakePipe();
  int n = -1;
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(write(p.w.get(), "abc", 3), SyscallSucceedsWithValue(3));
  ASSERT_THAT(ioctl(p.r.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 3);
  ASSERT_THAT(ioctl(p.w.get(), FIONREAD, &n), SyscallSucceeds());  // both ends
  EXPECT_EQ(n, 3);
  EXPECT_THAT(ioctl(p.r.get(), FIONREAD, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(ioctl(p.r.get(), TCGETS, &n), SyscallFailsWithErrno(ENOTTY));
}

TEST(PipeTest, Readiness) {
  Pipe p = MakePipe(O_NONBLOCK);
  EXPECT_EQ(Revents(p.r.get(), POLLIN | POLLOUT), 0);
  EXPECT_EQ(Revents(p.w.get(), POLLIN | POLLOUT), POLLOUT);
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(Revents(p.r.get(), POLLIN | POLLRDNORM), POLLIN | POLLRDNORM);
  std::string fill(65535, 'a');
  ASSERT_THAT(write(p.w.get(), fill.data(), fill.size()),
              SyscallSucceedsWithValue(65535));
  EXPECT_EQ(Revents(p.w.get(), POLLOUT), 0);  // full
  p.w.reset();
  EXPECT_EQ(Revents(p.r.get(), POLLIN), POLLIN | POLLHUP);
  Pipe q = MakePipe();
  q.r.reset();
  EXPECT_EQ(Revents(q.w.get(), POLLOUT), POLLOUT | POLLERR);
  EXPECT_EQ(Revents(q.w.get(), 0), POLLERR);  // reported unasked
}

}  // namespace
}  // namespace syscall_test
