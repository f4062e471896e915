// stat/lstat/fstat/newfstatat/statx on files, directories, devices and
// symlinks, their mutual consistency and errors; access/faccessat(2).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

// glibc implements stat/lstat/fstat with newfstatat and faccessat with
// faccessat2, so the classic syscalls are reached only directly.
long RawStat(const char* path, struct stat* st) {
  return syscall(SYS_stat, path, st);
}
long RawLstat(const char* path, struct stat* st) {
  return syscall(SYS_lstat, path, st);
}
long RawFstat(int fd, struct stat* st) { return syscall(SYS_fstat, fd, st); }
long RawAccess(const char* path, int mode) {
  return syscall(SYS_access, path, mode);
}
long RawFaccessat(int dirfd, const char* path, int mode) {
  return syscall(SYS_faccessat, dirfd, path, mode);
}
// glibc's statx() emulates the call with fstatat when it gets ENOSYS.
long RawStatx(int dirfd, const char* path, int flags, unsigned mask,
              struct statx* stx) {
  return syscall(SYS_statx, dirfd, path, flags, mask, stx);
}
long RawFaccessat2(int dirfd, const char* path, int mode, int flags) {
  return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

void ExpectSameFile(const struct stat& a, const struct stat& b) {
  EXPECT_EQ(a.st_dev, b.st_dev);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode, b.st_mode);
  EXPECT_EQ(a.st_nlink, b.st_nlink);
  EXPECT_EQ(a.st_uid, b.st_uid);
  EXPECT_EQ(a.st_gid, b.st_gid);
  EXPECT_EQ(a.st_rdev, b.st_rdev);
  EXPECT_EQ(a.st_size, b.st_size);
}

// A symlink to a directory (/bin -> usr/bin on merged-/usr Debian 12).
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

TEST(StatTest, StatFstatAndNewfstatatAgreeOnRegularFile) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  struct stat by_path, by_fd, by_at, by_empty;
  ASSERT_THAT(RawStat(kRegularFile, &by_path), SyscallSucceeds());
  ASSERT_THAT(RawFstat(fd.get(), &by_fd), SyscallSucceeds());
  ASSERT_THAT(fstatat(AT_FDCWD, kRegularFile, &by_at, 0), SyscallSucceeds());
  ASSERT_THAT(fstatat(fd.get(), "", &by_empty, AT_EMPTY_PATH),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(by_path.st_mode));
  EXPECT_GT(by_path.st_size, 0);
  EXPECT_GE(by_path.st_nlink, 1u);
  EXPECT_GT(by_path.st_blksize, 0);
  EXPECT_EQ(by_path.st_size,
            static_cast<off_t>(ReadFileContents(kRegularFile).size()));
  ExpectSameFile(by_path, by_fd);
  ExpectSameFile(by_path, by_at);
  ExpectSameFile(by_path, by_empty);
}

TEST(StatTest, RootDirectory) {
  struct stat root, dot, dotdot;
  ASSERT_THAT(RawStat("/", &root), SyscallSucceeds());
  ASSERT_THAT(RawStat("/.", &dot), SyscallSucceeds());
  ASSERT_THAT(RawStat("/..", &dotdot), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(root.st_mode));
  ExpectSameFile(root, dot);
  ExpectSameFile(root, dotdot);  // The root is its own parent.
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  struct stat by_fd;
  ASSERT_THAT(RawFstat(fd.get(), &by_fd), SyscallSucceeds());
  ExpectSameFile(root, by_fd);
}

TEST(StatTest, MemoryDevicesAreCharacterDevices) {
  struct Dev {
    const char* path;
    unsigned minor;
  };
  for (const Dev& d :
       {Dev{"/dev/null", 3}, Dev{"/dev/zero", 5}, Dev{"/dev/urandom", 9}}) {
    SCOPED_TRACE(d.path);
    struct stat st;
    ASSERT_THAT(RawStat(d.path, &st), SyscallSucceeds());
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
    EXPECT_EQ(minor(st.st_rdev), d.minor);
    EXPECT_EQ(st.st_size, 0);
    FileDescriptor fd = OpenOrFail(d.path, O_RDONLY);
    struct stat by_fd;
    ASSERT_THAT(RawFstat(fd.get(), &by_fd), SyscallSucceeds());
    ExpectSameFile(st, by_fd);
  }
}

