// fallocate modes on tmpfs (/dev/shm, a tmpfs natively too): 0 and
// FALLOC_FL_KEEP_SIZE allocate, PUNCH_HOLE|KEEP_SIZE frees (blocks drop,
// the range reads zero, SEEK_HOLE finds it), the modes tmpfs refuses
// (EOPNOTSUPP), the argument checks in Linux's order, and seals.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr off_t kPage = 4096;

class FallocateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = FileDescriptor(
        open((dir_ / "f").c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644));
    ASSERT_GE(fd_.get(), 0) << ErrnoName(errno);
  }
  struct stat Fstat() {
    struct stat st{};
    EXPECT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
    return st;
  }
  void Fill(off_t len, char c) {
    std::string data(len, c);
    ASSERT_THAT(pwrite(fd_.get(), data.data(), data.size(), 0),
                SyscallSucceedsWithValue(len));
  }
  std::string Read(off_t off, size_t len) {
    std::string out(len, '?');
    EXPECT_THAT(pread(fd_.get(), out.data(), len, off),
                SyscallSucceedsWithValue(static_cast<int64_t>(len)));
    return out;
  }

  TempDir dir_{"/dev/shm"};
  FileDescriptor fd_;
};

TEST_F(FallocateTest, KeepSizeAllocatesBeyondTheEnd) {
  ASSERT_THAT(fallocate(fd_.get(), 0, 0, 2 * kPage), SyscallSucceeds());
  EXPECT_EQ(Fstat().st_size, 2 * kPage);
  EXPECT_EQ(Fstat().st_blocks, 2 * kPage / 512);
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, 0, 4 * kPage),
              SyscallSucceeds());
  EXPECT_EQ(Fstat().st_size, 2 * kPage);  // unchanged
  EXPECT_EQ(Fstat().st_blocks, 4 * kPage / 512);
  // Growing the file later shows the allocated pages as zeros.
  ASSERT_THAT(ftruncate(fd_.get(), 3 * kPage), SyscallSucceeds());
  EXPECT_EQ(Read(2 * kPage, 16), std::string(16, '\0'));
}

TEST_F(FallocateTest, PunchHoleFreesPagesAndReadsZero) {
  Fill(4 * kPage, 'a');
  EXPECT_EQ(Fstat().st_blocks, 4 * kPage / 512);
  // The second and third pages, plus 100 bytes of the first and fourth.
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        kPage - 100, 2 * kPage + 200),
              SyscallSucceeds());
  EXPECT_EQ(Fstat().st_size, 4 * kPage);
  EXPECT_EQ(Fstat().st_blocks, 2 * kPage / 512);  // two pages freed
  EXPECT_EQ(Read(0, kPage - 100), std::string(kPage - 100, 'a'));
  EXPECT_EQ(Read(kPage - 100, 2 * kPage + 200),
            std::string(2 * kPage + 200, '\0'));
  EXPECT_EQ(Read(3 * kPage + 100, kPage - 100), std::string(kPage - 100, 'a'));
  EXPECT_THAT(lseek(fd_.get(), 0, SEEK_HOLE),
              SyscallSucceedsWithValue(kPage));
  EXPECT_THAT(lseek(fd_.get(), kPage, SEEK_DATA),
              SyscallSucceedsWithValue(3 * kPage));
}

TEST_F(FallocateTest, PunchHoleInsideOnePageAndPastTheEnd) {
  Fill(kPage, 'b');
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        10, 20),
              SyscallSucceeds());
  EXPECT_EQ(Read(0, 40), std::string(10, 'b') + std::string(20, '\0') +
                             std::string(10, 'b'));
  EXPECT_EQ(Fstat().st_blocks, kPage / 512);
  // Far past the end: nothing to free, the size stays.
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, 1 << 20),
              SyscallSucceeds());
  EXPECT_EQ(Fstat().st_size, kPage);
  EXPECT_EQ(Fstat().st_blocks, 0);
  EXPECT_EQ(Read(0, 16), std::string(16, '\0'));
}

