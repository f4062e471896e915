// MAP_SHARED mappings of regular files are the file: stores through a
// mapping are what read(2) returns, write(2) shows in every mapping, two
// processes mapping the file on their own see each other's stores; msync;
// a writable shared mapping holds off F_SEAL_WRITE.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

// A mapping unmapped at the end of the test.
class Mapping {
 public:
  Mapping(size_t len, int prot, int fd, off_t offset = 0)
      : len_(len), p_(mmap(nullptr, len, prot, MAP_SHARED, fd, offset)) {
    EXPECT_NE(p_, MAP_FAILED) << ErrnoName(errno);
  }
  ~Mapping() {
    if (p_ != MAP_FAILED) munmap(p_, len_);
  }
  char* get() const { return static_cast<char*>(p_); }

 private:
  size_t len_;
  void* p_;
};

// The directories tested: tmpfs in the sandbox (/tmp, /dev/shm) and the
// overlay root's upper layer (/var/tmp); natively whatever they are.
class SharedFileMapTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      if (c == '/') c = '_';  // "StoresReachTheFile/0"
    path_ = std::string(GetParam()) + "/mmap_shared_" +
            std::to_string(getpid()) + "_" + name;
    fd_ = FileDescriptor(open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600));
    ASSERT_GE(fd_.get(), 0) << ErrnoName(errno);
  }
  void TearDown() override { unlink(path_.c_str()); }

  std::string path_;
  FileDescriptor fd_;
};

TEST_P(SharedFileMapTest, StoresReachTheFile) {
  const size_t page = PageSize();
  ASSERT_THAT(ftruncate(fd_.get(), 3 * page), SyscallSucceeds());
  Mapping m(3 * page, PROT_READ | PROT_WRITE, fd_.get());
  std::memcpy(m.get() + page + 10, "stored", 6);
  char buf[6];
  ASSERT_THAT(pread(fd_.get(), buf, 6, page + 10), SyscallSucceedsWithValue(6));
  EXPECT_EQ(std::string(buf, 6), "stored");
  // A hole the mapping wrote is data now (SEEK_DATA finds it).
  std::memcpy(m.get() + 2 * page, "x", 1);
  EXPECT_THAT(pread(fd_.get(), buf, 1, 2 * page), SyscallSucceedsWithValue(1));
  EXPECT_EQ(buf[0], 'x');
}

TEST_P(SharedFileMapTest, WritesShowInTheMapping) {
  const size_t page = PageSize();
  ASSERT_THAT(ftruncate(fd_.get(), 2 * page), SyscallSucceeds());
  Mapping m(2 * page, PROT_READ, fd_.get());
  ASSERT_THAT(pwrite(fd_.get(), "written", 7, page - 3),
              SyscallSucceedsWithValue(7));
  EXPECT_EQ(std::string(m.get() + page - 3, 7), "written");
}

TEST_P(SharedFileMapTest, TwoMappingsAlias) {
  const size_t page = PageSize();
  ASSERT_THAT(ftruncate(fd_.get(), 2 * page), SyscallSucceeds());
  Mapping a(2 * page, PROT_READ | PROT_WRITE, fd_.get());
  Mapping b(page, PROT_READ, fd_.get(), page);
  std::memcpy(a.get() + page, "alias", 5);
  EXPECT_EQ(std::string(b.get(), 5), "alias");
}

// Two processes that each open and map the file see each other's stores.
TEST_P(SharedFileMapTest, SharedBetweenProcesses) {
  const size_t page = PageSize();
  ASSERT_THAT(ftruncate(fd_.get(), page), SyscallSucceeds());
  int to_child[2], to_parent[2];
  ASSERT_THAT(pipe(to_child), SyscallSucceeds());
  ASSERT_THAT(pipe(to_parent), SyscallSucceeds());
  const std::string path = path_;
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDWR);
    if (fd < 0) _exit(1);
    void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) _exit(2);
    char c;
    if (read(to_child[0], &c, 1) != 1) _exit(3);
    if (std::memcmp(p, "parent", 6) != 0) _exit(4);
    std::memcpy(static_cast<char*>(p) + 100, "child", 5);
    if (write(to_parent[1], "k", 1) != 1) _exit(5);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  Mapping m(page, PROT_READ | PROT_WRITE, fd_.get());
  std::memcpy(m.get(), "parent", 6);
  ASSERT_THAT(write(to_child[1], "g", 1), SyscallSucceedsWithValue(1));
  char c;
  ASSERT_THAT(read(to_parent[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(std::string(m.get() + 100, 5), "child");
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]})
    close(fd);
}

