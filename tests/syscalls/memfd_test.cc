// memfd_create(2) and file seals (F_ADD_SEALS/F_GET_SEALS): the file, its
// name in /proc/self/fd, flags, and what each seal refuses.
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

// Linux 6.3's, newer than glibc 2.36's headers.
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif

constexpr int kLargefile = 0100000;  // the kernel's O_LARGEFILE (glibc's is 0)

int MemfdCreate(const char* name, unsigned flags) {
  return static_cast<int>(syscall(SYS_memfd_create, name, flags));
}

FileDescriptor Memfd(unsigned flags = 0, const char* name = "test") {
  const int fd = MemfdCreate(name, flags);
  EXPECT_GE(fd, 0) << ErrnoName(errno);
  return FileDescriptor(fd);
}

std::string FdLink(int fd) {
  char buf[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  return n < 0 ? "" : std::string(buf, n);
}

TEST(MemfdTest, AnUnlinkedRegularFile) {
  FileDescriptor fd = Memfd();
  struct stat st {};
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(FdLink(fd.get()), "/memfd:test (deleted)");
  EXPECT_THAT(fcntl(fd.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR | kLargefile));
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(0));
  FileDescriptor other = Memfd();
  struct stat st2 {};
  ASSERT_THAT(fstat(other.get(), &st2), SyscallSucceeds());
  EXPECT_NE(st.st_ino, st2.st_ino);
}

TEST(MemfdTest, DataSizeAndMappings) {
  FileDescriptor fd = Memfd(MFD_CLOEXEC);
  EXPECT_THAT(fcntl(fd.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  ASSERT_THAT(write(fd.get(), "hello", 5), SyscallSucceedsWithValue(5));
  ASSERT_THAT(ftruncate(fd.get(), 8192), SyscallSucceeds());
  char buf[8] = {};
  EXPECT_THAT(pread(fd.get(), buf, 5, 0), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), "hello");
  void* p = mmap(nullptr, 8192, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(std::string(static_cast<char*>(p), 5), "hello");
  munmap(p, 8192);
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_END), SyscallSucceedsWithValue(8192));
}

TEST(MemfdTest, Errors) {
  EXPECT_THAT(MemfdCreate("x", 0x100), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(MemfdCreate("x", MFD_EXEC | MFD_NOEXEC_SEAL),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(MemfdCreate(reinterpret_cast<const char*>(8), 0),
              SyscallFailsWithErrno(EFAULT));
  // NAME_MAX minus "memfd:".
  std::string name(249, 'n');
  FileDescriptor ok(MemfdCreate(name.c_str(), 0));
  EXPECT_GE(ok.get(), 0) << ErrnoName(errno);
  name += 'n';
  EXPECT_THAT(MemfdCreate(name.c_str(), 0), SyscallFailsWithErrno(EINVAL));
  FileDescriptor empty(MemfdCreate("", 0));
  EXPECT_GE(empty.get(), 0);
  EXPECT_EQ(FdLink(empty.get()), "/memfd: (deleted)");
}

TEST(MemfdTest, WithoutAllowSealingOnlySealSeal) {
  FileDescriptor fd = Memfd();
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(F_SEAL_SEAL));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EPERM));
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor r(p[0]), w(p[1]);
  EXPECT_THAT(fcntl(r.get(), F_GET_SEALS), SyscallFailsWithErrno(EINVAL));
  // Not writable: EPERM before anything else.
  EXPECT_THAT(fcntl(r.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(fcntl(w.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EINVAL));
}

TEST(MemfdTest, AddAndGetSeals) {
  FileDescriptor fd = Memfd(MFD_ALLOW_SEALING);
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, 0x1000), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS),
              SyscallSucceedsWithValue(F_SEAL_SHRINK | F_SEAL_GROW));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, 0), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EPERM));
  // Seals belong to the file: a dup sees them.
  FileDescriptor dup(::dup(fd.get()));
  EXPECT_THAT(fcntl(dup.get(), F_GET_SEALS),
              SyscallSucceedsWithValue(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
}

TEST(MemfdTest, ShrinkAndGrowSeals) {
  FileDescriptor fd = Memfd(MFD_ALLOW_SEALING);
  ASSERT_THAT(ftruncate(fd.get(), 4096 + 10), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), SyscallSucceeds());
  EXPECT_THAT(ftruncate(fd.get(), 100), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(ftruncate(fd.get(), 8192), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallSucceeds());
  EXPECT_THAT(ftruncate(fd.get(), 8193), SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(ftruncate(fd.get(), 8192), SyscallSucceeds());
  EXPECT_THAT(pwrite(fd.get(), "ab", 2, 8190), SyscallSucceedsWithValue(2));
  // A write that would grow the file stops at its size; one that starts
  // there is refused.
  EXPECT_THAT(pwrite(fd.get(), "ab", 2, 8191), SyscallSucceedsWithValue(1));
  EXPECT_THAT(pwrite(fd.get(), "ab", 2, 8192), SyscallFailsWithErrno(EPERM));
  std::string two_pages(8192, 'x');
  EXPECT_THAT(pwrite(fd.get(), two_pages.data(), two_pages.size(), 100),
              SyscallSucceedsWithValue(8192 - 100));
  EXPECT_THAT(fallocate(fd.get(), 0, 0, 8192), SyscallSucceeds());
  EXPECT_THAT(fallocate(fd.get(), 0, 0, 8193), SyscallFailsWithErrno(EPERM));
  struct stat st {};
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 8192);
}

TEST(MemfdTest, WriteSeals) {
  for (int seal : {F_SEAL_WRITE, F_SEAL_FUTURE_WRITE}) {
    FileDescriptor fd = Memfd(MFD_ALLOW_SEALING);
    ASSERT_THAT(ftruncate(fd.get(), 4096), SyscallSucceeds());
    ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, seal), SyscallSucceeds());
    EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(EPERM));
    EXPECT_THAT(pwrite(fd.get(), "x", 1, 0), SyscallFailsWithErrno(EPERM));
    EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0),
              MAP_FAILED);
    EXPECT_EQ(errno, EPERM);
    void* ro = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd.get(), 0);
    EXPECT_NE(ro, MAP_FAILED);
    if (ro != MAP_FAILED) munmap(ro, 4096);
    void* priv = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
    EXPECT_NE(priv, MAP_FAILED);
    if (priv != MAP_FAILED) munmap(priv, 4096);
    // Truncation is the other seals' business.
    EXPECT_THAT(ftruncate(fd.get(), 100), SyscallSucceeds());
  }
}

TEST(MemfdTest, NoexecSeal) {
  FileDescriptor fd = Memfd(MFD_NOEXEC_SEAL);
  struct stat st {};
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  // MFD_NOEXEC_SEAL allows sealing and seals exec.
  EXPECT_THAT(fcntl(fd.get(), F_GET_SEALS), SyscallSucceedsWithValue(F_SEAL_EXEC));
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
