// sendfile(2) and copy_file_range(2): data, offsets (given or the files'
// own), EOF, pipes as the destination, and the errors in Linux's order.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>

#include <string>

#include "splice_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class SendfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeFile(dir_ / "in", "0123456789");
    MakeFile(dir_ / "out", "..........");
    in_ = OpenOrFail((dir_ / "in").c_str(), O_RDONLY);
    out_ = OpenOrFail((dir_ / "out").c_str(), O_RDWR);
  }
  std::string Out() { return ReadFileContents((dir_ / "out").c_str()); }

  TempDir dir_;
  FileDescriptor in_, out_;
};

TEST_F(SendfileTest, WithAnOffset) {
  off_t off = 3;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 4),
              SyscallSucceedsWithValue(4));
  EXPECT_EQ(off, 7);
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(4));
  EXPECT_EQ(Out(), "3456......");
}

TEST_F(SendfileTest, FileOffsetsMoveAndEofShortens) {
  ASSERT_THAT(lseek(in_.get(), 6, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(lseek(out_.get(), 2, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(sendfile(out_.get(), in_.get(), nullptr, 100),
              SyscallSucceedsWithValue(4));
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(6));
  EXPECT_THAT(sendfile(out_.get(), in_.get(), nullptr, 100),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Out(), "..6789....");
}

TEST_F(SendfileTest, LargeFileWhole) {
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  MakeFile(dir_ / "big", big);
  FileDescriptor src = OpenOrFail((dir_ / "big").c_str(), O_RDONLY);
  FileDescriptor dst(open((dir_ / "copy").c_str(), O_CREAT | O_RDWR, 0600));
  ASSERT_GE(dst.get(), 0);
  size_t done = 0;
  while (done < big.size()) {
    ssize_t n = sendfile(dst.get(), src.get(), nullptr, big.size() - done);
    ASSERT_GT(n, 0) << ErrnoName(errno);
    done += n;
  }
  EXPECT_EQ(ReadFileContents((dir_ / "copy").c_str()), big);
}

TEST_F(SendfileTest, ToAPipe) {
  Pipe p = MakePipe();
  off_t off = 1;
  EXPECT_THAT(sendfile(p.w.get(), in_.get(), &off, 3),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(ReadAll(p.r.get(), 3), "123");
}

TEST_F(SendfileTest, Errors) {
  Pipe p = MakePipe();
  FileDescriptor wronly = OpenOrFail((dir_ / "in").c_str(), O_WRONLY);
  FileDescriptor append = OpenOrFail((dir_ / "out").c_str(), O_WRONLY | O_APPEND);
  FileDescriptor dir = OpenOrFail(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  off_t off = 0;
  EXPECT_THAT(sendfile(out_.get(), -1, nullptr, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(out_.get(), wronly.get(), nullptr, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(-1, in_.get(), nullptr, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(sendfile(in_.get(), in_.get(), nullptr, 1),
              SyscallFailsWithErrno(EBADF));
  off = -1;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sendfile(out_.get(), in_.get(), reinterpret_cast<off_t*>(8), 1),
              SyscallFailsWithErrno(EFAULT));
  // An offset needs a seekable input.
  off = 0;
  ASSERT_THAT(write(p.w.get(), "x", 1), SyscallSucceeds());
  EXPECT_THAT(sendfile(out_.get(), p.r.get(), &off, 1),
              SyscallFailsWithErrno(ESPIPE));
  EXPECT_THAT(sendfile(append.get(), in_.get(), nullptr, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sendfile(out_.get(), dir.get(), nullptr, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Out(), "..........");
}

// A pipe cannot be read by sendfile (Linux's pipes have no splice_read).
TEST_F(SendfileTest, FromAPipeIsEinval) {
  Pipe p = MakePipe(), q = MakePipe();
  ASSERT_THAT(write(p.w.get(), "pipe", 4), SyscallSucceeds());
  EXPECT_THAT(sendfile(out_.get(), p.r.get(), nullptr, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sendfile(q.w.get(), p.r.get(), nullptr, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(ReadAll(p.r.get(), 4), "pipe");
}

TEST_F(SendfileTest, ZeroCountAndDevices) {
  off_t off = 0;
  EXPECT_THAT(sendfile(out_.get(), in_.get(), &off, 0), SyscallSucceedsWithValue(0));
  FileDescriptor null = OpenOrFail("/dev/null", O_WRONLY);
  EXPECT_THAT(sendfile(null.get(), in_.get(), &off, 3), SyscallSucceedsWithValue(3));
  FileDescriptor zero = OpenOrFail("/dev/zero", O_RDONLY);
  EXPECT_THAT(sendfile(out_.get(), zero.get(), nullptr, 3),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(Out(), std::string(3, '\0') + ".......");
}

ssize_t CopyFileRange(int in, loff_t* off_in, int out, loff_t* off_out,
                      size_t len, unsigned flags) {
  return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}

TEST_F(SendfileTest, CopyFileRangeWithOffsets) {
  loff_t in_off = 2, out_off = 5;
  EXPECT_THAT(CopyFileRange(in_.get(), &in_off, out_.get(), &out_off, 3, 0),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(in_off, 5);
  EXPECT_EQ(out_off, 8);
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(0));
  EXPECT_EQ(Out(), ".....234..");
}

TEST_F(SendfileTest, CopyFileRangeFileOffsetsAndEof) {
  ASSERT_THAT(lseek(in_.get(), 8, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(lseek(out_.get(), 9, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, out_.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(2));
  EXPECT_THAT(lseek(in_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(10));
  EXPECT_THAT(lseek(out_.get(), 0, SEEK_CUR), SyscallSucceedsWithValue(11));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, out_.get(), nullptr, 10, 0),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(Out(), ".........89");
}

TEST_F(SendfileTest, CopyFileRangeWithinOneFile) {
  loff_t from = 0, to = 5;
  EXPECT_THAT(CopyFileRange(in_.get(), &from, out_.get(), &to, 0, 0),
              SyscallSucceedsWithValue(0));
  FileDescriptor rw = OpenOrFail((dir_ / "in").c_str(), O_RDWR);
  EXPECT_THAT(CopyFileRange(rw.get(), &from, rw.get(), &to, 5, 0),
              SyscallSucceedsWithValue(5));
  EXPECT_EQ(ReadFileContents((dir_ / "in").c_str()), "0123401234");
  from = 0;
  to = 3;
  EXPECT_THAT(CopyFileRange(rw.get(), &from, rw.get(), &to, 5, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(SendfileTest, CopyFileRangeErrors) {
  Pipe p = MakePipe();
  FileDescriptor wronly = OpenOrFail((dir_ / "in").c_str(), O_WRONLY);
  FileDescriptor append = OpenOrFail((dir_ / "out").c_str(), O_WRONLY | O_APPEND);
  FileDescriptor dir = OpenOrFail(dir_.path().c_str(), O_RDONLY | O_DIRECTORY);
  loff_t off = 0;
  EXPECT_THAT(CopyFileRange(-1, nullptr, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, -1, nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, out_.get(), nullptr, 1, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(CopyFileRange(in_.get(), reinterpret_cast<loff_t*>(8),
                            out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(CopyFileRange(dir.get(), nullptr, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EISDIR));
  // The type is checked before the offset.
  off = -1;
  EXPECT_THAT(CopyFileRange(in_.get(), &off, dir.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EISDIR));
  off = 0;
  EXPECT_THAT(CopyFileRange(p.r.get(), nullptr, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, p.w.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(CopyFileRange(wronly.get(), nullptr, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, in_.get(), &off, 1, 0),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, append.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EBADF));
  // A negative offset wraps with the length (EOVERFLOW), or is EINVAL.
  off = -1;
  EXPECT_THAT(CopyFileRange(in_.get(), &off, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EOVERFLOW));
  off = -100;
  EXPECT_THAT(CopyFileRange(in_.get(), &off, out_.get(), nullptr, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(CopyFileRange(in_.get(), nullptr, out_.get(), &off, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Out(), "..........");
}

}  // namespace
}  // namespace syscall_test