TEST_F(FallocateTest, PunchHoleMovesMtime) {
  Fill(kPage, 'c');
  struct timespec old_times[2] = {{1, 0}, {1, 0}};
  ASSERT_THAT(futimens(fd_.get(), old_times), SyscallSucceeds());
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, kPage),
              SyscallSucceeds());
  EXPECT_GT(Fstat().st_mtime, 1);
  EXPECT_GT(Fstat().st_ctime, 1);
}

TEST_F(FallocateTest, ModesTmpfsRefuses) {
  Fill(4 * kPage, 'd');
  for (int mode :
       {FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
        FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_COLLAPSE_RANGE,
        FALLOC_FL_INSERT_RANGE, FALLOC_FL_UNSHARE_RANGE,
        FALLOC_FL_NO_HIDE_STALE,
        FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE | FALLOC_FL_NO_HIDE_STALE,
        FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
        FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0x100, 0x1000}) {
    SCOPED_TRACE(mode);
    EXPECT_THAT(fallocate(fd_.get(), mode, 0, kPage),
                SyscallFailsWithErrno(EOPNOTSUPP));
  }
  EXPECT_EQ(Fstat().st_size, 4 * kPage);
  EXPECT_EQ(Read(0, 4), "dddd");
}

TEST_F(FallocateTest, ErrorOrder) {
  // EINVAL for the range first, then the mode, then the access mode.
  EXPECT_THAT(fallocate(fd_.get(), 0x1000, 0, 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        -1, 10),
              SyscallFailsWithErrno(EINVAL));
  FileDescriptor ro(open((dir_ / "f").c_str(), O_RDONLY));
  ASSERT_GE(ro.get(), 0);
  EXPECT_THAT(fallocate(ro.get(), 0x1000, 0, 10),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(fallocate(ro.get(), FALLOC_FL_PUNCH_HOLE, 0, 10),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(fallocate(ro.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, 10),
              SyscallFailsWithErrno(EBADF));
  // Then the file type, then the size limit.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  FileDescriptor r(fds[0]), w(fds[1]);
  EXPECT_THAT(fallocate(w.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, 10),
              SyscallFailsWithErrno(ESPIPE));
  FileDescriptor null(open("/dev/null", O_RDWR));
  ASSERT_GE(null.get(), 0);
  EXPECT_THAT(fallocate(null.get(), FALLOC_FL_KEEP_SIZE, 0, 10),
              SyscallFailsWithErrno(ENODEV));
  EXPECT_THAT(fallocate(null.get(), FALLOC_FL_PUNCH_HOLE, 0, 10),
              SyscallFailsWithErrno(EOPNOTSUPP));
  EXPECT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0x7fffffffffffffffL, 10),
              SyscallFailsWithErrno(EFBIG));
  EXPECT_THAT(fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, 0x7fffffffffffffffL,
                        10),
              SyscallFailsWithErrno(EFBIG));
}

TEST(FallocateSeals, WriteSealForbidsPunchGrowSealForbidsKeepSize) {
  FileDescriptor fd(static_cast<int>(
      syscall(SYS_memfd_create, "falloc", MFD_ALLOW_SEALING)));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(ftruncate(fd.get(), 2 * kPage), SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW), SyscallSucceeds());
  // KEEP_SIZE past the end still counts as growing for the seal.
  EXPECT_THAT(fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, 4 * kPage),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, 2 * kPage),
              SyscallSucceeds());
  EXPECT_THAT(fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, kPage),
              SyscallSucceeds());
  ASSERT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE), SyscallSucceeds());
  EXPECT_THAT(fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        0, kPage),
              SyscallFailsWithErrno(EPERM));
  // Allocating within the size changes no data: allowed.
  EXPECT_THAT(fallocate(fd.get(), 0, 0, kPage), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
