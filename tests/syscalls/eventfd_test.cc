// eventfd/eventfd2: flags, the counter and EFD_SEMAPHORE, 8-byte reads and
// writes (EINVAL otherwise), the 0xfffffffffffffffe ceiling, poll
// readiness, blocking reads and writes (woken, interrupted by signals,
// with the fd closed meanwhile, across fork), fstat and fdinfo.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <cstdint>

#include "event_util.h"

namespace syscall_test {
namespace {

constexpr uint64_t kMax = 0xfffffffffffffffe;

short Revents(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceeds());
  return p.revents;
}

uint64_t ReadValue(int fd) {
  uint64_t v = 0;
  EXPECT_THAT(read(fd, &v, sizeof v), SyscallSucceedsWithValue(8));
  return v;
}

void WriteValue(int fd, uint64_t v) {
  EXPECT_THAT(write(fd, &v, sizeof v), SyscallSucceedsWithValue(8));
}

TEST(Eventfd, Flags) {
  EXPECT_THAT(syscall(SYS_eventfd2, 0, 0x1000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_eventfd2, 0, O_RDWR), SyscallFailsWithErrno(EINVAL));
  FileDescriptor fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDWR | O_NONBLOCK));
  FileDescriptor old(syscall(SYS_eventfd, 5));
  ASSERT_GE(old.get(), 0);
  EXPECT_THAT(fcntl(old.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(old.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR));
  EXPECT_EQ(ReadValue(old.get()), 5u);
}

TEST(Eventfd, CounterAndEagain) {
  FileDescriptor fd(eventfd(3, EFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  WriteValue(fd.get(), 4);
  EXPECT_EQ(ReadValue(fd.get()), 7u);
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, sizeof v), SyscallFailsWithErrno(EAGAIN));
  WriteValue(fd.get(), 0);  // adds nothing, still not readable
  EXPECT_THAT(read(fd.get(), &v, sizeof v), SyscallFailsWithErrno(EAGAIN));
}

