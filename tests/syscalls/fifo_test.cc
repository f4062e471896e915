// Named pipes and socket files made with mknod(at)/mkfifo in tmpfs: the
// node (S_IFIFO, S_IFSOCK), opening a FIFO (O_NONBLOCK rules: ENXIO for a
// lone writer, a reader opens at once and sees EOF; O_RDWR never waits;
// a blocking open waits for the other side), data between two processes,
// fstat and /proc/self/fd of an end, poll's hangup rule, the buffer
// dropped after the last close, and devices refused to non-root.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "ipc_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class FifoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(mkfifo(path_.c_str(), 0644), SyscallSucceeds());
  }
  TempDir dir_{"/dev/shm"};
  const std::string path_ = dir_ / "fifo";
};

TEST_F(FifoTest, NodeIsAFifo) {
  const struct stat st = Lstat(path_);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_nlink, 1u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_THAT(mkfifo(path_.c_str(), 0644), SyscallFailsWithErrno(EEXIST));
  // mknodat(S_IFIFO) is the same call, the umask applies.
  ScopedUmask mask(022);
  ASSERT_THAT(mknodat(AT_FDCWD, (dir_ / "f2").c_str(), S_IFIFO | 0666, 0),
              SyscallSucceeds());
  EXPECT_EQ(Lstat(dir_ / "f2").st_mode, static_cast<mode_t>(S_IFIFO | 0644));
}

TEST_F(FifoTest, NonblockingOpenRules) {
  // No reader: a non-blocking writer is refused.
  EXPECT_THAT(open(path_.c_str(), O_WRONLY | O_NONBLOCK),
              SyscallFailsWithErrno(ENXIO));
  // A non-blocking reader opens at once and reads EOF (no writer).
  FileDescriptor r(open(path_.c_str(), O_RDONLY | O_NONBLOCK));
  ASSERT_GE(r.get(), 0) << ErrnoName(errno);
  char buf[16];
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  // Now a writer may open.
  FileDescriptor w(open(path_.c_str(), O_WRONLY | O_NONBLOCK));
  ASSERT_GE(w.get(), 0) << ErrnoName(errno);
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(write(w.get(), "abc", 3), SyscallSucceedsWithValue(3));
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(3));
  EXPECT_EQ(std::string(buf, 3), "abc");
  // The writer gone: EOF again.
  w = FileDescriptor();
  EXPECT_THAT(read(r.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST_F(FifoTest, ReadWriteOpenNeverWaits) {
  FileDescriptor rw(open(path_.c_str(), O_RDWR));
  ASSERT_GE(rw.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(write(rw.get(), "x", 1), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(rw.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'x');
  // A blocking writer opens at once now that a reader exists.
  FileDescriptor w(open(path_.c_str(), O_WRONLY));
  ASSERT_GE(w.get(), 0) << ErrnoName(errno);
  int n = -1;
  ASSERT_THAT(write(w.get(), "yz", 2), SyscallSucceeds());
  ASSERT_THAT(ioctl(rw.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 2);
  EXPECT_THAT(fcntl(rw.get(), F_GETPIPE_SZ), SyscallSucceedsWithValue(65536));
}

TEST_F(FifoTest, BlockingOpensMeetAndDataFlows) {
  // Each side's open waits for the other: the child's writer open returns
  // once the parent opens for reading, and vice versa.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = open(path_.c_str(), O_WRONLY);
    if (fd < 0) _exit(1);
    const std::string msg(100000, 'm');  // more than the pipe holds
    size_t done = 0;
    while (done < msg.size()) {
      const ssize_t n = write(fd, msg.data() + done, msg.size() - done);
      if (n <= 0) _exit(2);
      done += n;
    }
    _exit(0);
  }
  FileDescriptor r(open(path_.c_str(), O_RDONLY));
  ASSERT_GE(r.get(), 0) << ErrnoName(errno);
  size_t total = 0;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(r.get(), buf, sizeof(buf));
    ASSERT_GE(n, 0) << ErrnoName(errno);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) ASSERT_EQ(buf[i], 'm');
    total += n;
  }
  EXPECT_EQ(total, 100000u);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EXIT_OK(status);
}

TEST_F(FifoTest, BlockingReaderWaitsForAWriter) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = open(path_.c_str(), O_RDONLY);
    if (fd < 0) _exit(1);
    char buf[8];
    const ssize_t n = read(fd, buf, sizeof(buf));
    _exit(n == 5 && std::string(buf, 5) == "hello" ? 0 : 2);
  }
  FileDescriptor w(open(path_.c_str(), O_WRONLY));
  ASSERT_GE(w.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(write(w.get(), "hello", 5), SyscallSucceedsWithValue(5));
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EXIT_OK(status);
}

TEST_F(FifoTest, EndDescribesTheFile) {
  FileDescriptor rw(open(path_.c_str(), O_RDWR));
  ASSERT_GE(rw.get(), 0);
  struct stat st;
  ASSERT_THAT(fstat(rw.get(), &st), SyscallSucceeds());
  const struct stat by_path = Lstat(path_);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_ino, by_path.st_ino);
  EXPECT_EQ(st.st_dev, by_path.st_dev);
  char link[4096];
  const std::string fd_path = "/proc/self/fd/" + std::to_string(rw.get());
  const ssize_t n = readlink(fd_path.c_str(), link, sizeof(link));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(link, n), path_);
  // fchmod through the end changes the file.
  ASSERT_THAT(fchmod(rw.get(), 0600), SyscallSucceeds());
  EXPECT_EQ(Lstat(path_).st_mode & 07777, 0600u);
  // Unlinked, the open end still works.
  ASSERT_THAT(unlink(path_.c_str()), SyscallSucceeds());
  ASSERT_THAT(write(rw.get(), "q", 1), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(rw.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(lseek(rw.get(), 0, SEEK_SET), SyscallFailsWithErrno(ESPIPE));
}

TEST_F(FifoTest, NoHangupBeforeTheFirstWriter) {
  FileDescriptor r(open(path_.c_str(), O_RDONLY | O_NONBLOCK));
  ASSERT_GE(r.get(), 0);
  struct pollfd pfd = {r.get(), POLLIN, 0};
  // No writer has come yet: nothing to report (Linux's f_pipe rule).
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  {
    FileDescriptor w(open(path_.c_str(), O_WRONLY | O_NONBLOCK));
    ASSERT_GE(w.get(), 0);
  }
  // A writer came and went: hangup.
  ASSERT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pfd.revents & POLLHUP);
}

