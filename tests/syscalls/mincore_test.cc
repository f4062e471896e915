// mincore: anonymous pages resident once touched (and again not after
// MADV_DONTNEED), shared memory across fork, PROT_NONE reservations, the
// vector's length for a partial page, and the errors (EINVAL for an
// unaligned address, ENOMEM for holes and addresses past the user range,
// EFAULT for the vector).
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr size_t kPage = 4096;

class Mapping {
 public:
  Mapping(size_t len, int prot, int flags)
      : len_(len), addr_(mmap(nullptr, len, prot, flags, -1, 0)) {}
  ~Mapping() {
    if (addr_ != MAP_FAILED) munmap(addr_, len_);
  }
  char* get() const { return static_cast<char*>(addr_); }
  bool ok() const { return addr_ != MAP_FAILED; }

 private:
  size_t len_;
  void* addr_;
};

std::vector<unsigned char> Residency(void* addr, size_t len) {
  std::vector<unsigned char> vec((len + kPage - 1) / kPage, 0xff);
  EXPECT_THAT(mincore(addr, len, vec.data()), SyscallSucceeds());
  return vec;
}

TEST(Mincore, AnonymousPagesAfterTouching) {
  Mapping m(4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  m.get()[kPage] = 1;
  m.get()[3 * kPage] = 1;
  const std::vector<unsigned char> vec = Residency(m.get(), 4 * kPage);
  EXPECT_EQ(vec[1], 1);
  EXPECT_EQ(vec[3], 1);
  // Only the low bit is defined.
  for (unsigned char v : vec) EXPECT_EQ(v & ~1, 0);
  // DONTNEED drops the page: it is not resident until touched again.
  ASSERT_THAT(madvise(m.get() + kPage, kPage, MADV_DONTNEED),
              SyscallSucceeds());
  EXPECT_EQ(Residency(m.get() + kPage, kPage)[0], 0);
  m.get()[kPage] = 2;
  EXPECT_EQ(Residency(m.get() + kPage, kPage)[0], 1);
}

TEST(Mincore, UntouchedAnonymousPagesAreNotResident) {
  Mapping m(16 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Residency(m.get(), 16 * kPage),
            std::vector<unsigned char>(16, 0));
}

TEST(Mincore, ProtNoneReservation) {
  Mapping m(8 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Residency(m.get(), 8 * kPage), std::vector<unsigned char>(8, 0));
}

TEST(Mincore, SharedMemorySeenByTheChild) {
  Mapping m(2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  m.get()[0] = 1;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    unsigned char vec[2] = {0xff, 0xff};
    if (mincore(m.get(), 2 * kPage, vec) != 0) _exit(1);
    _exit(vec[0] == 1 && vec[1] == 0 ? 0 : 2);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(Mincore, PartialPageLengthCoversThePage) {
  Mapping m(2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  m.get()[0] = 1;
  m.get()[kPage] = 1;
  // 1 byte past a page: two entries written, the third untouched.
  unsigned char vec[3] = {0xff, 0xff, 0xff};
  ASSERT_THAT(mincore(m.get(), kPage + 1, vec), SyscallSucceeds());
  EXPECT_EQ(vec[0], 1);
  EXPECT_EQ(vec[1], 1);
  EXPECT_EQ(vec[2], 0xff);
  // Length 0: nothing to do, even with a bad vector.
  EXPECT_THAT(mincore(m.get(), 0, static_cast<unsigned char*>(BadAddress())),
              SyscallSucceeds());
}

TEST(Mincore, Errors) {
  Mapping m(3 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  ASSERT_TRUE(m.ok());
  unsigned char vec[4];
  EXPECT_THAT(mincore(m.get() + 1, 100, vec), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mincore(m.get(), kPage, static_cast<unsigned char*>(BadAddress())),
              SyscallFailsWithErrno(EFAULT));
  // A hole in the middle.
  ASSERT_THAT(munmap(m.get() + kPage, kPage), SyscallSucceeds());
  EXPECT_THAT(mincore(m.get(), 3 * kPage, vec), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mincore(m.get() + kPage, kPage, vec),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mincore(m.get(), kPage, vec), SyscallSucceeds());
  // Unmapped low memory, and past the end of the user address range.
  EXPECT_THAT(mincore(reinterpret_cast<void*>(0x1000), kPage, vec),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mincore(reinterpret_cast<void*>(0x7ffffffff000), 2 * kPage, vec),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mincore(reinterpret_cast<void*>(0xffffffffffff0000), kPage, vec),
              SyscallFailsWithErrno(ENOMEM));
}

}  // namespace
}  // namespace syscall_test
