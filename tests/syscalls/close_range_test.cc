// close_range(2): ranges, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE of a
// table shared with clone(CLONE_FILES), errors; umask(2): the modes of new
// files and directories, fork. (clone_test.cc: CLONE_FS and umask.)
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <initializer_list>

#include "temp_dir.h"
#include "test_util.h"

namespace {

using syscall_test::FileDescriptor;
using syscall_test::Lstat;
using syscall_test::ScopedUmask;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using syscall_test::TempDir;

long CloseRange(unsigned first, unsigned last, unsigned flags) {
  return syscall(SYS_close_range, first, last, flags);
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }
bool IsCloexec(int fd) { return fcntl(fd, F_GETFD) == FD_CLOEXEC; }

// Runs `body` in a forked child (or in a clone(2) child sharing what
// `flags` says); returns its exit code.
int InChild(const std::function<int()>& body, unsigned long flags = 0) {
  pid_t pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Descriptors `fds` (all on /dev/null, none close-on-exec), closed at the
// end of the test.
class Fds {
 public:
  Fds(std::initializer_list<int> fds) : fds_(fds) {
    FileDescriptor null(open("/dev/null", O_RDONLY));
    for (int fd : fds_) EXPECT_THAT(dup2(null.get(), fd), SyscallSucceeds());
  }
  ~Fds() {
    for (int fd : fds_) close(fd);
  }

 private:
  std::vector<int> fds_;
};

TEST(CloseRangeTest, ClosesExactlyTheRange) {
  Fds fds{100, 101, 102, 103, 104};
  ASSERT_THAT(CloseRange(101, 103, 0), SyscallSucceedsWithValue(0));
  EXPECT_TRUE(IsOpen(100));
  EXPECT_FALSE(IsOpen(101));
  EXPECT_FALSE(IsOpen(102));
  EXPECT_FALSE(IsOpen(103));
  EXPECT_TRUE(IsOpen(104));
  // Holes and closed fds are fine; one fd is a range too.
  EXPECT_THAT(CloseRange(100, 103, 0), SyscallSucceeds());
  EXPECT_FALSE(IsOpen(100));
  EXPECT_THAT(CloseRange(104, 104, 0), SyscallSucceeds());
  EXPECT_FALSE(IsOpen(104));
}

TEST(CloseRangeTest, ClosingTheLastWriterGivesEof) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor reader(p[0]);
  ASSERT_THAT(CloseRange(p[1], p[1], 0), SyscallSucceeds());
  char c;
  EXPECT_THAT(read(reader.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(CloseRangeTest, RangesPastTheTable) {
  EXPECT_EQ(InChild([] {
              Fds fds{500, 501};
              // Beyond every open fd, up to the largest number: fine.
              if (CloseRange(5000, 6000, 0) != 0) return 1;
              if (CloseRange(~0u, ~0u, 0) != 0) return 2;
              if (!IsOpen(500)) return 3;
              if (CloseRange(501, ~0u, 0) != 0) return 4;
              if (!IsOpen(500) || IsOpen(501)) return 5;
              if (CloseRange(0x7fffffff, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
                return 6;
              return IsOpen(500) ? 0 : 7;
            }),
            0);
}

TEST(CloseRangeTest, Errors) {
  Fds fds{100};
  EXPECT_THAT(CloseRange(101, 100, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(CloseRange(~0u, 0, 0), SyscallFailsWithErrno(EINVAL));
  for (unsigned flags : {1u, 8u, 0x80000000u, ~0u})
    EXPECT_THAT(CloseRange(100, 100, flags), SyscallFailsWithErrno(EINVAL))
        << flags;
  EXPECT_TRUE(IsOpen(100));
}

TEST(CloseRangeTest, CloexecMarksWithoutClosing) {
  Fds fds{100, 101, 102, 103};
  ASSERT_THAT(CloseRange(101, 102, CLOSE_RANGE_CLOEXEC), SyscallSucceeds());
  EXPECT_FALSE(IsCloexec(100));
  EXPECT_TRUE(IsCloexec(101));
  EXPECT_TRUE(IsCloexec(102));
  EXPECT_FALSE(IsCloexec(103));
  // Again, over a range with holes: still set, nothing opened.
  EXPECT_THAT(CloseRange(101, 200, CLOSE_RANGE_CLOEXEC), SyscallSucceeds());
  EXPECT_TRUE(IsCloexec(103));
  EXPECT_FALSE(IsOpen(104));
}

TEST(CloseRangeTest, UnshareOfAnUnsharedTable) {
  Fds fds{100, 101};
  ASSERT_THAT(CloseRange(100, 100, CLOSE_RANGE_UNSHARE), SyscallSucceeds());
  EXPECT_FALSE(IsOpen(100));
  ASSERT_THAT(CloseRange(101, 101, CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC),
              SyscallSucceeds());
  EXPECT_TRUE(IsCloexec(101));
}

TEST(CloseRangeTest, SharedTableWithoutUnshareClosesForBoth) {
  Fds fds{100, 101};
  EXPECT_EQ(InChild([] { return CloseRange(100, 100, 0) == 0 ? 0 : 1; },
                    CLONE_FILES),
            0);
  EXPECT_FALSE(IsOpen(100));
  EXPECT_EQ(InChild([] {
              return CloseRange(101, 101, CLOSE_RANGE_CLOEXEC) == 0 ? 0 : 1;
            }, CLONE_FILES),
            0);
  EXPECT_TRUE(IsCloexec(101));
}

TEST(CloseRangeTest, UnshareGivesTheCallerItsOwnTable) {
  Fds fds{100, 101, 102};
  EXPECT_EQ(InChild([] {
              if (CloseRange(100, 100, CLOSE_RANGE_UNSHARE) != 0) return 1;
              if (IsOpen(100)) return 2;
              // The table is the child's own now: nothing reaches the
              // parent any more.
              if (close(101) != 0) return 3;
              if (dup2(102, 300) != 300) return 4;
              if (CloseRange(102, 102, CLOSE_RANGE_CLOEXEC) != 0) return 5;
              return 0;
            }, CLONE_FILES),
            0);
  EXPECT_TRUE(IsOpen(100));
  EXPECT_TRUE(IsOpen(101));
  EXPECT_FALSE(IsCloexec(102));
  EXPECT_FALSE(IsOpen(300));
}

TEST(CloseRangeTest, UnshareWithCloexecLeavesTheSharerAlone) {
  Fds fds{100};
  EXPECT_EQ(InChild([] {
              if (CloseRange(100, 100,
                             CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0)
                return 1;
              return IsCloexec(100) ? 0 : 2;
            }, CLONE_FILES),
            0);
  EXPECT_FALSE(IsCloexec(100));
}

TEST(UmaskTest, TrimsTheModesOfNewFiles) {
  TempDir dir;
  ScopedUmask mask(027);
  const std::string creat_path = dir / "creat";
  int fd = syscall(SYS_creat, creat_path.c_str(), 0777);
  ASSERT_THAT(fd, SyscallSucceeds());
  close(fd);
  EXPECT_EQ(Lstat(creat_path).st_mode & 07777, 0750u);
  ASSERT_THAT(mkdir((dir / "d").c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "d").st_mode & 07777, 0750u);
  // mkdir keeps the sticky bit; the mask never adds bits.
  ASSERT_THAT(mkdir((dir / "sticky").c_str(), 01705), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "sticky").st_mode & 07777, 01700u);
  ASSERT_THAT(mknod((dir / "node").c_str(), S_IFREG | 0666, 0),
              SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "node").st_mode, S_IFREG | 0640u);
  // chmod is not masked.
  ASSERT_THAT(chmod(creat_path.c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(Lstat(creat_path).st_mode & 07777, 0777u);
}

TEST(UmaskTest, ZeroKeepsTheRequestedMode) {
  TempDir dir;
  ScopedUmask mask(0);
  FileDescriptor fd(open((dir / "f").c_str(), O_CREAT | O_WRONLY, 0666));
  ASSERT_THAT(fd.get(), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "f").st_mode & 07777, 0666u);
  ASSERT_THAT(mkdir((dir / "d").c_str(), 0777), SyscallSucceeds());
  EXPECT_EQ(Lstat(dir / "d").st_mode & 07777, 0777u);
}

TEST(UmaskTest, ReturnsTheOldMaskAndIsInheritedByFork) {
  ScopedUmask restore(0);
  EXPECT_THAT(syscall(SYS_umask, 0077), SyscallSucceedsWithValue(0));
  EXPECT_THAT(syscall(SYS_umask, 0077), SyscallSucceedsWithValue(0077));
  EXPECT_EQ(InChild([] {
              if (syscall(SYS_umask, 0) != 0077) return 1;
              return syscall(SYS_umask, 0) == 0 ? 0 : 2;
            }),
            0);
  // The child's change stayed in the child.
  EXPECT_THAT(syscall(SYS_umask, 0022), SyscallSucceedsWithValue(0077));
}

}  // namespace
