// open(2) with O_TMPFILE: unnamed files, and linkat(2) giving them a name.
//
// Each test runs in a fresh directory under /tmp (the sandbox's tmpfs),
// /dev/shm (a tmpfs natively too) and /var/tmp (the sandbox's overlay
// root, whose upper layer makes the file; natively the host's root
// filesystem, ext4 here, which has O_TMPFILE too).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return {ErrnoName(errno)};
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

class Tmpfile : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { dir_ = std::make_unique<TempDir>(GetParam()); }
  const std::string& dir() const { return dir_->path(); }
  int OpenTmp(int flags, mode_t mode = 0600) {
    return open(dir().c_str(), O_TMPFILE | flags | O_CLOEXEC, mode);
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_P(Tmpfile, UnnamedFile) {
  const mode_t old = umask(022);
  FileDescriptor fd(OpenTmp(O_RDWR, 0666));
  umask(old);
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_size, 0);
  ASSERT_THAT(write(fd.get(), "hello", 5), SyscallSucceedsWithValue(5));
  char buf[8] = {};
  ASSERT_THAT(pread(fd.get(), buf, sizeof buf, 0), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "hello");
  EXPECT_TRUE(List(dir()).empty());
  // /proc shows it as Linux's d_path does: "#<ino> (deleted)" in the
  // directory.
  char link[4096];
  const ssize_t n = readlink(FdPath(fd.get()).c_str(), link, sizeof link);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(link, n),
            dir() + "/#" + std::to_string(st.st_ino) + " (deleted)");
  // O_TMPFILE keeps its O_DIRECTORY bit in F_GETFL.
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_TMPFILE, O_TMPFILE);
}

TEST_P(Tmpfile, WriteOnly) {
  FileDescriptor fd(OpenTmp(O_WRONLY));
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  char c;
  EXPECT_THAT(read(fd.get(), &c, 1), SyscallFailsWithErrno(EBADF));
}

TEST_P(Tmpfile, Errors) {
  EXPECT_THAT(OpenTmp(O_RDONLY), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(OpenTmp(O_RDWR | O_CREAT), SyscallFailsWithErrno(EINVAL));
  const std::string file = dir() + "/f";
  FileDescriptor f(open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_GE(f.get(), 0);
  EXPECT_THAT(open(file.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(
      open((dir() + "/missing").c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600),
      SyscallFailsWithErrno(ENOENT));
  // Making a file in the directory needs write permission there.
  if (geteuid() != 0) {
    const std::string ro = dir() + "/ro";
    ASSERT_THAT(mkdir(ro.c_str(), 0555), SyscallSucceeds());
    EXPECT_THAT(open(ro.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600),
                SyscallFailsWithErrno(EACCES));
  }
}

TEST_P(Tmpfile, LinkThroughProcFd) {
  FileDescriptor fd(OpenTmp(O_RDWR));
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  ASSERT_THAT(write(fd.get(), "data", 4), SyscallSucceeds());
  const std::string name = dir() + "/named";
  ASSERT_THAT(linkat(AT_FDCWD, FdPath(fd.get()).c_str(), AT_FDCWD,
                     name.c_str(), AT_SYMLINK_FOLLOW),
              SyscallSucceeds());
  struct stat st, named;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 1u);
  ASSERT_THAT(stat(name.c_str(), &named), SyscallSucceeds());
  EXPECT_EQ(named.st_ino, st.st_ino);
  EXPECT_EQ(named.st_size, 4);
  EXPECT_EQ(List(dir()), std::vector<std::string>{"named"});
  // Its first name used up the right to be linked from nothing: once
  // unlinked again it cannot come back (Linux clears I_LINKABLE).
  ASSERT_THAT(unlink(name.c_str()), SyscallSucceeds());
  EXPECT_THAT(linkat(AT_FDCWD, FdPath(fd.get()).c_str(), AT_FDCWD,
                     name.c_str(), AT_SYMLINK_FOLLOW),
              SyscallFailsWithErrno(ENOENT));
}

TEST_P(Tmpfile, LinkEmptyPath) {
  // Without CAP_DAC_READ_SEARCH, Linux before 6.10 (and the sandbox,
  // which says 5.15) finds nothing (ENOENT); 6.10 lets the opener's own
  // credentials through. Only root's answer is the same everywhere.
  if (geteuid() != 0) GTEST_SKIP() << "differs by Linux version";
  FileDescriptor fd(OpenTmp(O_RDWR));
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  const std::string name = dir() + "/named";
  ASSERT_THAT(linkat(fd.get(), "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH),
              SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_P(Tmpfile, ExclusiveCannotBeLinked) {
  FileDescriptor fd(OpenTmp(O_RDWR | O_EXCL));
  ASSERT_GE(fd.get(), 0) << ErrnoName(errno);
  const std::string name = dir() + "/named";
  EXPECT_THAT(linkat(AT_FDCWD, FdPath(fd.get()).c_str(), AT_FDCWD,
                     name.c_str(), AT_SYMLINK_FOLLOW),
              SyscallFailsWithErrno(ENOENT));
  if (geteuid() == 0) {
    EXPECT_THAT(linkat(fd.get(), "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH),
                SyscallFailsWithErrno(ENOENT));
  }
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_TRUE(List(dir()).empty());
}

INSTANTIATE_TEST_SUITE_P(Dirs, Tmpfile,
                         testing::Values("/tmp", "/dev/shm", "/var/tmp"));

TEST(TmpfileUnsupported, Procfs) {
  // procfs makes no unnamed files; its directories are not writable by
  // others, which comes first.
  const int fd = open("/proc", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  EXPECT_THAT(fd, SyscallFailsWithErrno(geteuid() == 0 ? EOPNOTSUPP : EACCES));
  if (fd >= 0) close(fd);
}

}  // namespace
}  // namespace syscall_test
