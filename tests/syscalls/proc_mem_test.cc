// /proc/<pid>/mem: reads and writes of a process's memory at file offsets
// that are addresses, as debuggers use it (Linux's mem_rw with FOLL_FORCE).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "proc_util.h"
#include "test_util.h"

namespace {

using proc_test::Proc;
using syscall_test::FileDescriptor;
using syscall_test::PageSize;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

off_t At(const void* p) { return static_cast<off_t>(reinterpret_cast<uintptr_t>(p)); }

TEST(ProcMemTest, ReadsAndWritesOwnMemory) {
  static char data[64] = "the quick brown fox";
  FileDescriptor fd(open("/proc/self/mem", O_RDWR));
  ASSERT_GE(fd.get(), 0) << strerror(errno);
  char buf[64] = {};
  ASSERT_THAT(pread(fd.get(), buf, sizeof(buf), At(data)),
              SyscallSucceedsWithValue(sizeof(buf)));
  EXPECT_STREQ(buf, "the quick brown fox");
  ASSERT_THAT(pwrite(fd.get(), "QUICK", 5, At(data + 4)),
              SyscallSucceedsWithValue(5));
  EXPECT_STREQ(data, "the QUICK brown fox");
}

TEST(ProcMemTest, ReadIntoTheRangeItReads) {
  // The buffer the read fills is the memory it reads: no deadlock, and the
  // bytes come back unchanged.
  std::vector<char> v(3 * PageSize());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(i * 7);
  const std::vector<char> want = v;
  FileDescriptor fd(open("/proc/self/mem", O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(pread(fd.get(), v.data(), v.size(), At(v.data())),
              SyscallSucceedsWithValue(v.size()));
  EXPECT_EQ(v, want);
}

TEST(ProcMemTest, SeekThenReadAdvances) {
  static const char text[] = "0123456789";
  FileDescriptor fd(open("/proc/self/mem", O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(lseek(fd.get(), At(text), SEEK_SET),
              SyscallSucceedsWithValue(At(text)));
  char buf[4] = {};
  ASSERT_THAT(read(fd.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_STREQ(buf, "012");
  ASSERT_THAT(read(fd.get(), buf, 3), SyscallSucceedsWithValue(3));
  EXPECT_STREQ(buf, "345");
  ASSERT_THAT(lseek(fd.get(), 2, SEEK_CUR), SyscallSucceedsWithValue(At(text + 8)));
  ASSERT_THAT(read(fd.get(), buf, 2), SyscallSucceedsWithValue(2));
  EXPECT_EQ(std::string(buf, 2), "89");
  EXPECT_THAT(lseek(fd.get(), 0, SEEK_END), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcMemTest, IgnoresProtection) {
  // FOLL_FORCE: a debugger reads PROT_NONE memory and writes read-only
  // private memory (setting a breakpoint in text).
  const size_t page = PageSize();
  char* p = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  strcpy(p, "hidden");
  strcpy(p + page, "readonly");
  ASSERT_THAT(mprotect(p, page, PROT_NONE), SyscallSucceeds());
  ASSERT_THAT(mprotect(p + page, page, PROT_READ), SyscallSucceeds());
  FileDescriptor fd(open("/proc/self/mem", O_RDWR));
  ASSERT_GE(fd.get(), 0);
  char buf[7] = {};
  ASSERT_THAT(pread(fd.get(), buf, 7, At(p)), SyscallSucceedsWithValue(7));
  EXPECT_STREQ(buf, "hidden");
  ASSERT_THAT(pwrite(fd.get(), "RE", 2, At(p + page)),
              SyscallSucceedsWithValue(2));
  EXPECT_STREQ(p + page, "REadonly");
  munmap(p, 2 * page);
}

TEST(ProcMemTest, UnmappedIsEioAndStopsAPartialRead) {
  const size_t page = PageSize();
  char* p = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_THAT(munmap(p + page, page), SyscallSucceeds());
  memset(p, 'x', page);
  FileDescriptor fd(open("/proc/self/mem", O_RDWR));
  ASSERT_GE(fd.get(), 0);
  std::vector<char> buf(2 * page);
  EXPECT_THAT(pread(fd.get(), buf.data(), page, At(p + page)),
              SyscallFailsWithErrno(EIO));
  EXPECT_THAT(pwrite(fd.get(), buf.data(), page, At(p + page)),
              SyscallFailsWithErrno(EIO));
  EXPECT_THAT(pread(fd.get(), buf.data(), 2 * page, At(p + page / 2)),
              SyscallSucceedsWithValue(page / 2));
  EXPECT_EQ(buf[0], 'x');
  EXPECT_THAT(pread(fd.get(), buf.data(), 8, 0), SyscallFailsWithErrno(EIO));
  munmap(p, page);
}

TEST(ProcMemTest, BadBufferIsEfault) {
  static char data[16] = "abc";
  FileDescriptor fd(open("/proc/self/mem", O_RDWR));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(pread(fd.get(), nullptr, sizeof(data), At(data)),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(pwrite(fd.get(), nullptr, sizeof(data), At(data)),
              SyscallFailsWithErrno(EFAULT));
}

TEST(ProcMemTest, LargeReadCrossesManyPages) {
  const size_t len = 3 << 20;
  char* p = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  for (size_t i = 0; i < len; i += 4096) p[i] = static_cast<char>(i >> 12);
  std::vector<char> buf(len);
  FileDescriptor fd(open("/proc/self/mem", O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(pread(fd.get(), buf.data(), len, At(p)),
              SyscallSucceedsWithValue(len));
  EXPECT_EQ(memcmp(buf.data(), p, len), 0);
  munmap(p, len);
}

// A child that changes `value` and then waits: its parent reads and writes
// the child's copy through /proc/<child>/mem.
TEST(ProcMemTest, ChildMemory) {
  static volatile int value = 1;
  int ready[2], go[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    value = 2;
    char c = 0;
    (void)!write(ready[1], &c, 1);
    (void)!read(go[0], &c, 1);
    _exit(value);
  }
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  FileDescriptor fd(open(Proc(pid, "mem").c_str(), O_RDWR));
  ASSERT_GE(fd.get(), 0) << strerror(errno);
  int seen = 0;
  ASSERT_THAT(pread(fd.get(), &seen, sizeof(seen), At(const_cast<int*>(&value))),
              SyscallSucceedsWithValue(sizeof(seen)));
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(value, 1);  // the parent's copy is its own
  const int nine = 9;
  ASSERT_THAT(pwrite(fd.get(), &nine, sizeof(nine), At(const_cast<int*>(&value))),
              SyscallSucceedsWithValue(sizeof(nine)));
  EXPECT_EQ(value, 1);
  ASSERT_THAT(write(go[1], &c, 1), SyscallSucceedsWithValue(1));
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 9);
  // The memory is gone with the process: reads find nothing.
  EXPECT_THAT(pread(fd.get(), &seen, sizeof(seen), At(const_cast<int*>(&value))),
              SyscallSucceedsWithValue(0));
  for (int f : {ready[0], ready[1], go[0], go[1]}) close(f);
}

TEST(ProcMemTest, ModeAndOwner) {
  struct stat st;
  ASSERT_THAT(stat("/proc/self/mem", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(ProcMemTest, NonDumpableChildNeedsPrivilege) {
  int ready[2], go[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_DUMPABLE, 0);
    char c = 0;
    (void)!write(ready[1], &c, 1);
    (void)!read(go[0], &c, 1);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(1));
  const int fd = open(Proc(pid, "mem").c_str(), O_RDONLY);
  if (geteuid() == 0) {
    EXPECT_GE(fd, 0) << strerror(errno);  // CAP_SYS_PTRACE
  } else {
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(errno, EACCES);
  }
  if (fd >= 0) close(fd);
  ASSERT_THAT(write(go[1], &c, 1), SyscallSucceedsWithValue(1));
  waitpid(pid, nullptr, 0);
  for (int f : {ready[0], ready[1], go[0], go[1]}) close(f);
}

}  // namespace
