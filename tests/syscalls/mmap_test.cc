// mmap/munmap/mprotect/mremap/madvise: anonymous and private file mappings,
// MAP_FIXED(_NOREPLACE), resizing, zeroing, and argument errors. No test
// touches an inaccessible page (signal delivery is not required).
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

const size_t kPage = PageSize();

bool AllEqual(const char* p, size_t n, char c) {
  return std::all_of(p, p + n, [c](char x) { return x == c; });
}

char* MapAnon(size_t len, int prot = PROT_READ | PROT_WRITE, int extra = 0) {
  void* p =
      mmap(nullptr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
  EXPECT_NE(p, MAP_FAILED) << ErrnoName(errno);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

TEST(MmapAnonTest, PrivateMappingIsZeroedAndWritable) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPage, 0u);
  EXPECT_TRUE(AllEqual(p, 2 * kPage, 0));
  memset(p, 'a', 2 * kPage);
  EXPECT_TRUE(AllEqual(p, 2 * kPage, 'a'));
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MmapAnonTest, ProtNoneCanBeMadeAccessible) {
  char* p = MapAnon(kPage, PROT_NONE);
  ASSERT_NE(p, nullptr);
  ASSERT_THAT(mprotect(p, kPage, PROT_READ | PROT_WRITE), SyscallSucceeds());
  p[0] = 'x';
  EXPECT_EQ(p[0], 'x');
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

TEST(MmapAnonTest, MapFixedReplacesExistingPages) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'a', 3 * kPage);
  void* mid = mmap(p + kPage, kPage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(mid, p + kPage);
  EXPECT_TRUE(AllEqual(p, kPage, 'a'));
  EXPECT_TRUE(AllEqual(p + kPage, kPage, 0));
  EXPECT_TRUE(AllEqual(p + 2 * kPage, kPage, 'a'));
  munmap(p, 3 * kPage);
}

TEST(MmapAnonTest, UnmapMiddleThenRefillWithFixedNoreplace) {
  char* p = MapAnon(3 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'a', 3 * kPage);
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(mmap(p, kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              SyscallFailsWithErrno(EEXIST));
  void* hole = mmap(p + kPage, kPage, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(hole, p + kPage);
  EXPECT_TRUE(AllEqual(p + kPage, kPage, 0));
  EXPECT_TRUE(AllEqual(p + 2 * kPage, kPage, 'a'));
  munmap(p, 3 * kPage);
}

TEST(MmapAnonTest, LargeNoreserveReservationTouchingFewPages) {
  const size_t len = size_t{1} << 30;
  char* p = MapAnon(len, PROT_READ | PROT_WRITE, MAP_NORESERVE);
  ASSERT_NE(p, nullptr);
  for (size_t off : {size_t{0}, len / 2, len - kPage}) {
    EXPECT_EQ(p[off], 0);
    p[off] = 'x';
    EXPECT_EQ(p[off], 'x');
  }
  EXPECT_THAT(munmap(p, len), SyscallSucceeds());
}

TEST(MunmapTest, Errors) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(munmap(p + 1, kPage), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(p, 0), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
  // Unmapping a range with nothing in it is not an error.
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MprotectTest, ChangesAndErrors) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  p[0] = 'a';
  ASSERT_THAT(mprotect(p, kPage, PROT_READ), SyscallSucceeds());
  EXPECT_EQ(p[0], 'a');
  ASSERT_THAT(mprotect(p, kPage, PROT_READ | PROT_WRITE), SyscallSucceeds());
  p[0] = 'b';
  EXPECT_EQ(p[0], 'b');
  EXPECT_THAT(mprotect(p + 1, kPage, PROT_READ), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(p, kPage, Opaque(0x100)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(p, 0, PROT_READ), SyscallSucceeds());
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  // Part of the range is unmapped.
  EXPECT_THAT(mprotect(p, 2 * kPage, PROT_READ), SyscallFailsWithErrno(ENOMEM));
  munmap(p, kPage);
}

TEST(MremapTest, GrowWithMaymoveKeepsContents) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'q', kPage);
  void* r = mremap(p, kPage, 4 * kPage, MREMAP_MAYMOVE);
  ASSERT_THAT(r, SyscallSucceeds());
  char* q = static_cast<char*>(r);
  EXPECT_TRUE(AllEqual(q, kPage, 'q'));
  EXPECT_TRUE(AllEqual(q + kPage, 3 * kPage, 0));
  munmap(q, 4 * kPage);
}

TEST(MremapTest, GrowInPlaceOnlyIntoFreeSpace) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  // Different protections split the second page into its own mapping.
  ASSERT_THAT(mprotect(p + kPage, kPage, PROT_READ), SyscallSucceeds());
  EXPECT_THAT(mremap(p, kPage, 2 * kPage, 0), SyscallFailsWithErrno(ENOMEM));
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(mremap(p, kPage, 2 * kPage, 0),
              SyscallSucceedsWithValue(reinterpret_cast<intptr_t>(p)));
  munmap(p, 2 * kPage);
}

TEST(MremapTest, ShrinkInPlaceUnmapsTail) {
  char* p = MapAnon(4 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'z', 4 * kPage);
  EXPECT_THAT(mremap(p, 4 * kPage, kPage, 0),
              SyscallSucceedsWithValue(reinterpret_cast<intptr_t>(p)));
  EXPECT_TRUE(AllEqual(p, kPage, 'z'));
  EXPECT_TRUE(IsUnmapped(p + kPage, 3 * kPage));
  munmap(p, kPage);
}

