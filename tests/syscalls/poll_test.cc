// poll/ppoll/select/pselect6 on pipes and devices: readiness, hangups,
// timeouts (and their write-back), POLLNVAL, EBADF, argument checks.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

#include "test_util.h"

namespace syscall_test {
namespace {

struct Pipe {
  FileDescriptor r, w;
};

Pipe MakePipe() {
  int fds[2] = {-1, -1};
  EXPECT_THAT(pipe2(fds, O_NONBLOCK), SyscallSucceeds());
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// A closed fd number below 64 (so select looks at it).
int ClosedFd() {
  const int fd = dup(0);
  EXPECT_GE(fd, 0);
  close(fd);
  return fd;
}

long Poll(struct pollfd* fds, unsigned n, int timeout_ms) {
  return syscall(SYS_poll, fds, n, timeout_ms);
}

long Select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  return syscall(SYS_select, n, r, w, e, tv);
}

TEST(PollTest, PipeReadableAfterWrite) {
  Pipe p = MakePipe();
  struct pollfd fds[2] = {{p.r.get(), POLLIN, 0}, {p.w.get(), POLLOUT, 0}};
  EXPECT_THAT(Poll(fds, 2, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLOUT);  // an empty pipe is writable
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Poll(fds, 2, -1), SyscallSucceedsWithValue(2));
  EXPECT_EQ(fds[0].revents, POLLIN);
}

TEST(PollTest, HangupAndError) {
  Pipe p = MakePipe();
  p.w.reset();
  struct pollfd fd = {p.r.get(), POLLIN, 0};
  // Ready at once, even with no timeout.
  EXPECT_THAT(Poll(&fd, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fd.revents, POLLHUP);
  Pipe q = MakePipe();
  q.r.reset();
  fd = {q.w.get(), 0, 0};
  EXPECT_THAT(Poll(&fd, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fd.revents, POLLERR);
}

TEST(PollTest, TimeoutExpires) {
  Pipe p = MakePipe();
  struct pollfd fd = {p.r.get(), POLLIN, 0};
  const int64_t start = NowMs();
  EXPECT_THAT(Poll(&fd, 1, 30), SyscallSucceedsWithValue(0));
  EXPECT_GE(NowMs() - start, 29);  // lower bound only: clocks are coarse
  EXPECT_EQ(fd.revents, 0);
}

TEST(PollTest, NegativeFdIgnoredBadFdNval) {
  Pipe p = MakePipe();
  struct pollfd fds[3] = {
      {-1, POLLIN, 0x55}, {ClosedFd(), POLLIN, 0}, {p.w.get(), POLLOUT, 0}};
  EXPECT_THAT(Poll(fds, 3, 0), SyscallSucceedsWithValue(2));
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLNVAL);
  EXPECT_EQ(fds[2].revents, POLLOUT);
}

TEST(PollTest, DevicesAlwaysReady) {
  FileDescriptor null = OpenOrFail("/dev/null", O_RDWR);
  struct pollfd fd = {null.get(), POLLIN | POLLOUT, 0};
  EXPECT_THAT(Poll(&fd, 1, -1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(fd.revents, POLLIN | POLLOUT);
}

TEST(PollTest, ArgumentErrors) {
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_THAT(Poll(nullptr, rl.rlim_cur + 1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Poll(nullptr, 1, 0), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Poll(nullptr, 0, 0), SyscallSucceedsWithValue(0));
}

TEST(PpollTest, TimeoutWrittenBack) {
  Pipe p = MakePipe();
  struct pollfd fd = {p.r.get(), POLLIN, 0};
  struct timespec ts = {0, 20 * 1000 * 1000};
  EXPECT_THAT(syscall(SYS_ppoll, &fd, 1, &ts, nullptr, 8),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(ts.tv_sec, 0);  // all of it used up
  EXPECT_EQ(ts.tv_nsec, 0);
  // Ready at once: most of the time is left.
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  ts = {100, 0};
  EXPECT_THAT(syscall(SYS_ppoll, &fd, 1, &ts, nullptr, 8),
              SyscallSucceedsWithValue(1));
  EXPECT_GE(ts.tv_sec, 90);
  EXPECT_LE(ts.tv_sec, 100);
}

TEST(PpollTest, SigmaskAndTimespecChecks) {
  sigset_t mask;
  sigemptyset(&mask);
  struct timespec ts = {0, 0};
  EXPECT_THAT(syscall(SYS_ppoll, nullptr, 0, &ts, &mask, 8),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(syscall(SYS_ppoll, nullptr, 0, &ts, &mask, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_ppoll, nullptr, 0, &ts, BadAddress(), 8),
              SyscallFailsWithErrno(EFAULT));
  ts = {0, 1000000000};
  EXPECT_THAT(syscall(SYS_ppoll, nullptr, 0, &ts, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  ts = {-1, 0};
  EXPECT_THAT(syscall(SYS_ppoll, nullptr, 0, &ts, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SelectTest, ReadableAndWritable) {
  Pipe p = MakePipe();
  const int n = std::max(p.r.get(), p.w.get()) + 1;
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(p.r.get(), &r);
  FD_SET(p.w.get(), &w);
  struct timeval tv = {0, 0};
  EXPECT_THAT(Select(n, &r, &w, nullptr, &tv), SyscallSucceedsWithValue(1));
  EXPECT_FALSE(FD_ISSET(p.r.get(), &r));  // cleared: not ready
  EXPECT_TRUE(FD_ISSET(p.w.get(), &w));
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  FD_SET(p.r.get(), &r);
  EXPECT_THAT(Select(n, &r, nullptr, nullptr, nullptr),
              SyscallSucceedsWithValue(1));
  EXPECT_TRUE(FD_ISSET(p.r.get(), &r));
}

TEST(SelectTest, HangupIsReadableErrorIsBoth) {
  Pipe p = MakePipe();
  p.w.reset();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.r.get(), &r);
  EXPECT_THAT(Select(p.r.get() + 1, &r, nullptr, nullptr, nullptr),
              SyscallSucceedsWithValue(1));
  EXPECT_TRUE(FD_ISSET(p.r.get(), &r));
  // A write end without readers: readable (the error) and writable; an fd
  // counts once per set.
  Pipe q = MakePipe();
  q.r.reset();
  fd_set w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(q.w.get(), &r);
  FD_SET(q.w.get(), &w);
  EXPECT_THAT(Select(q.w.get() + 1, &r, &w, nullptr, nullptr),
              SyscallSucceedsWithValue(2));
}

TEST(SelectTest, TimeoutExpiresAndIsWrittenBack) {
  Pipe p = MakePipe();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.r.get(), &r);
  struct timeval tv = {0, 30 * 1000};
  const int64_t start = NowMs();
  EXPECT_THAT(Select(p.r.get() + 1, &r, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(0));
  EXPECT_GE(NowMs() - start, 29);
  EXPECT_FALSE(FD_ISSET(p.r.get(), &r));
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
  // tv_usec may hold whole seconds.
  tv = {0, 1500000};
  FD_SET(p.r.get(), &r);
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Select(p.r.get() + 1, &r, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(tv.tv_sec, 1);  // normalised on the way back
  EXPECT_LT(tv.tv_usec, 1000000);
}

TEST(SelectTest, Errors) {
  struct timeval tv = {0, -1};
  EXPECT_THAT(Select(0, nullptr, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
  tv = {-1, 0};
  EXPECT_THAT(Select(0, nullptr, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
  tv = {0, 0};
  EXPECT_THAT(Select(-1, nullptr, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Select(-1, nullptr, nullptr, nullptr, BadAddress<timeval>()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Select(1, BadAddress<fd_set>(), nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EFAULT));
  const int bad = ClosedFd();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(bad, &r);
  EXPECT_THAT(Select(bad + 1, &r, nullptr, nullptr, &tv),
              SyscallFailsWithErrno(EBADF));
  // Bits at or above nfds are not looked at.
  EXPECT_THAT(Select(bad, &r, nullptr, nullptr, &tv),
              SyscallSucceedsWithValue(0));
}

TEST(SelectTest, DevicesAlwaysReady) {
  FileDescriptor null = OpenOrFail("/dev/null", O_RDWR);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(null.get(), &r);
  FD_SET(null.get(), &w);
  EXPECT_THAT(Select(null.get() + 1, &r, &w, nullptr, nullptr),
              SyscallSucceedsWithValue(2));
}

TEST(Pselect6Test, TimeoutAndSigmask) {
  Pipe p = MakePipe();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p.r.get(), &r);
  struct timespec ts = {0, 20 * 1000 * 1000};
  sigset_t mask;
  sigemptyset(&mask);
  struct {
    sigset_t* ss;
    size_t len;
  } sig = {&mask, 8};
  EXPECT_THAT(
      syscall(SYS_pselect6, p.r.get() + 1, &r, nullptr, nullptr, &ts, &sig),
      SyscallSucceedsWithValue(0));
  EXPECT_EQ(ts.tv_sec, 0);
  EXPECT_EQ(ts.tv_nsec, 0);
  ts = {0, 0};
  sig.len = 4;
  EXPECT_THAT(syscall(SYS_pselect6, 0, nullptr, nullptr, nullptr, &ts, &sig),
              SyscallFailsWithErrno(EINVAL));
  sig.ss = nullptr;  // no mask: the size is not looked at
  EXPECT_THAT(syscall(SYS_pselect6, 0, nullptr, nullptr, nullptr, &ts, &sig),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(
      syscall(SYS_pselect6, 0, nullptr, nullptr, nullptr, &ts, BadAddress()),
      SyscallFailsWithErrno(EFAULT));
  ts = {0, 1000000000};
  EXPECT_THAT(syscall(SYS_pselect6, 0, nullptr, nullptr, nullptr, &ts, nullptr),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceedsWithValue(1));
  FD_SET(p.r.get(), &r);
  EXPECT_THAT(syscall(SYS_pselect6, p.r.get() + 1, &r, nullptr, nullptr,
                      nullptr, nullptr),
              SyscallSucceedsWithValue(1));
  EXPECT_TRUE(FD_ISSET(p.r.get(), &r));
}

}  // namespace
}  // namespace syscall_test