TEST(StatTest, LstatDescribesTheSymlinkItself) {
  const char* link = FindDirSymlink();
  if (link == nullptr) GTEST_SKIP() << "no symlink to a directory found";
  char target[256];
  const ssize_t n = readlink(link, target, sizeof(target));
  ASSERT_THAT(n, SyscallSucceedsWithValue(::testing::Gt(0)));
  struct stat lst, st, at_nofollow;
  ASSERT_THAT(RawLstat(link, &lst), SyscallSucceeds());
  ASSERT_THAT(RawStat(link, &st), SyscallSucceeds());
  ASSERT_THAT(fstatat(AT_FDCWD, link, &at_nofollow, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(lst.st_mode));
  EXPECT_EQ(lst.st_size, n);  // A symlink's size is its target's length.
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_NE(lst.st_ino, st.st_ino);
  ExpectSameFile(lst, at_nofollow);
  // lstat follows symlinks in the middle of a path.
  struct stat inner;
  ASSERT_THAT(RawLstat((std::string(link) + "/.").c_str(), &inner),
              SyscallSucceeds());
  ExpectSameFile(st, inner);
}

TEST(StatTest, NewfstatatRelativeToDirfd) {
  FileDescriptor dir = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  struct stat rel, abs;
  ASSERT_THAT(fstatat(dir.get(), "os-release", &rel, 0), SyscallSucceeds());
  ASSERT_THAT(RawStat(kRegularFile, &abs), SyscallSucceeds());
  ExpectSameFile(rel, abs);
}

TEST(StatTest, Errors) {
  struct stat st;
  const std::string through_file = std::string(kRegularFile) + "/x";
  EXPECT_THAT(RawStat("/does-not-exist", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(RawLstat("/does-not-exist", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(RawStat(through_file.c_str(), &st),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(RawStat("", &st), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(RawStat(BadAddress<char>(), &st), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(RawStat("/", BadAddress<struct stat>()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(RawFstat(-1, &st), SyscallFailsWithErrno(EBADF));
}

TEST(StatTest, NewfstatatErrors) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  struct stat st;
  // An empty path needs AT_EMPTY_PATH; a file dirfd needs an absolute path.
  EXPECT_THAT(fstatat(fd.get(), "", &st, 0), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(fstatat(fd.get(), "x", &st, 0), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(fstatat(-1, "x", &st, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fstatat(AT_FDCWD, "/", &st, Opaque(0x10000000)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(StatxTest, MatchesStat) {
  struct statx stx;
  struct stat st;
  ASSERT_THAT(RawStatx(AT_FDCWD, kRegularFile, 0, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  ASSERT_THAT(RawStat(kRegularFile, &st), SyscallSucceeds());
  constexpr unsigned kNeeded =
      STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE | STATX_NLINK;
  EXPECT_EQ(stx.stx_mask & kNeeded, kNeeded);
  EXPECT_EQ(stx.stx_mode, st.st_mode);
  EXPECT_EQ(stx.stx_ino, st.st_ino);
  EXPECT_EQ(stx.stx_size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(stx.stx_nlink, st.st_nlink);
  EXPECT_EQ(stx.stx_uid, st.st_uid);
  EXPECT_EQ(makedev(stx.stx_dev_major, stx.stx_dev_minor), st.st_dev);
  EXPECT_EQ(stx.stx_blksize, static_cast<uint32_t>(st.st_blksize));
}

TEST(StatxTest, EmptyPathAndNofollow) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_RDONLY);
  struct statx stx;
  ASSERT_THAT(RawStatx(fd.get(), "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(stx.stx_mode));
  EXPECT_EQ(stx.stx_rdev_major, 1u);
  EXPECT_EQ(stx.stx_rdev_minor, 3u);
  const char* link = FindDirSymlink();
  if (link == nullptr) GTEST_SKIP() << "no symlink to a directory found";
  ASSERT_THAT(RawStatx(AT_FDCWD, link, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx),
              SyscallSucceeds());
  EXPECT_TRUE(S_ISLNK(stx.stx_mode));
  ASSERT_THAT(RawStatx(AT_FDCWD, link, 0, STATX_TYPE, &stx), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(stx.stx_mode));
}

TEST(StatxTest, Errors) {
  struct statx stx;
  EXPECT_THAT(RawStatx(AT_FDCWD, "/does-not-exist", 0, STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(ENOENT));
  // Reserved mask bit, unknown flag, and both sync-type flags at once.
  EXPECT_THAT(RawStatx(AT_FDCWD, "/", 0, Opaque(STATX__RESERVED), &stx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(
      RawStatx(AT_FDCWD, "/", Opaque(0x10000000), STATX_BASIC_STATS, &stx),
      SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawStatx(AT_FDCWD, "/", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                       STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawStatx(-1, "x", 0, STATX_BASIC_STATS, &stx),
              SyscallFailsWithErrno(EBADF));
}

TEST(AccessTest, ExistingPaths) {
  EXPECT_THAT(RawAccess("/", F_OK), SyscallSucceeds());
  EXPECT_THAT(RawAccess("/", R_OK | X_OK), SyscallSucceeds());
  EXPECT_THAT(RawAccess(kRegularFile, R_OK), SyscallSucceeds());
  // /dev/null is 0666 and writable even on a read-only filesystem.
  EXPECT_THAT(RawAccess("/dev/null", R_OK | W_OK), SyscallSucceeds());
}

TEST(AccessTest, ExecuteNeedsAnExecuteBitEvenForRoot) {
  struct stat st;
  ASSERT_THAT(RawStat(kRegularFile, &st), SyscallSucceeds());
  if (st.st_mode & 0111) GTEST_SKIP() << kRegularFile << " is executable";
  EXPECT_THAT(RawAccess(kRegularFile, X_OK), SyscallFailsWithErrno(EACCES));
}

TEST(AccessTest, Errors) {
  const std::string through_file = std::string(kRegularFile) + "/x";
  EXPECT_THAT(RawAccess("/does-not-exist", F_OK),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(RawAccess(through_file.c_str(), F_OK),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(RawAccess("/", Opaque(0x8)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawAccess(BadAddress<char>(), F_OK),
              SyscallFailsWithErrno(EFAULT));
}

TEST(FaccessatTest, RelativeToDirfd) {
  FileDescriptor dir = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(RawFaccessat(dir.get(), "os-release", R_OK), SyscallSucceeds());
  EXPECT_THAT(RawFaccessat(dir.get(), "does-not-exist", F_OK),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(RawFaccessat(AT_FDCWD, "/", X_OK), SyscallSucceeds());
  EXPECT_THAT(RawFaccessat(-1, "os-release", F_OK),
              SyscallFailsWithErrno(EBADF));
}

TEST(Faccessat2Test, Flags) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  EXPECT_THAT(RawFaccessat2(fd.get(), "", R_OK, AT_EMPTY_PATH),
              SyscallSucceeds());
  EXPECT_THAT(RawFaccessat2(AT_FDCWD, kRegularFile, R_OK, AT_EACCESS),
              SyscallSucceeds());
  EXPECT_THAT(RawFaccessat2(AT_FDCWD, "/", F_OK, AT_SYMLINK_NOFOLLOW),
              SyscallSucceeds());
  EXPECT_THAT(RawFaccessat2(AT_FDCWD, "/", F_OK, Opaque(0x1)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawFaccessat2(fd.get(), "", R_OK, 0),
              SyscallFailsWithErrno(ENOENT));
}

}  // namespace
}  // namespace syscall_test