// After munmap the data stays in the file, and a new mapping sees it.
TEST_P(SharedFileMapTest, SurvivesUnmap) {
  const size_t page = PageSize();
  ASSERT_THAT(ftruncate(fd_.get(), page), SyscallSucceeds());
  {
    Mapping m(page, PROT_READ | PROT_WRITE, fd_.get());
    std::memcpy(m.get(), "kept", 4);
    EXPECT_THAT(msync(m.get(), page, MS_SYNC), SyscallSucceeds());
  }
  fd_ = FileDescriptor();
  FileDescriptor again(open(path_.c_str(), O_RDONLY));
  Mapping m(page, PROT_READ, again.get());
  EXPECT_EQ(std::string(m.get(), 4), "kept");
}

INSTANTIATE_TEST_SUITE_P(Dirs, SharedFileMapTest,
                         ::testing::Values("/tmp", "/dev/shm", "/var/tmp"));

TEST(MsyncTest, Arguments) {
  const size_t page = PageSize();
  void* p = mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  char* c = static_cast<char*>(p);
  EXPECT_THAT(msync(c, page, MS_ASYNC), SyscallSucceeds());
  EXPECT_THAT(msync(c, page, MS_INVALIDATE), SyscallSucceeds());
  EXPECT_THAT(msync(c, page, 0), SyscallSucceeds());
  EXPECT_THAT(msync(c, 0, MS_SYNC), SyscallSucceeds());
  EXPECT_THAT(msync(c + 1, page, MS_SYNC), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(c, page, MS_SYNC | MS_ASYNC), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(c, page, 8), SyscallFailsWithErrno(EINVAL));
  // A hole in the range: ENOMEM, also for a range wholly unmapped.
  ASSERT_THAT(munmap(c + page, page), SyscallSucceeds());
  EXPECT_THAT(msync(c, 3 * page, MS_SYNC), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(msync(c + page, page, MS_SYNC), SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(msync(c + 2 * page, page - 1, MS_SYNC), SyscallSucceeds());
  // MS_INVALIDATE of locked memory is EBUSY (needs RLIMIT_MEMLOCK room).
  if (mlock(c, page) == 0) {
    EXPECT_THAT(msync(c, page, MS_INVALIDATE), SyscallFailsWithErrno(EBUSY));
    EXPECT_THAT(msync(c, page, MS_SYNC), SyscallSucceeds());
  }
  munmap(c, page);
  munmap(c + 2 * page, page);
}

TEST(SharedMemfdTest, WritableMappingHoldsOffTheWriteSeal) {
  const size_t page = PageSize();
  FileDescriptor fd(static_cast<int>(
      syscall(SYS_memfd_create, "sealed", MFD_ALLOW_SEALING)));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(ftruncate(fd.get(), page), SyscallSucceeds());
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE),
              SyscallFailsWithErrno(EBUSY));
  // A private mapping does not count.
  void* q = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  ASSERT_NE(q, MAP_FAILED);
  ASSERT_THAT(munmap(p, page), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE), SyscallSucceeds());
  EXPECT_THAT(pwrite(fd.get(), "x", 1, 0), SyscallFailsWithErrno(EPERM));
  munmap(q, page);
}

TEST(SharedMemfdTest, ForkedChildSharesStores) {
  const size_t page = PageSize();
  FileDescriptor fd(static_cast<int>(syscall(SYS_memfd_create, "fork", 0)));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(ftruncate(fd.get(), page), SyscallSucceeds());
  char* p = static_cast<char*>(
      mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(InChild([&] {
              std::memcpy(p, "from child", 10);
              return 0;
            }),
            0);
  EXPECT_EQ(std::string(p, 10), "from child");
  char buf[10];
  ASSERT_THAT(pread(fd.get(), buf, 10, 0), SyscallSucceedsWithValue(10));
  EXPECT_EQ(std::string(buf, 10), "from child");
  munmap(p, page);
}

}  // namespace
}  // namespace syscall_test