TEST_F(FifoTest, DataDroppedAfterTheLastClose) {
  {
    FileDescriptor rw(open(path_.c_str(), O_RDWR));
    ASSERT_GE(rw.get(), 0);
    ASSERT_THAT(write(rw.get(), "lost", 4), SyscallSucceedsWithValue(4));
  }
  FileDescriptor rw(open(path_.c_str(), O_RDWR | O_NONBLOCK));
  ASSERT_GE(rw.get(), 0);
  char buf[8];
  EXPECT_THAT(read(rw.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
}

TEST(SocketNode, MknodAndStat) {
  TempDir dir("/dev/shm");
  const std::string path = dir / "sock";
  ASSERT_THAT(mknod(path.c_str(), S_IFSOCK | 0640, 0), SyscallSucceeds());
  const struct stat st = Lstat(path);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_THAT(open(path.c_str(), O_RDONLY), SyscallFailsWithErrno(ENXIO));
  FileDescriptor p(open(path.c_str(), O_PATH));
  EXPECT_GE(p.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(unlink(path.c_str()), SyscallSucceeds());
}

TEST(DeviceNode, RefusedWithoutCapMknod) {
  TempDir dir("/dev/shm");
  ASSERT_THAT(chmod(dir.path().c_str(), 0777), SyscallSucceeds());
  const std::string path = dir / "null";
  const int status = AsNobody([&] {
    if (mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != -1 ||
        errno != EPERM)
      return 1;
    if (mknod(path.c_str(), S_IFBLK | 0666, makedev(7, 0)) != -1 ||
        errno != EPERM)
      return 2;
    // A FIFO needs no privilege.
    if (mkfifo((path + "2").c_str(), 0600) != 0) return 3;
    return 0;
  });
  EXPECT_EXIT_OK(status);
}

}  // namespace
}  // namespace syscall_test
