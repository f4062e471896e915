// O_PATH descriptors across the syscalls: what Linux lets them do (name
// a file: fstat, fstatfs, *at calls, fchdir, dup, fcntl's fd flags, a
// reopen through /proc/self/fd, exec), and what it refuses with EBADF
// (anything that touches the file's contents or attributes through the
// descriptor).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class OpathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeFile(dir_ / "file", "contents");
    ASSERT_THAT(mkdir((dir_ / "sub").c_str(), 0755), SyscallSucceeds());
    ASSERT_THAT(symlink("file", (dir_ / "link").c_str()), SyscallSucceeds());
    file_ = open((dir_ / "file").c_str(), O_PATH);
    dirfd_ = open(dir_.path().c_str(), O_PATH | O_DIRECTORY);
    ASSERT_GE(file_, 0);
    ASSERT_GE(dirfd_, 0);
  }
  void TearDown() override {
    close(file_);
    close(dirfd_);
  }
  TempDir dir_;
  int file_ = -1, dirfd_ = -1;
};

TEST_F(OpathTest, NamesTheFile) {
  struct stat st, want;
  ASSERT_THAT(fstat(file_, &st), SyscallSucceeds());
  ASSERT_THAT(stat((dir_ / "file").c_str(), &want), SyscallSucceeds());
  EXPECT_EQ(st.st_ino, want.st_ino);
  EXPECT_EQ(st.st_size, 8);
  ASSERT_THAT(fstatat(file_, "", &st, AT_EMPTY_PATH), SyscallSucceeds());
  EXPECT_EQ(st.st_ino, want.st_ino);
  struct statfs sfs;
  EXPECT_THAT(fstatfs(file_, &sfs), SyscallSucceeds());
  // The flags say O_PATH; the fd flags can be changed.
  EXPECT_EQ(fcntl(file_, F_GETFL) & O_PATH, O_PATH);
  EXPECT_THAT(fcntl(file_, F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_EQ(fcntl(file_, F_GETFD), FD_CLOEXEC);
  int dup = fcntl(file_, F_DUPFD_CLOEXEC, 0);
  ASSERT_THAT(dup, SyscallSucceeds());
  EXPECT_EQ(fcntl(dup, F_GETFL) & O_PATH, O_PATH);
  close(dup);
}

TEST_F(OpathTest, DirectoryAsDirfd) {
  int fd = openat(dirfd_, "file", O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  char buf[16] = {};
  EXPECT_THAT(read(fd, buf, sizeof buf), SyscallSucceedsWithValue(8));
  close(fd);
  EXPECT_THAT(mkdirat(dirfd_, "made", 0755), SyscallSucceeds());
  EXPECT_THAT(unlinkat(dirfd_, "made", AT_REMOVEDIR), SyscallSucceeds());
  char target[16] = {};
  EXPECT_THAT(readlinkat(dirfd_, "link", target, sizeof target),
              SyscallSucceedsWithValue(4));
  EXPECT_THAT(faccessat(dirfd_, "file", R_OK, 0), SyscallSucceeds());
  // fchdir takes it too.
  int cwd = open(".", O_PATH | O_DIRECTORY);
  ASSERT_GE(cwd, 0);
  EXPECT_THAT(fchdir(dirfd_), SyscallSucceeds());
  EXPECT_THAT(access("file", F_OK), SyscallSucceeds());
  EXPECT_THAT(fchdir(cwd), SyscallSucceeds());
  close(cwd);
}

TEST_F(OpathTest, SymlinkItself) {
  int link = open((dir_ / "link").c_str(), O_PATH | O_NOFOLLOW);
  ASSERT_THAT(link, SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(link, &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char target[16] = {};
  EXPECT_THAT(readlinkat(link, "", target, sizeof target),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(target), "file");
  close(link);
}

TEST_F(OpathTest, ReopenThroughProc) {
  const std::string magic = "/proc/self/fd/" + std::to_string(file_);
  int fd = open(magic.c_str(), O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  char buf[16] = {};
  EXPECT_THAT(read(fd, buf, sizeof buf), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(buf), "contents");
  // A real open: not O_PATH any more.
  EXPECT_EQ(fcntl(fd, F_GETFL) & O_PATH, 0);
  close(fd);
  char link[4096] = {};
  ASSERT_THAT(readlink(magic.c_str(), link, sizeof link - 1),
              SyscallSucceeds());
  EXPECT_EQ(std::string(link), dir_ / "file");
}

TEST_F(OpathTest, ContentsAndAttributesAreEbadf) {
  char buf[8];
  struct iovec iov = {buf, sizeof buf};
  EXPECT_THAT(read(file_, buf, sizeof buf), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(file_, "x", 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pread(file_, buf, sizeof buf, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(readv(file_, &iov, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(lseek(file_, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, file_, 0), MAP_FAILED);
  EXPECT_EQ(errno, EBADF);
  EXPECT_THAT(fchmod(file_, 0600), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fchown(file_, getuid(), getgid()), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(ftruncate(file_, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fsync(file_), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fdatasync(file_), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flock(file_, LOCK_SH), SyscallFailsWithErrno(EBADF));
  struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
  EXPECT_THAT(fcntl(file_, F_SETLK, &fl), SyscallFailsWithErrno(EBADF));
  int n;
  EXPECT_THAT(ioctl(file_, FIONREAD, &n), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fallocate(file_, 0, 0, 10), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fgetxattr(file_, "user.x", buf, sizeof buf),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fsetxattr(file_, "user.x", "v", 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flistxattr(file_, buf, sizeof buf), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(posix_fadvise(file_, 0, 0, POSIX_FADV_NORMAL), EBADF);
  char dents[256];
  EXPECT_THAT(syscall(SYS_getdents64, dirfd_, dents, sizeof dents),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fchdir(file_), SyscallFailsWithErrno(ENOTDIR));
  // The file is untouched.
  struct stat st;
  ASSERT_THAT(stat((dir_ / "file").c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8);
}

// The path-based calls take an O_PATH fd with AT_EMPTY_PATH.
TEST_F(OpathTest, EmptyPathCalls) {
  EXPECT_THAT(fchownat(file_, "", getuid(), getgid(), AT_EMPTY_PATH),
              SyscallSucceeds());
  struct statx stx;
  EXPECT_THAT(statx(file_, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_EQ(stx.stx_size, 8u);
}

// execveat(fd, "", AT_EMPTY_PATH) runs the file an O_PATH fd names.
TEST(OpathExecTest, ExecveatEmptyPath) {
  int fd = open("/bin/true", O_PATH);
  ASSERT_THAT(fd, SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    char* const envp[] = {nullptr};
    syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    _exit(99);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(fd);
}

}  // namespace
}  // namespace syscall_test
