// The root filesystem as a program reads it (in the sandbox: the overlay
// of the host root): listings without duplicates whose d_ino and d_type
// match lstat, inode numbers stable across stat, fstat and re-listing,
// one st_dev per filesystem, ".." of "/", and write permission refused to
// non-root users. Nothing here writes outside /tmp (the overlay's
// copy-up of /etc is checked by tests/integration/cli_test.cc).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

// Some hosts keep "/" at 0700: then a non-root user reaches nothing in it,
// natively or sandboxed, and there is nothing to compare.
class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/", R_OK) != 0 || access("/usr/bin", R_OK | X_OK) != 0 ||
        access("/etc/os-release", R_OK) != 0) {
      GTEST_SKIP() << "this user cannot read the root filesystem";
    }
  }
};

struct Entry {
  uint64_t ino;
  unsigned char type;
};

// Every entry of `path` through getdents64 with a `buf_size` buffer;
// fails the test on a duplicate name.
std::map<std::string, Entry> List(const std::string& path, size_t buf_size) {
  std::map<std::string, Entry> out;
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path << ": " << ErrnoName(errno);
  if (fd < 0) return out;
  std::vector<char> buf(buf_size);
  for (;;) {
    const long n = syscall(SYS_getdents64, fd, buf.data(), buf.size());
    EXPECT_GE(n, 0) << ErrnoName(errno);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(&buf[off]);
      EXPECT_TRUE(out.emplace(d->d_name, Entry{d->d_ino, d->d_type}).second)
          << "duplicate " << d->d_name << " in " << path;
      off += d->d_reclen;
    }
  }
  close(fd);
  return out;
}

TEST_F(RootfsTest, ListingsHaveNoDuplicates) {
  for (const char* dir : {"/", "/usr", "/usr/bin"}) {
    auto names = List(dir, 4096);
    EXPECT_EQ(names.count("."), 1u) << dir;
    EXPECT_EQ(names.count(".."), 1u) << dir;
    EXPECT_GT(names.size(), 2u) << dir;
  }
}

TEST_F(RootfsTest, ReaddirMatchesLstat) {
  // /usr/bin holds no mount points, so d_ino is the file's own number.
  int checked = 0;
  for (const auto& [name, e] : List("/usr/bin", 32768)) {
    if (name == "..") continue;
    struct stat st;
    ASSERT_THAT(lstat(("/usr/bin/" + name).c_str(), &st), SyscallSucceeds())
        << name;
    EXPECT_EQ(e.ino, st.st_ino) << name;
    if (e.type != DT_UNKNOWN) {
      EXPECT_EQ(e.type, IFTODT(st.st_mode)) << name;
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

TEST_F(RootfsTest, SmallBuffersListTheSame) {
  auto big = List("/usr/bin", 65536);
  auto small = List("/usr/bin", 64);
  ASSERT_EQ(big.size(), small.size());
  for (const auto& [name, e] : big) {
    ASSERT_EQ(small.count(name), 1u) << name;
    EXPECT_EQ(small[name].ino, e.ino) << name;
  }
}

TEST_F(RootfsTest, InodeNumbersAreStable) {
  struct stat a, b, f;
  ASSERT_THAT(stat("/etc/os-release", &a), SyscallSucceeds());
  ASSERT_THAT(stat("/etc/os-release", &b), SyscallSucceeds());
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_dev, b.st_dev);
  const int fd = open("/etc/os-release", O_RDONLY | O_CLOEXEC);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(fstat(fd, &f), SyscallSucceeds());
  close(fd);
  EXPECT_EQ(f.st_ino, a.st_ino);
  EXPECT_EQ(f.st_dev, a.st_dev);
  // Two different files have two numbers.
  struct stat other;
  ASSERT_THAT(stat("/usr/bin", &other), SyscallSucceeds());
  EXPECT_FALSE(other.st_ino == a.st_ino && other.st_dev == a.st_dev);
}

TEST_F(RootfsTest, OneDeviceWithinAFilesystem) {
  struct stat dir, file;
  ASSERT_THAT(lstat("/usr/bin", &dir), SyscallSucceeds());
  ASSERT_THAT(lstat("/usr/bin/env", &file), SyscallSucceeds());
  EXPECT_EQ(dir.st_dev, file.st_dev);
  struct stat dir_fd;
  const int fd = open("/usr/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_THAT(fd, SyscallSucceeds());
  ASSERT_THAT(fstat(fd, &dir_fd), SyscallSucceeds());
  close(fd);
  EXPECT_EQ(dir_fd.st_ino, dir.st_ino);
  EXPECT_EQ(dir_fd.st_dev, dir.st_dev);
}

TEST_F(RootfsTest, DotDotOfRootIsRoot) {
  struct stat root, up, dot;
  ASSERT_THAT(stat("/", &root), SyscallSucceeds());
  ASSERT_THAT(stat("/..", &up), SyscallSucceeds());
  ASSERT_THAT(stat("/usr/..", &dot), SyscallSucceeds());
  EXPECT_EQ(up.st_ino, root.st_ino);
  EXPECT_EQ(dot.st_ino, root.st_ino);
  auto names = List("/", 4096);
  EXPECT_EQ(names["."].ino, root.st_ino);
}

TEST_F(RootfsTest, OthersMayNotWriteRootsFiles) {
  if (geteuid() == 0) GTEST_SKIP() << "root may write them (not tried)";
  // Nothing is written: these opens must fail.
  EXPECT_THAT(open("/etc/os-release", O_WRONLY | O_CLOEXEC),
              SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(open("/etc/runsc-rootfs-test", O_CREAT | O_WRONLY | O_CLOEXEC,
                   0644),
              SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(access("/etc", W_OK), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(mkdir("/usr/runsc-rootfs-test", 0755),
              SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(unlink("/etc/os-release"), SyscallFailsWithErrno(EACCES));
}

TEST_F(RootfsTest, StatfsOfRoot) {
  struct statfs s;
  ASSERT_THAT(statfs("/", &s), SyscallSucceeds());
  EXPECT_GT(s.f_bsize, 0);
  EXPECT_EQ(s.f_namelen, 255);
}

}  // namespace
}  // namespace syscall_test
