// File mappings and the end of the file: mapping past EOF succeeds, the
// rest of the page holding EOF reads as zero, and an access to a later
// page is SIGBUS (BUS_ADRERR, si_addr the address) as on Linux, while the
// kernel's own copies from there fail with EFAULT.
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

// A shared mapping of a memory file (tmpfs) follows the file's size and
// holes as Linux's page cache does: truncation makes the pages past the
// new end SIGBUS in every mapping, growth makes them valid again (zero),
// and a punched hole reads as zero and is backed by the file's new page.
class SharedTruncateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = FileDescriptor(memfd_create("truncate", 0));
    ASSERT_GE(fd_.get(), 0);
    ASSERT_THAT(ftruncate(fd_.get(), 3 * kPage), SyscallSucceeds());
    void* p = mmap(nullptr, 3 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd_.get(), 0);
    ASSERT_NE(p, MAP_FAILED);
    p_ = static_cast<char*>(p);
    memset(p_, 'm', 3 * kPage);
  }
  void TearDown() override {
    if (p_) munmap(p_, 3 * kPage);
  }

  FileDescriptor fd_;
  char* p_ = nullptr;
};

TEST_F(SharedTruncateTest, ShrinkMakesPagesPastTheEndSigbus) {
  ASSERT_THAT(ftruncate(fd_.get(), kPage + 10), SyscallSucceeds());
  EXPECT_EQ(p_[kPage + 9], 'm');
  EXPECT_EQ(p_[kPage + 10], 0);  // the tail of the page holding EOF
  EXPECT_EQ(TouchInChild(p_ + 2 * kPage, false), 42);
  EXPECT_EQ(TouchInChild(p_ + 2 * kPage + 5, true), 42);
  // The kernel's copies from there fail too.
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  EXPECT_THAT(write(fds[1], p_ + 2 * kPage, 1), SyscallFailsWithErrno(EFAULT));
  close(fds[0]);
  close(fds[1]);
}

TEST_F(SharedTruncateTest, GrowingAgainReadsZero) {
  ASSERT_THAT(ftruncate(fd_.get(), kPage), SyscallSucceeds());
  EXPECT_EQ(TouchInChild(p_ + kPage, false), 42);
  ASSERT_THAT(ftruncate(fd_.get(), 3 * kPage), SyscallSucceeds());
  EXPECT_EQ(TouchInChild(p_ + 2 * kPage, false), 0);
  EXPECT_EQ(p_[kPage], 0);
  EXPECT_EQ(p_[3 * kPage - 1], 0);
  EXPECT_EQ(p_[0], 'm');
  // The pages are the file's again: a store shows in read(2), a write(2)
  // in the mapping.
  p_[2 * kPage] = 's';
  char c = 0;
  ASSERT_THAT(pread(fd_.get(), &c, 1, 2 * kPage), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 's');
  ASSERT_THAT(pwrite(fd_.get(), "w", 1, kPage + 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(p_[kPage + 1], 'w');
}

TEST_F(SharedTruncateTest, WriteThatExtendsTheFileValidatesPages) {
  ASSERT_THAT(ftruncate(fd_.get(), 0), SyscallSucceeds());
  EXPECT_EQ(TouchInChild(p_, false), 42);
  ASSERT_THAT(pwrite(fd_.get(), "x", 1, 2 * kPage), SyscallSucceedsWithValue(1));
  EXPECT_EQ(TouchInChild(p_ + 2 * kPage, false), 0);
  EXPECT_EQ(p_[2 * kPage], 'x');
  EXPECT_EQ(p_[0], 0);
}

TEST_F(SharedTruncateTest, PunchedHoleReadsZeroInEveryMapping) {
  char* q = static_cast<char*>(mmap(nullptr, 3 * kPage, PROT_READ,
                                    MAP_SHARED, fd_.get(), 0));
  ASSERT_NE(q, MAP_FAILED);
  ASSERT_THAT(fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                        kPage, kPage),
              SyscallSucceeds());
  EXPECT_EQ(p_[kPage], 0);
  EXPECT_EQ(p_[2 * kPage - 1], 0);
  EXPECT_EQ(q[kPage + 7], 0);
  EXPECT_EQ(p_[kPage - 1], 'm');
  EXPECT_EQ(p_[2 * kPage], 'm');
  // Stores after the punch reach the file and the other mapping.
  p_[kPage + 7] = 'n';
  EXPECT_EQ(q[kPage + 7], 'n');
  char c = 0;
  ASSERT_THAT(pread(fd_.get(), &c, 1, kPage + 7), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'n');
  munmap(q, 3 * kPage);
}

TEST_F(SharedTruncateTest, ReachesAForkedChildsMapping) {
  int ready[2], go[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    char c = 0;
    (void)!write(ready[1], &c, 1);
    (void)!read(go[0], &c, 1);
    // After the parent truncated: the third page is gone here too.
    _exit(TouchInChild(p_ + 2 * kPage, false) == 42 && p_[0] == 'm' ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  ASSERT_THAT(ftruncate(fd_.get(), 2 * kPage), SyscallSucceeds());
  ASSERT_THAT(write(go[1], &c, 1), SyscallSucceedsWithValue(1));
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int f : {ready[0], ready[1], go[0], go[1]}) close(f);
}

}  // namespace
}  // namespace syscall_test
