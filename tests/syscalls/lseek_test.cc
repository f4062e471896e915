// lseek whence modes, offsets past EOF, invalid offsets/whence, SEEK_DATA/
// SEEK_HOLE, and the always-zero offsets of /dev/null and /dev/zero.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

class LseekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contents_ = ReadFileContents(kRegularFile);
    ASSERT_GE(contents_.size(), 16u);
    size_ = static_cast<off_t>(contents_.size());
    fd_ = OpenOrFail(kRegularFile, O_RDONLY);
    ASSERT_GE(fd_.get(), 0);
  }

  std::string contents_;
  off_t size_ = 0;
  FileDescriptor fd_;
};

TEST_F(LseekTest, SetCurAndEnd) {
  const int fd = fd_.get();
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd, 10, SEEK_SET), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(fd, 5, SEEK_CUR), SyscallSucceedsWithValue(15));
  EXPECT_THAT(lseek(fd, -3, SEEK_CUR), SyscallSucceedsWithValue(12));
  EXPECT_THAT(lseek(fd, 0, SEEK_END), SyscallSucceedsWithValue(size_));
  EXPECT_THAT(lseek(fd, -1, SEEK_END), SyscallSucceedsWithValue(size_ - 1));
}

TEST_F(LseekTest, ReadStartsAtNewOffset) {
  char c;
  ASSERT_THAT(lseek(fd_.get(), -1, SEEK_END), SyscallSucceeds());
  ASSERT_THAT(read(fd_.get(), &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, contents_.back());
  ASSERT_THAT(lseek(fd_.get(), 7, SEEK_SET), SyscallSucceeds());
  char buf[5];
  ASSERT_THAT(read(fd_.get(), buf, 5), SyscallSucceedsWithValue(5));
  EXPECT_EQ(std::string(buf, 5), contents_.substr(7, 5));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(12));
}

TEST_F(LseekTest, PastEofIsAllowedAndReadsReturnZero) {
  char buf[8];
  EXPECT_THAT(lseek(fd_.get(), 100, SEEK_END),
              SyscallSucceedsWithValue(size_ + 100));
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_CUR),
              SyscallSucceedsWithValue(size_ + 100));
  const off_t big = off_t{1} << 32;  // Needs a 64-bit offset.
  EXPECT_THAT(lseek(fd_.get(), big, SEEK_SET), SyscallSucceedsWithValue(big));
  EXPECT_THAT(read(fd_.get(), buf, sizeof(buf)), SyscallSucceedsWithValue(0));
}

TEST_F(LseekTest, NegativeResultIsEinvalAndKeepsOffset) {
  const int fd = fd_.get();
  ASSERT_THAT(lseek(fd, 4, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(fd, -1, SEEK_SET), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd, -5, SEEK_CUR), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd, -(size_ + 1), SEEK_END), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd, 0, SEEK_CUR), SyscallSucceedsWithValue(4));
}

TEST_F(LseekTest, UnknownWhenceIsEinval) {
  EXPECT_THAT(lseek(fd_.get(), 0, Opaque(42)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(lseek(fd_.get(), 0, Opaque(-1)), SyscallFailsWithErrno(EINVAL));
}

TEST_F(LseekTest, SeekDataAndHoleOnDenseFile) {
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_DATA), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd_.get(), 3, SEEK_DATA), SyscallSucceedsWithValue(3));
  // A file without holes has only the implicit hole at EOF.
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE), SyscallSucceedsWithValue(size_));
  EXPECT_THAT(lseek(fd_.get(), size_, SEEK_DATA), SyscallFailsWithErrno(ENXIO));
  EXPECT_THAT(lseek(fd_.get(), size_, SEEK_HOLE), SyscallFailsWithErrno(ENXIO));
}

TEST_F(LseekTest, DescriptorsFromSeparateOpensHaveSeparateOffsets) {
  FileDescriptor other = OpenOrFail(kRegularFile, O_RDONLY);
  ASSERT_THAT(lseek(fd_.get(), 9, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(lseek(other.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST(LseekDeviceTest, DevNullAndDevZeroAlwaysReportZero) {
  for (const char* path : {"/dev/null", "/dev/zero"}) {
    SCOPED_TRACE(path);
    FileDescriptor fd = OpenOrFail(path, O_RDONLY);
    EXPECT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceedsWithValue(0));
    EXPECT_THAT(lseek(fd.get(), 100, SEEK_CUR), SyscallSucceedsWithValue(0));
    EXPECT_THAT(lseek(fd.get(), -100, SEEK_END), SyscallSucceedsWithValue(0));
  }
}

TEST(LseekDirTest, RewindDirectory) {
  FileDescriptor fd = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_SET), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
}

TEST(LseekErrorTest, BadFd) {
  EXPECT_THAT(lseek(-1, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
  const int fd = open("/dev/null", O_RDONLY);
  close(fd);
  EXPECT_THAT(lseek(fd, 0, SEEK_SET), SyscallFailsWithErrno(EBADF));
}

}  // namespace
}  // namespace syscall_test
