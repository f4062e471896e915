// open/openat path resolution and errors, close, dup/dup2/dup3 and fcntl
// descriptor/status flags; only existing files are opened, none created.
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

// Restores the working directory when a test that chdir()s ends.
class CwdRestorer {
 public:
  CwdRestorer() : fd_(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~CwdRestorer() {
    if (fd_.get() >= 0) {
      EXPECT_THAT(fchdir(fd_.get()), SyscallSucceeds());
    }
  }

 private:
  FileDescriptor fd_;
};

// A symlink to a directory: /bin -> usr/bin on merged-/usr Debian 12.
// Returns nullptr if none of the candidates is one.
const char* FindDirSymlink() {
  for (const char* path : {"/bin", "/lib", "/sbin"}) {
    struct stat lst, st;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) &&
        stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      return path;
    }
  }
  return nullptr;
}

int ClosedFd() {
  const int fd = open("/dev/null", O_RDONLY);
  close(fd);
  return fd;
}

TEST(OpenTest, ExistingFileAndDirectory) {
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  EXPECT_THAT(file.get(), SyscallSucceeds());
  FileDescriptor dir(open("/etc", O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(dir.get(), SyscallSucceeds());
}

// glibc's open() uses openat; the classic syscall is reached only directly.
TEST(OpenTest, ClassicOpenSyscall) {
  FileDescriptor fd(syscall(SYS_open, kRegularFile, O_RDONLY | O_CLOEXEC));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadToEnd(fd.get()), ReadFileContents(kRegularFile));
  EXPECT_THAT(syscall(SYS_open, "/does-not-exist", O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(syscall(SYS_open, kRegularFile, O_RDONLY | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(OpenTest, MissingPathIsEnoent) {
  EXPECT_THAT(open("/etc/does-not-exist", O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open("/does-not-exist/file", O_RDONLY),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(open("", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

TEST(OpenTest, FileUsedAsDirectoryIsEnotdir) {
  const std::string file = kRegularFile;
  EXPECT_THAT(open((file + "/x").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open((file + "/").c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(open(kRegularFile, O_RDONLY | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(OpenTest, DirectoryForWritingIsEisdir) {
  EXPECT_THAT(open("/", O_WRONLY), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(open("/etc", O_RDWR), SyscallFailsWithErrno(EISDIR));
}

TEST(OpenTest, NameTooLong) {
  const std::string component = "/" + std::string(NAME_MAX + 1, 'a');
  EXPECT_THAT(open(component.c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENAMETOOLONG));
  std::string path;
  while (path.size() <= PATH_MAX) path += "/etc";
  EXPECT_THAT(open(path.c_str(), O_RDONLY),
              SyscallFailsWithErrno(ENAMETOOLONG));
}

TEST(OpenTest, CloexecIsVisibleThroughGetfd) {
  FileDescriptor with(open(kRegularFile, O_RDONLY | O_CLOEXEC));
  FileDescriptor without(open(kRegularFile, O_RDONLY));
  ASSERT_GE(with.get(), 0);
  ASSERT_GE(without.get(), 0);
  EXPECT_THAT(fcntl(with.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  EXPECT_THAT(fcntl(without.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST(OpenTest, NofollowOnSymlinkIsEloop) {
  const char* link = FindDirSymlink();
  if (link == nullptr) GTEST_SKIP() << "no symlink to a directory found";
  FileDescriptor followed(open(link, O_RDONLY | O_DIRECTORY));
  EXPECT_THAT(followed.get(), SyscallSucceeds());
  EXPECT_THAT(open(link, O_RDONLY | O_NOFOLLOW), SyscallFailsWithErrno(ELOOP));
  // With O_DIRECTORY the "not a directory" check comes first.
  EXPECT_THAT(open(link, O_RDONLY | O_NOFOLLOW | O_DIRECTORY),
              SyscallFailsWithErrno(ENOTDIR));
  // O_NOFOLLOW only concerns the last component.
  const std::string through = std::string(link) + "/.";
  FileDescriptor inner(open(through.c_str(), O_RDONLY | O_NOFOLLOW));
  EXPECT_THAT(inner.get(), SyscallSucceeds());
}

TEST(OpenTest, DotDotAfterSymlinkIsPhysical) {
  char target[PATH_MAX];
  const ssize_t n = readlink("/bin", target, sizeof(target));
  if (n < 0 || std::string(target, n) != "usr/bin") {
    GTEST_SKIP() << "/bin is not a symlink to usr/bin";
  }
  // "/bin/.." is the parent of /usr/bin, i.e. /usr, not "/".
  FileDescriptor fd(open("/bin/..", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  struct stat got, usr;
  ASSERT_THAT(fstat(fd.get(), &got), SyscallSucceeds());
  ASSERT_THAT(stat("/usr", &usr), SyscallSucceeds());
  EXPECT_EQ(got.st_ino, usr.st_ino);
  EXPECT_EQ(got.st_dev, usr.st_dev);
}

TEST(OpenTest, RelativePathsFollowChdir) {
  CwdRestorer restore;
  ASSERT_THAT(chdir("/usr"), SyscallSucceeds());
  FileDescriptor a(open("lib/os-release", O_RDONLY));
  EXPECT_THAT(a.get(), SyscallSucceeds());
  FileDescriptor b(open("../etc/os-release", O_RDONLY));
  EXPECT_THAT(b.get(), SyscallSucceeds());
  FileDescriptor c(openat(AT_FDCWD, "./lib/os-release", O_RDONLY));
  EXPECT_THAT(c.get(), SyscallSucceeds());
  EXPECT_THAT(open("os-release", O_RDONLY), SyscallFailsWithErrno(ENOENT));
}

TEST(OpenatTest, RelativeToDirfd) {
  FileDescriptor dir(open("/etc", O_RDONLY | O_DIRECTORY));
  ASSERT_THAT(dir.get(), SyscallSucceeds());
  FileDescriptor fd(openat(dir.get(), "os-release", O_RDONLY));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(ReadToEnd(fd.get()), ReadFileContents(kRegularFile));
  FileDescriptor up(openat(dir.get(), "../etc/os-release", O_RDONLY));
  EXPECT_THAT(up.get(), SyscallSucceeds());
}

TEST(OpenatTest, AbsolutePathIgnoresDirfd) {
  FileDescriptor a(openat(ClosedFd(), kRegularFile, O_RDONLY));
  EXPECT_THAT(a.get(), SyscallSucceeds());
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  FileDescriptor b(openat(file.get(), "/etc", O_RDONLY));
  EXPECT_THAT(b.get(), SyscallSucceeds());
}

TEST(OpenatTest, BadDirfdForRelativePath) {
  EXPECT_THAT(openat(-1, "os-release", O_RDONLY), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(openat(ClosedFd(), "os-release", O_RDONLY),
              SyscallFailsWithErrno(EBADF));
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  EXPECT_THAT(openat(file.get(), "x", O_RDONLY),
              SyscallFailsWithErrno(ENOTDIR));
}

TEST(CloseTest, SecondCloseIsEbadf) {
  const int fd = open(kRegularFile, O_RDONLY);
  ASSERT_THAT(fd, SyscallSucceeds());
  EXPECT_THAT(close(fd), SyscallSucceeds());
  EXPECT_THAT(close(fd), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(close(-1), SyscallFailsWithErrno(EBADF));
}

TEST(FdTableTest, LowestFreeNumberIsReused) {
  FileDescriptor a(open(kRegularFile, O_RDONLY));
  FileDescriptor b(open(kRegularFile, O_RDONLY));
  ASSERT_GE(a.get(), 0);
  ASSERT_GT(b.get(), a.get());
  const int freed = a.get();
  a.reset();
  FileDescriptor c(open("/dev/null", O_RDONLY));
  EXPECT_EQ(c.get(), freed);
  c.reset();
  FileDescriptor d(dup(b.get()));
  EXPECT_EQ(d.get(), freed);
}

TEST(DupTest, SharesOffsetButNotCloexec) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  FileDescriptor copy(dup(fd.get()));
  ASSERT_THAT(copy.get(), SyscallSucceeds());
  EXPECT_THAT(fcntl(copy.get(), F_GETFD), SyscallSucceedsWithValue(0));
  char buf[5];
  ASSERT_THAT(read(fd.get(), buf, 5), SyscallSucceedsWithValue(5));
  EXPECT_THAT(lseek(copy.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(5));
  EXPECT_THAT(dup(-1), SyscallFailsWithErrno(EBADF));
}

TEST(Dup2Test, SameFdReturnsItWhenValid) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(dup2(fd.get(), fd.get()), SyscallSucceedsWithValue(fd.get()));
  const int closed = ClosedFd();
  EXPECT_THAT(dup2(closed, closed), SyscallFailsWithErrno(EBADF));
}

TEST(Dup2Test, ReplacesOpenTargetAndClearsCloexec) {
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  FileDescriptor target(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(file.get(), 0);
  ASSERT_GE(target.get(), 0);
  ASSERT_THAT(dup2(file.get(), target.get()),
              SyscallSucceedsWithValue(target.get()));
  struct stat a, b;
  ASSERT_THAT(fstat(file.get(), &a), SyscallSucceeds());
  ASSERT_THAT(fstat(target.get(), &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_TRUE(S_ISREG(b.st_mode));
  EXPECT_THAT(fcntl(target.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST(Dup2Test, Errors) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  // A failed dup2 leaves the target open.
  EXPECT_THAT(dup2(-1, fd.get()), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceeds());
  EXPECT_THAT(dup2(fd.get(), -1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(dup2(fd.get(), static_cast<int>(rl.rlim_cur)),
              SyscallFailsWithErrno(EBADF));
}

TEST(Dup3Test, FlagsAndSameFd) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  FileDescriptor target(open("/dev/null", O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_GE(target.get(), 0);
  EXPECT_THAT(dup3(fd.get(), fd.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup3(fd.get(), target.get(), O_NONBLOCK),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(dup3(fd.get(), target.get(), O_CLOEXEC),
              SyscallSucceedsWithValue(target.get()));
  EXPECT_THAT(fcntl(target.get(), F_GETFD),
              SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(dup3(fd.get(), target.get(), 0),
              SyscallSucceedsWithValue(target.get()));
  EXPECT_THAT(fcntl(target.get(), F_GETFD), SyscallSucceedsWithValue(0));
}

TEST(FcntlTest, DupfdUsesLowestFreeAtOrAboveArg) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  // Find two free descriptor numbers in a row (inherited fds are possible).
  int base = 100;
  while (fcntl(base, F_GETFD) != -1 || fcntl(base + 1, F_GETFD) != -1) ++base;
  FileDescriptor a(fcntl(fd.get(), F_DUPFD, base));
  EXPECT_THAT(a.get(), SyscallSucceedsWithValue(base));
  FileDescriptor b(fcntl(fd.get(), F_DUPFD_CLOEXEC, base));
  EXPECT_THAT(b.get(), SyscallSucceedsWithValue(base + 1));
  EXPECT_THAT(fcntl(a.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(b.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
}

TEST(FcntlTest, DupfdErrors) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  struct rlimit rl;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_DUPFD, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(fd.get(), F_DUPFD, static_cast<int>(rl.rlim_cur)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(-1, F_DUPFD, 0), SyscallFailsWithErrno(EBADF));
}

TEST(FcntlTest, SetfdAndGetfd) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(fcntl(fd.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(fcntl(fd.get(), F_SETFD, 0), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(ClosedFd(), F_GETFD), SyscallFailsWithErrno(EBADF));
}

TEST(FcntlTest, GetflReportsAccessMode) {
  FileDescriptor ro(open("/dev/null", O_RDONLY));
  FileDescriptor wo(open("/dev/null", O_WRONLY));
  FileDescriptor rw(open("/dev/null", O_RDWR | O_CLOEXEC));
  EXPECT_EQ(fcntl(ro.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fcntl(wo.get(), F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_EQ(fcntl(rw.get(), F_GETFL) & O_ACCMODE, O_RDWR);
  // Descriptor flags are not file status flags.
  EXPECT_EQ(fcntl(rw.get(), F_GETFL) & O_CLOEXEC, 0);
}

// 64-bit Linux opens every file with O_LARGEFILE (0100000 on x86-64; the
// userspace O_LARGEFILE macro is 0 there) and F_GETFL reports it.
TEST(FcntlTest, GetflIncludesKernelLargefileBit) {
  constexpr int kKernelOLargefile = 0100000;
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  EXPECT_THAT(fcntl(fd.get(), F_GETFL),
              SyscallSucceedsWithValue(O_RDONLY | kKernelOLargefile));
}

TEST(FcntlTest, SetflChangesStatusFlagsButNotAccessMode) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK | O_APPEND | O_RDWR),
              SyscallSucceeds());
  const int fl = fcntl(fd.get(), F_GETFL);
  EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(fl & (O_NONBLOCK | O_APPEND), O_NONBLOCK | O_APPEND);
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, 0), SyscallSucceeds());
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & (O_NONBLOCK | O_APPEND), 0);
  // Status flags live in the open file description, shared by dups.
  FileDescriptor copy(dup(fd.get()));
  ASSERT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallSucceeds());
  EXPECT_EQ(fcntl(copy.get(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
}

TEST(FcntlTest, UnknownCommandIsEinval) {
  FileDescriptor fd(open(kRegularFile, O_RDONLY));
  EXPECT_THAT(fcntl(fd.get(), Opaque(0x7fff)), SyscallFailsWithErrno(EINVAL));
}

// An O_PATH descriptor answers only the fd-table commands and F_GETFL;
// everything else (even an unknown command) is EBADF.
TEST(FcntlTest, OPathTakesOnlyFdCommands) {
  FileDescriptor fd(open(kRegularFile, O_PATH));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(fcntl(fd.get(), F_GETFL), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  FileDescriptor copy(fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  EXPECT_GE(copy.get(), 0);
  EXPECT_THAT(fcntl(fd.get(), F_SETFL, O_NONBLOCK), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd.get(), F_GETPIPE_SZ), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(fd.get(), Opaque(0x7fff)), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace syscall_test