TEST(MremapTest, FixedMovesContentsAndUnmapsSource) {
  char* src = MapAnon(kPage);
  char* dst = MapAnon(2 * kPage);
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dst, nullptr);
  memset(src, 's', kPage);
  EXPECT_THAT(mremap(src, kPage, kPage, MREMAP_FIXED, dst),
              SyscallFailsWithErrno(EINVAL));  // FIXED needs MAYMOVE.
  void* r = mremap(src, kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  ASSERT_EQ(r, dst);
  EXPECT_TRUE(AllEqual(dst, kPage, 's'));
  EXPECT_TRUE(AllEqual(dst + kPage, kPage, 0));
  EXPECT_TRUE(IsUnmapped(src, kPage));
  munmap(dst, 2 * kPage);
}

TEST(MremapTest, Errors) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(mremap(p + 1, kPage, kPage, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, kPage, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, kPage, kPage, Opaque(0x100)),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(munmap(p, kPage), SyscallSucceeds());
  EXPECT_THAT(mremap(p, kPage, 2 * kPage, MREMAP_MAYMOVE),
              SyscallFailsWithErrno(EFAULT));
}

TEST(MadviseTest, DontneedZeroesPrivateAnonymous) {
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  memset(p, 'x', 2 * kPage);
  ASSERT_THAT(madvise(p, kPage, MADV_DONTNEED), SyscallSucceeds());
  EXPECT_TRUE(AllEqual(p, kPage, 0));
  EXPECT_TRUE(AllEqual(p + kPage, kPage, 'x'));
  munmap(p, 2 * kPage);
}

TEST(MadviseTest, Errors) {
  char* p = MapAnon(kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(madvise(p, kPage, Opaque(12345)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(p + 1, kPage, MADV_NORMAL),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(p, 0, MADV_DONTNEED), SyscallSucceeds());
  ASSERT_THAT(munmap(p, kPage), SyscallSucceeds());
  EXPECT_THAT(madvise(p, kPage, MADV_DONTNEED), SyscallFailsWithErrno(ENOMEM));
}

class MmapFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contents_ = ReadFileContents(kRegularFile);
    ASSERT_FALSE(contents_.empty());
    ASSERT_LT(contents_.size(), kPage);  // The tests below assume one page.
    fd_ = OpenOrFail(kRegularFile, O_RDONLY);
    ASSERT_GE(fd_.get(), 0);
  }

  char* MapFile(int prot) {
    void* p = mmap(nullptr, kPage, prot, MAP_PRIVATE, fd_.get(), 0);
    EXPECT_NE(p, MAP_FAILED) << ErrnoName(errno);
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }

  std::string contents_;
  FileDescriptor fd_;
};

TEST_F(MmapFileTest, PrivateMappingMatchesReadAndZeroFillsPageTail) {
  char* p = MapFile(PROT_READ);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::string(p, contents_.size()), contents_);
  EXPECT_TRUE(AllEqual(p + contents_.size(), kPage - contents_.size(), 0));
  munmap(p, kPage);
}

TEST_F(MmapFileTest, WritesToPrivateMappingStayPrivate) {
  // MAP_PRIVATE + PROT_WRITE is allowed on a read-only descriptor.
  char* p = MapFile(PROT_READ | PROT_WRITE);
  ASSERT_NE(p, nullptr);
  memset(p, 'Z', contents_.size());
  char* other = MapFile(PROT_READ);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(std::string(other, contents_.size()), contents_);
  EXPECT_EQ(ReadFileContents(kRegularFile), contents_);
  // Dropping the private copy brings back the file's contents.
  ASSERT_THAT(madvise(p, kPage, MADV_DONTNEED), SyscallSucceeds());
  EXPECT_EQ(std::string(p, contents_.size()), contents_);
  munmap(p, kPage);
  munmap(other, kPage);
}

TEST_F(MmapFileTest, FileErrors) {
  EXPECT_THAT(
      mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0),
      SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, fd_.get(), 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, -1, 0),
              SyscallFailsWithErrno(EBADF));
  FileDescriptor wronly = OpenOrFail("/dev/null", O_WRONLY);
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, wronly.get(), 0),
              SyscallFailsWithErrno(EACCES));
  FileDescriptor dir = OpenOrFail("/", O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, dir.get(), 0),
              SyscallFailsWithErrno(ENODEV));
}

TEST(MmapErrorTest, ArgumentErrors) {
  const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
  const int rw = PROT_READ | PROT_WRITE;
  EXPECT_THAT(mmap(nullptr, 0, rw, anon, -1, 0), SyscallFailsWithErrno(EINVAL));
  // Neither MAP_SHARED nor MAP_PRIVATE.
  EXPECT_THAT(mmap(nullptr, kPage, rw, Opaque(MAP_ANONYMOUS), -1, 0),
              SyscallFailsWithErrno(EINVAL));
  char* p = MapAnon(2 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(mmap(p + 1, kPage, rw, anon | MAP_FIXED, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  munmap(p, 2 * kPage);
  // The length rounds up to a page and wraps to zero.
  EXPECT_THAT(mmap(nullptr, Opaque(SIZE_MAX), rw, anon, -1, 0),
              SyscallFailsWithErrno(ENOMEM));
}

}  // namespace
}  // namespace syscall_test
