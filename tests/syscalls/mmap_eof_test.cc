// File mappings and the end of the file: mapping past EOF succeeds, the
// rest of the page holding EOF reads as zero, and an access to a later
// page is SIGBUS (BUS_ADRERR, si_addr the address) as on Linux, while the
// kernel's own copies from there fail with EFAULT.
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

const size_t kPage = PageSize();

// What the SIGBUS handler of a child expects.
void* volatile expected_addr;

void OnSigbus(int, siginfo_t* info, void*) {
  _exit(info->si_code == BUS_ADRERR && info->si_addr == expected_addr ? 42
                                                                      : 43);
}

// Touches `addr` (read, or write) in a child with a SIGBUS handler: 42 if
// SIGBUS came with the right siginfo, 0 if the access worked, 128+N if
// signal N killed it.
int TouchInChild(char* addr, bool write) {
  return InChild([=] {
    expected_addr = addr;
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGBUS, &sa, nullptr) != 0) return 1;
    if (write)
      *reinterpret_cast<volatile char*>(addr) = 'x';
    else
      (void)*reinterpret_cast<volatile char*>(addr);
    return 0;
  });
}

// Dies of SIGBUS without a handler.
int TouchInChildNoHandler(char* addr) {
  return InChild([=] {
    (void)*reinterpret_cast<volatile char*>(addr);
    return 0;
  });
}

class MmapEofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/f";
    ASSERT_NO_FATAL_FAILURE(MakeFile(path_, std::string(kPage + 10, 'a')));
    fd_ = FileDescriptor(open(path_.c_str(), O_RDWR));
    ASSERT_GE(fd_.get(), 0);
  }
  char* Map(size_t len, int prot, int flags, off_t off = 0) {
    void* p = mmap(nullptr, len, prot, flags, fd_.get(), off);
    EXPECT_NE(p, MAP_FAILED) << ErrnoName(errno);
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }

  TempDir dir_;
  std::string path_;
  FileDescriptor fd_;
};

TEST_F(MmapEofTest, RestOfTheLastPageReadsZero) {
  char* p = Map(2 * kPage, PROT_READ, MAP_PRIVATE);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[kPage + 9], 'a');
  EXPECT_EQ(p[kPage + 10], 0);
  EXPECT_EQ(p[2 * kPage - 1], 0);
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST_F(MmapEofTest, AccessPastTheLastPageIsSigbus) {
  char* p = Map(4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(TouchInChild(p + kPage + 100, false), 0);
  EXPECT_EQ(TouchInChild(p + 2 * kPage, false), 42);
  EXPECT_EQ(TouchInChild(p + 3 * kPage + 17, true), 42);
  EXPECT_EQ(TouchInChildNoHandler(p + 2 * kPage), 128 + SIGBUS);
  EXPECT_THAT(munmap(p, 4 * kPage), SyscallSucceeds());
}

TEST_F(MmapEofTest, SharedMappingsToo) {
  char* p = Map(3 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[0], 'a');
  EXPECT_EQ(TouchInChild(p + 2 * kPage, true), 42);
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST_F(MmapEofTest, MappingWhollyPastEofSucceeds) {
  char* p = Map(2 * kPage, PROT_READ, MAP_PRIVATE, 8 * kPage);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(TouchInChild(p, false), 42);
  EXPECT_EQ(TouchInChild(p + kPage, false), 42);
  EXPECT_THAT(munmap(p, 2 * kPage), SyscallSucceeds());
}

TEST_F(MmapEofTest, ProtNoneIsSigsegvFirst) {
  char* p = Map(3 * kPage, PROT_READ, MAP_PRIVATE);
  ASSERT_NE(p, nullptr);
  ASSERT_THAT(mprotect(p + 2 * kPage, kPage, PROT_NONE), SyscallSucceeds());
  EXPECT_EQ(TouchInChildNoHandler(p + 2 * kPage), 128 + SIGSEGV);
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

TEST_F(MmapEofTest, KernelCopiesFromPastEofFail) {
  char* p = Map(3 * kPage, PROT_READ, MAP_PRIVATE);
  ASSERT_NE(p, nullptr);
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(write(fds[1], p + 2 * kPage, 1), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(write(fds[1], p, 1), SyscallSucceedsWithValue(1));
  close(fds[0]);
  close(fds[1]);
  EXPECT_THAT(munmap(p, 3 * kPage), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