TEST(Eventfd, Semaphore) {
  FileDescriptor fd(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  WriteValue(fd.get(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadValue(fd.get()), 1u);
  uint64_t v;
  EXPECT_THAT(read(fd.get(), &v, sizeof v), SyscallFailsWithErrno(EAGAIN));
}

TEST(Eventfd, Sizes) {
  FileDescriptor fd(eventfd(1, EFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  uint64_t buf[2] = {9, 9};
  EXPECT_THAT(read(fd.get(), buf, 7), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(read(fd.get(), buf, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), buf, 4), SyscallFailsWithErrno(EINVAL));
  // A read takes any buffer of 8 bytes or more; a write exactly 8.
  EXPECT_THAT(write(fd.get(), buf, 16), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write(fd.get(), buf, 8), SyscallSucceedsWithValue(8));
  EXPECT_THAT(read(fd.get(), buf, 16), SyscallSucceedsWithValue(8));
  EXPECT_EQ(buf[0], 10u);
  EXPECT_EQ(buf[1], 9u);
  // The 8 bytes read may span iovecs.
  WriteValue(fd.get(), 5);
  uint32_t lo = 7, hi = 7;
  struct iovec iov[2] = {{&lo, 4}, {&hi, 4}};
  EXPECT_THAT(readv(fd.get(), iov, 2), SyscallSucceedsWithValue(8));
  EXPECT_EQ(lo, 5u);
  EXPECT_EQ(hi, 0u);
  // No positional I/O; lseek does nothing (Linux's noop_llseek).
  EXPECT_THAT(pread(fd.get(), buf, 8, 0), SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(lseek(fd.get(), 5, SEEK_SET), SyscallSucceedsWithValue(0));
  WriteValue(fd.get(), 1);
  EXPECT_THAT(read(fd.get(), BadAddress(), 8), SyscallFailsWithErrno(EFAULT));
}

TEST(Eventfd, Ceiling) {
  FileDescriptor fd(eventfd(0, EFD_NONBLOCK));
  ASSERT_GE(fd.get(), 0);
  uint64_t v = UINT64_MAX;
  EXPECT_THAT(write(fd.get(), &v, 8), SyscallFailsWithErrno(EINVAL));
  WriteValue(fd.get(), kMax);
  EXPECT_EQ(Revents(fd.get(), POLLIN | POLLOUT), POLLIN);
  v = 1;
  EXPECT_THAT(write(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
  WriteValue(fd.get(), 0);  // adding nothing always fits
  EXPECT_EQ(ReadValue(fd.get()), kMax);
  WriteValue(fd.get(), kMax - 1);
  WriteValue(fd.get(), 1);
  EXPECT_THAT(write(fd.get(), &v, 8), SyscallFailsWithErrno(EAGAIN));
}

TEST(Eventfd, PollReadiness) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  EXPECT_EQ(Revents(fd.get(), POLLIN | POLLOUT), POLLOUT);
  EXPECT_EQ(Revents(fd.get(), POLLIN), 0);
  WriteValue(fd.get(), 1);
  EXPECT_EQ(Revents(fd.get(), POLLIN | POLLOUT), POLLIN | POLLOUT);
  // A poll that blocks is woken by a write from another thread.
  ReadValue(fd.get());
  BlockedCall poller([&] {
    struct pollfd p = {fd.get(), POLLIN, 0};
    return static_cast<long>(poll(&p, 1, -1) == 1 ? p.revents : -1);
  });
  poller.WaitBlocked();
  WriteValue(fd.get(), 2);
  EXPECT_EQ(poller.Join(), POLLIN);
}

TEST(Eventfd, BlockingReadWokenByWrite) {
  FileDescriptor fd(eventfd(0, EFD_SEMAPHORE));
  ASSERT_GE(fd.get(), 0);
  BlockedCall reader([&] {
    uint64_t v = 0;
    return read(fd.get(), &v, 8) == 8 ? static_cast<long>(v) : -1;
  });
  reader.WaitBlocked();
  WriteValue(fd.get(), 3);
  EXPECT_EQ(reader.Join(), 1);
  EXPECT_EQ(ReadValue(fd.get()), 1u);
}

TEST(Eventfd, BlockingWriteWokenByRead) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  WriteValue(fd.get(), kMax);
  BlockedCall writer([&] {
    uint64_t v = 5;
    return static_cast<long>(write(fd.get(), &v, 8));
  });
  writer.WaitBlocked();
  EXPECT_EQ(ReadValue(fd.get()), kMax);
  EXPECT_EQ(writer.Join(), 8);
  EXPECT_EQ(ReadValue(fd.get()), 5u);
}

TEST(Eventfd, BlockingReadInterrupted) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  ExpectInterrupted(
      [&] {
        uint64_t v;
        return static_cast<long>(read(fd.get(), &v, 8));
      },
      SIGUSR1);
}

TEST(Eventfd, BlockingWriteInterrupted) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  WriteValue(fd.get(), kMax);
  ExpectInterrupted(
      [&] {
        uint64_t v = 1;
        return static_cast<long>(write(fd.get(), &v, 8));
      },
      SIGUSR1);
  EXPECT_EQ(ReadValue(fd.get()), kMax);
}

TEST(Eventfd, RestartedReadAfterHandler) {
  ScopedSignalHandler handler(SIGUSR1, SA_RESTART);
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  BlockedCall reader([&] {
    uint64_t v = 0;
    return read(fd.get(), &v, 8) == 8 ? static_cast<long>(v) : -1;
  });
  reader.WaitBlocked();
  pthread_kill(pthread_self(), 0);  // (keeps the handler's scope honest)
  syscall(SYS_tgkill, getpid(), reader.tid(), SIGUSR1);
  reader.WaitBlocked();  // back asleep in the restarted read
  WriteValue(fd.get(), 6);
  EXPECT_EQ(reader.Join(), 6);
}

// Closing the fd does not end a read blocked on its description, as on
// Linux: a write through another fd of it completes the read.
TEST(Eventfd, CloseWhileBlocked) {
  int raw = eventfd(0, 0);
  ASSERT_GE(raw, 0);
  FileDescriptor other(dup(raw));
  BlockedCall reader([&] {
    uint64_t v = 0;
    return read(raw, &v, 8) == 8 ? static_cast<long>(v) : -1;
  });
  reader.WaitBlocked();
  ASSERT_THAT(close(raw), SyscallSucceeds());
  EXPECT_FALSE(reader.done());
  WriteValue(other.get(), 9);
  EXPECT_EQ(reader.Join(), 9);
}

// A fork while a thread blocks: the child shares the counter, and the
// parent's reader gets what the child writes.
TEST(Eventfd, ForkWhileBlocked) {
  FileDescriptor fd(eventfd(0, 0));
  ASSERT_GE(fd.get(), 0);
  BlockedCall reader([&] {
    uint64_t v = 0;
    return read(fd.get(), &v, 8) == 8 ? static_cast<long>(v) : -1;
  });
  reader.WaitBlocked();
  const pid_t pid = fork();
  if (pid == 0) {
    uint64_t v = 11;
    _exit(write(fd.get(), &v, 8) == 8 ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(reader.Join(), 11);
}

TEST(Eventfd, StatAndFdinfo) {
  FileDescriptor fd(eventfd(0x2a, EFD_SEMAPHORE));
  ASSERT_GE(fd.get(), 0);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  char link[64] = {};
  const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  ASSERT_THAT(readlink(proc.c_str(), link, sizeof link - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[eventfd]");
  EXPECT_EQ(FdinfoField(fd.get(), "eventfd-count:"), "2a");
  EXPECT_EQ(FdinfoField(fd.get(), "eventfd-semaphore:"), "1");
  EXPECT_NE(FdinfoField(fd.get(), "eventfd-id:"), "");
}

}  // namespace
}  // namespace syscall_test
