// read/write/readv/writev/pread64/pwrite64 on /dev/zero, /dev/null, a regular
// file and a directory, including EBADF/EFAULT/EINVAL/EISDIR error paths.
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

using ::testing::Each;
using ::testing::Eq;

// A descriptor number that is certainly not open (nothing else opens files).
int ClosedFd() {
  const int fd = open("/dev/null", O_RDONLY);
  close(fd);
  return fd;
}

// Maps two pages and makes the second PROT_NONE. Returns the first page.
char* MapPageThenGuard() {
  const size_t page = PageSize();
  void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  char* c = static_cast<char*>(p);
  if (mprotect(c + page, page, PROT_NONE) != 0) return nullptr;
  return c;
}

TEST(ReadTest, DevZeroFillsExactlyCount) {
  FileDescriptor fd = OpenOrFail("/dev/zero", O_RDONLY);
  std::vector<char> buf(128, 'x');
  ASSERT_THAT(read(fd.get(), buf.data(), 64), SyscallSucceedsWithValue(64));
  EXPECT_THAT(std::vector<char>(buf.begin(), buf.begin() + 64), Each(Eq(0)));
  EXPECT_THAT(std::vector<char>(buf.begin() + 64, buf.end()), Each(Eq('x')));
}

TEST(ReadTest, DevNullIsAlwaysEof) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_RDONLY);
  char buf[16];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST(ReadTest, RegularFileWholeContentsMatchSize) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  ASSERT_GT(st.st_size, 0);
  std::vector<char> buf(st.st_size + 100);
  // A single read of a small regular file returns all of it, then EOF.
  EXPECT_THAT(read(fd.get(), buf.data(), buf.size()),
              SyscallSucceedsWithValue(st.st_size));
  EXPECT_THAT(read(fd.get(), buf.data(), buf.size()),
              SyscallSucceedsWithValue(0));
}

TEST(ReadTest, AdvancesFileOffset) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  const std::string all = ReadFileContents(kRegularFile);
  ASSERT_GE(all.size(), 20u);
  char a[10], b[10];
  ASSERT_THAT(read(fd.get(), a, 10), SyscallSucceedsWithValue(10));
  ASSERT_THAT(read(fd.get(), b, 10), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(a, 10), all.substr(0, 10));
  EXPECT_EQ(std::string(b, 10), all.substr(10, 10));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(20));
}

TEST(ReadTest, ZeroLengthReturnsZeroAndKeepsOffset) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  char buf[1];
  EXPECT_THAT(read(fd.get(), buf, 0), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST(ReadTest, BadFd) {
  char buf[1];
  EXPECT_THAT(read(-1, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(read(ClosedFd(), buf, 1), SyscallFailsWithErrno(EBADF));
}

TEST(ReadTest, WriteOnlyFdIsEbadf) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  char buf[1];
  EXPECT_THAT(read(fd.get(), buf, 1), SyscallFailsWithErrno(EBADF));
}

TEST(ReadTest, DirectoryIsEisdir) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  char buf[16];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EISDIR));
}

