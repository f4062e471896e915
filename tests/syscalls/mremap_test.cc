// mremap with MREMAP_DONTUNMAP: the argument rules, and what the old range
// shows afterwards for private anonymous, shared and private file memory.
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "temp_dir.h"
#include "test_util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

namespace syscall_test {
namespace {

const size_t kPage = PageSize();

bool AllEqual(const char* p, size_t n, char c) {
  return std::all_of(p, p + n, [c](char x) { return x == c; });
}

char* Map(size_t len, int prot, int flags, int fd = -1) {
  void* p = mmap(nullptr, len, prot, flags, fd, 0);
  EXPECT_NE(p, MAP_FAILED) << ErrnoName(errno);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

constexpr int kRW = PROT_READ | PROT_WRITE;

char* Remap(char* old, size_t old_len, size_t new_len, int flags,
            char* new_addr = nullptr) {
  void* p = mremap(old, old_len, new_len, flags, new_addr);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

TEST(MremapDontUnmapTest, NeedsMayMoveAndTheSameLength) {
  char* p = Map(2 * kPage, kRW, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(mremap(p, kPage, kPage, MREMAP_DONTUNMAP),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, kPage, 2 * kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(p, 2 * kPage, kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST(MremapDontUnmapTest, PrivateAnonymousOldRangeReadsZero) {
  char* p = Map(2 * kPage, kRW, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_NE(p, nullptr);
  memset(p, 'a', 2 * kPage);
  char* q = Remap(p, 2 * kPage, 2 * kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
  ASSERT_NE(q, nullptr) << ErrnoName(errno);
  EXPECT_NE(q, p);
  EXPECT_TRUE(AllEqual(q, 2 * kPage, 'a'));
  // The old range is still mapped, empty, and its own memory.
  EXPECT_TRUE(AllEqual(p, 2 * kPage, 0));
  memset(p, 'b', kPage);
  EXPECT_TRUE(AllEqual(q, 2 * kPage, 'a'));
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
  EXPECT_THAT(munmap(q, 2 * kPage), SyscallSucceeds());
}

TEST(MremapDontUnmapTest, WithFixedDestination) {
  char* p = Map(kPage, kRW, MAP_PRIVATE | MAP_ANONYMOUS);
  char* dest = Map(3 * kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_NE(p, nullptr);
  ASSERT_NE(dest, nullptr);
  memset(p, 'c', kPage);
  char* q =
      Remap(p, kPage, kPage, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
            dest + kPage);
  ASSERT_EQ(q, dest + kPage) << ErrnoName(errno);
  EXPECT_TRUE(AllEqual(q, kPage, 'c'));
  q[0] = 'd';  // the moved range keeps its protection
  EXPECT_TRUE(AllEqual(p, kPage, 0));
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
  EXPECT_THAT(munmap(dest, 3 * kPage), SyscallSucceeds());
}

TEST(MremapDontUnmapTest, SharedMemoryShowsTheSamePagesInBoth) {
  char* p = Map(kPage, kRW, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_NE(p, nullptr);
  memset(p, 'e', kPage);
  char* q = Remap(p, kPage, kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
  ASSERT_NE(q, nullptr) << ErrnoName(errno);
  EXPECT_TRUE(AllEqual(q, kPage, 'e'));
  EXPECT_TRUE(AllEqual(p, kPage, 'e'));
  memset(q, 'f', kPage);
  EXPECT_TRUE(AllEqual(p, kPage, 'f'));
  EXPECT_THAT(munmap(q, kPage), SyscallSucceeds());
  EXPECT_TRUE(AllEqual(p, kPage, 'f'));
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

TEST(MremapDontUnmapTest, PrivateFileMappingReadsTheFileAgain) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, std::string(kPage, 'g')));
  FileDescriptor fd = OpenOrFail(path.c_str(), O_RDONLY);
  char* p = Map(kPage, kRW, MAP_PRIVATE, fd.get());
  ASSERT_NE(p, nullptr);
  memset(p, 'h', kPage);
  char* q = Remap(p, kPage, kPage, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
  ASSERT_NE(q, nullptr) << ErrnoName(errno);
  EXPECT_TRUE(AllEqual(q, kPage, 'h'));
  EXPECT_TRUE(AllEqual(p, kPage, 'g'));
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
  EXPECT_THAT(munmap(q, kPage), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
