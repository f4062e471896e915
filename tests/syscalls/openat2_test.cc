// openat2(2): the extensible open_how argument and the RESOLVE_* rules.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

long Openat2(int dirfd, const std::string& path, uint64_t flags,
             uint64_t mode = 0, uint64_t resolve = 0) {
  open_how how{.flags = flags, .mode = mode, .resolve = resolve};
  return syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
}

// The inode an fd is open on (to check where a path led).
ino_t InodeOf(long fd) {
  struct stat st {};
  fstat(static_cast<int>(fd), &st);
  return st.st_ino;
}

ino_t InodeAt(const std::string& path) {
  struct stat st {};
  lstat(path.c_str(), &st);
  return st.st_ino;
}

class Openat2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    // dir/{file, sub/, abs -> /file, rel -> ../outside, up -> sub/../file}
    // and dir/../outside.
    ASSERT_THAT(mkdir(root_.c_str(), 0755), SyscallSucceeds());
    ASSERT_THAT(mkdir((root_ + "/sub").c_str(), 0755), SyscallSucceeds());
    MakeFile(root_ + "/file", "inside");
    MakeFile(dir_ / "outside", "outside");
    MakeFile(dir_ / "file", "escaped");
    ASSERT_THAT(symlink("/file", (root_ + "/abs").c_str()), SyscallSucceeds());
    ASSERT_THAT(symlink("../outside", (root_ + "/rel").c_str()),
                SyscallSucceeds());
    ASSERT_THAT(symlink("sub/../file", (root_ + "/up").c_str()),
                SyscallSucceeds());
    rootfd_ = open(root_.c_str(), O_DIRECTORY | O_RDONLY);
    ASSERT_GE(rootfd_, 0);
  }
  void TearDown() override {
    if (rootfd_ >= 0) close(rootfd_);
  }
  TempDir dir_;
  const std::string root_ = dir_ / "root";
  int rootfd_ = -1;
};

TEST_F(Openat2Test, OpensLikeOpenat) {
  long fd = Openat2(rootfd_, "new", O_CREAT | O_WRONLY, 0640);
  ASSERT_THAT(fd, SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd, &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 0777, 0640 & ~umask(022));
  umask(022);
  // O_LARGEFILE is added, as openat does on 64-bit.
  EXPECT_TRUE(fcntl(fd, F_GETFL) & 0100000);  // O_LARGEFILE (0 in glibc's header)
  close(fd);
  fd = Openat2(rootfd_, "file", O_RDONLY | O_CLOEXEC);
  ASSERT_THAT(fd, SyscallSucceeds());
  EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
  close(fd);
}