TEST(ReadTest, UnmappedBufferIsEfault) {
  FileDescriptor zero = OpenOrFail("/dev/zero", O_RDONLY);
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  void* bad = BadAddress();
  EXPECT_THAT(read(zero.get(), bad, 16), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(read(file.get(), bad, 16), SyscallFailsWithErrno(EFAULT));
}

TEST(ReadTest, ProtNoneBufferIsEfault) {
  char* page = MapPageThenGuard();
  ASSERT_NE(page, nullptr);
  char* guard = page + PageSize();
  FileDescriptor zero = OpenOrFail("/dev/zero", O_RDONLY);
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  EXPECT_THAT(read(zero.get(), guard, 16), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(read(file.get(), guard, 16), SyscallFailsWithErrno(EFAULT));
  // A failed read consumes nothing from a regular file.
  EXPECT_THAT(lseek(file.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  munmap(page, 2 * PageSize());
}

TEST(ReadTest, BufferRunningIntoGuardPageIsShortRead) {
  char* page = MapPageThenGuard();
  ASSERT_NE(page, nullptr);
  FileDescriptor zero = OpenOrFail("/dev/zero", O_RDONLY);
  // 128 bytes (a whole number of cache lines) before the guard page.
  char* start = page + PageSize() - 128;
  memset(start, 'x', 128);
  // Bytes up to the fault are transferred and reported.
  EXPECT_THAT(read(zero.get(), start, 256), SyscallSucceedsWithValue(128));
  EXPECT_THAT(std::vector<char>(start, start + 128), Each(Eq(0)));
  munmap(page, 2 * PageSize());
}

TEST(WriteTest, DevNullAndDevZeroConsumeEverything) {
  char buf[100] = {};
  FileDescriptor null_fd = OpenOrFail("/dev/null", O_WRONLY);
  FileDescriptor zero_fd = OpenOrFail("/dev/zero", O_RDWR);
  EXPECT_THAT(write(null_fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(sizeof(buf)));
  EXPECT_THAT(write(zero_fd.get(), buf, sizeof(buf)),
              SyscallSucceedsWithValue(sizeof(buf)));
}

TEST(WriteTest, ZeroLengthReturnsZero) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  char buf[1] = {};
  EXPECT_THAT(write(fd.get(), buf, 0), SyscallSucceedsWithValue(0));
}

// /dev/null never copies from the buffer, so Linux accepts a bogus pointer.
TEST(WriteTest, DevNullDoesNotTouchBuffer) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  EXPECT_THAT(write(fd.get(), BadAddress(), 10), SyscallSucceedsWithValue(10));
}

TEST(WriteTest, ReadOnlyFdIsEbadf) {
  char buf[4] = {'a', 'b', 'c', 'd'};
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  FileDescriptor null_fd = OpenOrFail("/dev/null", O_RDONLY);
  FileDescriptor dir = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(write(file.get(), buf, 4), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(null_fd.get(), buf, 4), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(dir.get(), buf, 4), SyscallFailsWithErrno(EBADF));
}

TEST(WriteTest, BadFd) {
  char buf[1] = {};
  EXPECT_THAT(write(-1, buf, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(write(ClosedFd(), buf, 1), SyscallFailsWithErrno(EBADF));
}

TEST(ReadvTest, ScattersInOrderAcrossIovecs) {
  const std::string all = ReadFileContents(kRegularFile);
  ASSERT_GE(all.size(), 8u);
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  char a[3], b[1], c[5];
  struct iovec iov[3] = {{a, sizeof(a)}, {b, 0}, {c, sizeof(c)}};
  ASSERT_THAT(readv(fd.get(), iov, 3), SyscallSucceedsWithValue(8));
  EXPECT_EQ(std::string(a, 3) + std::string(c, 5), all.substr(0, 8));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(8));
}

TEST(ReadvTest, ZeroIovecsReturnsZero) {
  FileDescriptor fd = OpenOrFail("/dev/zero", O_RDONLY);
  struct iovec iov = {nullptr, 0};
  EXPECT_THAT(readv(fd.get(), &iov, 0), SyscallSucceedsWithValue(0));
}

TEST(ReadvTest, IovMaxIsAcceptedAndIovMaxPlusOneIsEinval) {
  FileDescriptor fd = OpenOrFail("/dev/zero", O_RDONLY);
  std::vector<char> buf(IOV_MAX + 1, 'x');
  std::vector<struct iovec> iov(IOV_MAX + 1);
  for (size_t i = 0; i < iov.size(); ++i) iov[i] = {&buf[i], 1};
  EXPECT_THAT(readv(fd.get(), iov.data(), IOV_MAX),
              SyscallSucceedsWithValue(IOV_MAX));
  EXPECT_THAT(readv(fd.get(), iov.data(), IOV_MAX + 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readv(fd.get(), iov.data(), Opaque(-1)),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ReadvTest, BadIovecArrayIsEfault) {
  FileDescriptor fd = OpenOrFail("/dev/zero", O_RDONLY);
  EXPECT_THAT(readv(fd.get(), BadAddress<struct iovec>(), 1),
              SyscallFailsWithErrno(EFAULT));
}

TEST(WritevTest, DevNullReturnsSumOfLengths) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  char a[7] = {}, b[13] = {};
  struct iovec iov[3] = {{a, sizeof(a)}, {nullptr, 0}, {b, sizeof(b)}};
  EXPECT_THAT(writev(fd.get(), iov, 3), SyscallSucceedsWithValue(20));
}

TEST(WritevTest, NegativeIovLenIsEinval) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  char a[1] = {};
  struct iovec iov = {a, static_cast<size_t>(SSIZE_MAX) + 1};
  EXPECT_THAT(writev(fd.get(), &iov, 1), SyscallFailsWithErrno(EINVAL));
}

TEST(WritevTest, ReadOnlyFdIsEbadf) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  char a[1] = {};
  struct iovec iov = {a, 1};
  EXPECT_THAT(writev(fd.get(), &iov, 1), SyscallFailsWithErrno(EBADF));
}

TEST(PreadTest, MatchesReadAfterLseekAndKeepsOffset) {
  const std::string all = ReadFileContents(kRegularFile);
  ASSERT_GE(all.size(), 32u);
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  for (off_t off :
       {off_t{0}, off_t{1}, off_t(all.size() / 2), off_t(all.size() - 1)}) {
    SCOPED_TRACE(off);
    const size_t want = std::min<size_t>(16, all.size() - off);
    char p[16], r[16];
    ASSERT_THAT(pread(fd.get(), p, sizeof(p), off),
                SyscallSucceedsWithValue(want));
    ASSERT_THAT(lseek(fd.get(), off, SEEK_SET), SyscallSucceedsWithValue(off));
    ASSERT_THAT(read(fd.get(), r, sizeof(r)), SyscallSucceedsWithValue(want));
    EXPECT_EQ(std::string(p, want), std::string(r, want));
    EXPECT_EQ(std::string(p, want), all.substr(off, want));
    // pread neither used nor moved the offset read() advanced.
    EXPECT_THAT(pread(fd.get(), p, 1, 0), SyscallSucceedsWithValue(1));
    EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR),
                SyscallSucceedsWithValue(off + want));
  }
}

TEST(PreadTest, AtOrPastEofReturnsZero) {
  FileDescriptor fd = OpenOrFail(kRegularFile, O_RDONLY);
  struct stat st;
  ASSERT_THAT(fstat(fd.get(), &st), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(pread(fd.get(), buf, sizeof(buf), st.st_size),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(pread(fd.get(), buf, sizeof(buf), st.st_size + 4096),
              SyscallSucceedsWithValue(0));
}

TEST(PreadTest, Errors) {
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  FileDescriptor dir = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  FileDescriptor wronly = OpenOrFail("/dev/null", O_WRONLY);
  char buf[8];
  EXPECT_THAT(pread(file.get(), buf, 8, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pread(dir.get(), buf, 8, 0), SyscallFailsWithErrno(EISDIR));
  EXPECT_THAT(pread(wronly.get(), buf, 8, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pread(ClosedFd(), buf, 8, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pread(file.get(), BadAddress(), 8, 0),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PwriteTest, DevNullAcceptsAnyOffset) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_WRONLY);
  char buf[10] = {};
  EXPECT_THAT(pwrite(fd.get(), buf, sizeof(buf), 0),
              SyscallSucceedsWithValue(10));
  EXPECT_THAT(pwrite(fd.get(), buf, sizeof(buf), 1 << 20),
              SyscallSucceedsWithValue(10));
}

TEST(PwriteTest, Errors) {
  FileDescriptor null_fd = OpenOrFail("/dev/null", O_WRONLY);
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  char buf[4] = {};
  EXPECT_THAT(pwrite(null_fd.get(), buf, 4, -1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(pwrite(file.get(), buf, 4, 0), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(pwrite(-1, buf, 4, 0), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace syscall_test