TEST_F(Openat2Test, BadArguments) {
  open_how how{.flags = O_RDONLY};
  // Sizes: below the first version, above a page.
  EXPECT_THAT(syscall(SYS_openat2, rootfd_, "file", &how, 16),
              SyscallFailsWithErrno(EINVAL));
  char big[4097] = {};
  memcpy(big, &how, sizeof how);
  EXPECT_THAT(syscall(SYS_openat2, rootfd_, "file", big, sizeof big),
              SyscallFailsWithErrno(E2BIG));
  // A larger struct is fine if the bytes we do not know are zero.
  long fd = syscall(SYS_openat2, rootfd_, "file", big, 64);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  big[40] = 1;
  EXPECT_THAT(syscall(SYS_openat2, rootfd_, "file", big, 64),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(syscall(SYS_openat2, rootfd_, "file", nullptr, sizeof how),
              SyscallFailsWithErrno(EFAULT));
  // Unknown open flags are an error here, unlike openat.
  EXPECT_THAT(Openat2(rootfd_, "file", O_RDONLY | (1ull << 40)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Openat2(rootfd_, "file", O_RDONLY | 0x4000000),
              SyscallFailsWithErrno(EINVAL));
  // A mode only with O_CREAT or O_TMPFILE, and only permission bits.
  EXPECT_THAT(Openat2(rootfd_, "file", O_RDONLY, 0644),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Openat2(rootfd_, "x", O_CREAT | O_WRONLY, S_IFREG | 0644),
              SyscallFailsWithErrno(EINVAL));
  // Resolve flags: unknown ones, and both scopes at once.
  EXPECT_THAT(Openat2(rootfd_, "file", O_RDONLY, 0, 0x40),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(
      Openat2(rootfd_, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT),
      SyscallFailsWithErrno(EINVAL));
  // O_PATH takes only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC.
  EXPECT_THAT(Openat2(rootfd_, "file", O_PATH | O_RDWR),
              SyscallFailsWithErrno(EINVAL));
  fd = Openat2(rootfd_, "file", O_PATH | O_CLOEXEC);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  // RESOLVE_CACHED cannot create or truncate.
  EXPECT_THAT(Openat2(rootfd_, "y", O_CREAT | O_WRONLY, 0644, RESOLVE_CACHED),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Openat2(rootfd_, "file", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED),
              SyscallFailsWithErrno(EAGAIN));
}

TEST_F(Openat2Test, NoSymlinks) {
  EXPECT_THAT(Openat2(rootfd_, "up", O_RDONLY, 0, RESOLVE_NO_SYMLINKS),
              SyscallFailsWithErrno(ELOOP));
  ASSERT_THAT(symlink("sub", (root_ + "/link").c_str()), SyscallSucceeds());
  MakeFile(root_ + "/sub/f", "");
  EXPECT_THAT(Openat2(rootfd_, "link/f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS),
              SyscallFailsWithErrno(ELOOP));
  // Not followed, a final symlink is no error: O_PATH|O_NOFOLLOW opens it.
  long fd = Openat2(rootfd_, "up", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
  ASSERT_THAT(fd, SyscallSucceeds());
  EXPECT_EQ(InodeOf(fd), InodeAt(root_ + "/up"));
  close(fd);
  fd = Openat2(rootfd_, "sub/f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(Openat2Test, NoMagiclinks) {
  const std::string magic = "/proc/self/fd/" + std::to_string(rootfd_);
  EXPECT_THAT(Openat2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS),
              SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(
      Openat2(AT_FDCWD, magic + "/file", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS),
      SyscallFailsWithErrno(ELOOP));
  // Ordinary symlinks still work ("self" itself is one of those).
  long fd = Openat2(rootfd_, "up", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
  ASSERT_THAT(fd, SyscallSucceeds());
  EXPECT_EQ(InodeOf(fd), InodeAt(root_ + "/file"));
  close(fd);
  fd = Openat2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0,
               RESOLVE_NO_MAGICLINKS);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  // Without the flag the magic link is followed.
  fd = Openat2(AT_FDCWD, magic + "/file", O_RDONLY);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

TEST_F(Openat2Test, Beneath) {
  long fd = Openat2(rootfd_, "sub/../file", O_RDONLY, 0, RESOLVE_BENEATH);
  ASSERT_THAT(fd, SyscallSucceeds());
  EXPECT_EQ(InodeOf(fd), InodeAt(root_ + "/file"));
  close(fd);
  fd = Openat2(rootfd_, "up", O_RDONLY, 0, RESOLVE_BENEATH);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  EXPECT_THAT(Openat2(rootfd_, "../outside", O_RDONLY, 0, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(rootfd_, "sub/../../outside", O_RDONLY, 0,
                      RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(rootfd_, "rel", O_RDONLY, 0, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(rootfd_, "abs", O_RDONLY, 0, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  EXPECT_THAT(Openat2(rootfd_, root_ + "/file", O_RDONLY, 0, RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  // Magic links are refused inside a scope.
  int proc = open("/proc/self", O_DIRECTORY | O_RDONLY);
  ASSERT_GE(proc, 0);
  EXPECT_THAT(Openat2(proc, "fd/" + std::to_string(rootfd_), O_RDONLY, 0,
                      RESOLVE_BENEATH),
              SyscallFailsWithErrno(EXDEV));
  close(proc);
}

TEST_F(Openat2Test, InRoot) {
  // "/" and ".." stop at dirfd: each of these lands on root/file.
  for (const char* path : {"abs", "/file", "../../../file", "sub/../../file",
                           "up"}) {
    long fd = Openat2(rootfd_, path, O_RDONLY, 0, RESOLVE_IN_ROOT);
    ASSERT_THAT(fd, SyscallSucceeds()) << path;
    EXPECT_EQ(InodeOf(fd), InodeAt(root_ + "/file")) << path;
    close(fd);
  }
  // rel -> ../outside is root/outside, which does not exist.
  EXPECT_THAT(Openat2(rootfd_, "rel", O_RDONLY, 0, RESOLVE_IN_ROOT),
              SyscallFailsWithErrno(ENOENT));
}

TEST_F(Openat2Test, NoXdev) {
  // /proc is a mount of its own: entering or leaving it crosses.
  EXPECT_THAT(Openat2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0,
                      RESOLVE_NO_XDEV),
              SyscallFailsWithErrno(EXDEV));
  int proc = open("/proc", O_DIRECTORY | O_RDONLY);
  ASSERT_GE(proc, 0);
  EXPECT_THAT(Openat2(proc, "../proc", O_RDONLY, 0, RESOLVE_NO_XDEV),
              SyscallFailsWithErrno(EXDEV));
  long fd = Openat2(proc, "self/status", O_RDONLY, 0, RESOLVE_NO_XDEV);
  // "self" is an ordinary symlink within /proc.
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
  close(proc);
  // Within one mount nothing changes.
  fd = Openat2(rootfd_, "sub/../file", O_RDONLY, 0, RESOLVE_NO_XDEV);
  EXPECT_THAT(fd, SyscallSucceeds());
  if (fd >= 0) close(fd);
}

}  // namespace
}  // namespace syscall_test
