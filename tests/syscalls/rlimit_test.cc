// getrlimit/setrlimit/prlimit64 (all called directly; glibc maps the first
// two onto prlimit64): consistency, lowering and restoring the soft
// RLIMIT_NOFILE and its effect on new descriptors, and errors.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

long RawGetrlimit(int res, struct rlimit* rl) {
  return syscall(SYS_getrlimit, res, rl);
}
long RawSetrlimit(int res, const struct rlimit* rl) {
  return syscall(SYS_setrlimit, res, rl);
}
long RawPrlimit(pid_t pid, int res, const struct rlimit* new_rl,
                struct rlimit* old_rl) {
  return syscall(SYS_prlimit64, pid, res, new_rl, old_rl);
}

// Larger than PID_MAX_LIMIT (4M), so no process ever has it.
constexpr pid_t kNoSuchPid = 0x3fffffff;

TEST(GetrlimitTest, EveryResourceHasSoftAtMostHard) {
  for (int res = 0; res < RLIMIT_NLIMITS; ++res) {
    SCOPED_TRACE(res);
    struct rlimit rl;
    ASSERT_THAT(RawGetrlimit(res, &rl), SyscallSucceeds());
    EXPECT_LE(rl.rlim_cur, rl.rlim_max);  // RLIM_INFINITY is the maximum.
  }
}

TEST(GetrlimitTest, NofileAndStackAgreeWithPrlimit) {
  for (int res : {RLIMIT_NOFILE, RLIMIT_STACK}) {
    SCOPED_TRACE(res);
    struct rlimit a, b, c;
    ASSERT_THAT(RawGetrlimit(res, &a), SyscallSucceeds());
    ASSERT_THAT(RawPrlimit(0, res, nullptr, &b), SyscallSucceeds());
    ASSERT_THAT(RawPrlimit(getpid(), res, nullptr, &c), SyscallSucceeds());
    EXPECT_EQ(a.rlim_cur, b.rlim_cur);
    EXPECT_EQ(a.rlim_max, b.rlim_max);
    EXPECT_EQ(a.rlim_cur, c.rlim_cur);
    EXPECT_EQ(a.rlim_max, c.rlim_max);
  }
  struct rlimit nofile;
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &nofile), SyscallSucceeds());
  EXPECT_GE(nofile.rlim_cur, 3u);             // stdin, stdout and stderr fit.
  EXPECT_NE(nofile.rlim_max, RLIM_INFINITY);  // Bounded by fs.nr_open.
}

TEST(GetrlimitTest, Errors) {
  struct rlimit rl;
  EXPECT_THAT(RawGetrlimit(Opaque(1000), &rl), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawGetrlimit(RLIMIT_NOFILE, BadAddress<struct rlimit>()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(RawPrlimit(kNoSuchPid, RLIMIT_NOFILE, nullptr, &rl),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(RawPrlimit(0, Opaque(1000), nullptr, &rl),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawPrlimit(0, RLIMIT_NOFILE, nullptr, nullptr),
              SyscallSucceeds());
}

// Saves RLIMIT_NOFILE and puts the soft limit back afterwards (raising the
// soft limit up to the unchanged hard limit needs no privilege).
class NofileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &saved_), SyscallSucceeds());
    saved_ok_ = true;
    if (saved_.rlim_cur <= 64) GTEST_SKIP() << "soft RLIMIT_NOFILE <= 64";
  }
  void TearDown() override {
    if (saved_ok_) {
      EXPECT_THAT(RawSetrlimit(RLIMIT_NOFILE, &saved_), SyscallSucceeds());
    }
  }
  struct rlimit saved_;
  bool saved_ok_ = false;
};

TEST_F(NofileTest, LowerSoftLimitReadBackAndRestore) {
  const struct rlimit lower = {64, saved_.rlim_max};
  ASSERT_THAT(RawSetrlimit(RLIMIT_NOFILE, &lower), SyscallSucceeds());
  struct rlimit got;
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &got), SyscallSucceeds());
  EXPECT_EQ(got.rlim_cur, 64u);
  EXPECT_EQ(got.rlim_max, saved_.rlim_max);
  ASSERT_THAT(RawSetrlimit(RLIMIT_NOFILE, &saved_), SyscallSucceeds());
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &got), SyscallSucceeds());
  EXPECT_EQ(got.rlim_cur, saved_.rlim_cur);
}

TEST_F(NofileTest, LoweredSoftLimitBoundsNewDescriptors) {
  FileDescriptor fd = OpenOrFail("/dev/null", O_RDONLY);
  ASSERT_LT(fd.get(), 64);
  const struct rlimit lower = {64, saved_.rlim_max};
  ASSERT_THAT(RawSetrlimit(RLIMIT_NOFILE, &lower), SyscallSucceeds());
  EXPECT_THAT(fcntl(fd.get(), F_DUPFD, 64), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(dup2(fd.get(), 64), SyscallFailsWithErrno(EBADF));
  FileDescriptor low(fcntl(fd.get(), F_DUPFD, 63));
  EXPECT_THAT(low.get(), SyscallSucceedsWithValue(63));
}

TEST_F(NofileTest, PrlimitSetsAndReturnsPreviousInOneCall) {
  const struct rlimit lower = {64, saved_.rlim_max};
  struct rlimit old;
  ASSERT_THAT(RawPrlimit(0, RLIMIT_NOFILE, &lower, &old), SyscallSucceeds());
  EXPECT_EQ(old.rlim_cur, saved_.rlim_cur);
  EXPECT_EQ(old.rlim_max, saved_.rlim_max);
  struct rlimit got;
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &got), SyscallSucceeds());
  EXPECT_EQ(got.rlim_cur, 64u);
}

TEST_F(NofileTest, SoftAboveHardIsEinval) {
  const struct rlimit bad = {saved_.rlim_max + 1, saved_.rlim_max};
  EXPECT_THAT(RawSetrlimit(RLIMIT_NOFILE, &bad), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawPrlimit(0, RLIMIT_NOFILE, &bad, nullptr),
              SyscallFailsWithErrno(EINVAL));
  struct rlimit got;
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &got), SyscallSucceeds());
  EXPECT_EQ(got.rlim_cur, saved_.rlim_cur);
}

// No one, not even root, may raise RLIMIT_NOFILE's hard limit above
// fs.nr_open, which is far below RLIM_INFINITY.
TEST_F(NofileTest, InfiniteHardLimitIsEperm) {
  const struct rlimit inf = {saved_.rlim_cur, RLIM_INFINITY};
  EXPECT_THAT(RawSetrlimit(RLIMIT_NOFILE, &inf), SyscallFailsWithErrno(EPERM));
}

TEST(SetrlimitTest, Errors) {
  struct rlimit rl;
  ASSERT_THAT(RawGetrlimit(RLIMIT_NOFILE, &rl), SyscallSucceeds());
  EXPECT_THAT(RawSetrlimit(Opaque(1000), &rl), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawSetrlimit(RLIMIT_NOFILE, BadAddress<struct rlimit>()),
              SyscallFailsWithErrno(EFAULT));
}

// prlimit64 on another process: its limits, not the caller's; another
// user's process needs CAP_SYS_RESOURCE.
TEST(PrlimitTest, AnotherProcess) {
  int release[2];
  ASSERT_THAT(pipe(release), SyscallSucceeds());
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(release[1]);
    _exit(read(release[0], &c, 1) == 0 ? 0 : 1);
  }
  ASSERT_THAT(child, SyscallSucceeds());
  close(release[0]);
  struct rlimit mine, theirs;
  ASSERT_THAT(RawPrlimit(0, RLIMIT_CORE, nullptr, &mine), SyscallSucceeds());
  const struct rlimit lower = {0, mine.rlim_max};
  EXPECT_THAT(RawPrlimit(child, RLIMIT_CORE, &lower, &theirs),
              SyscallSucceeds());
  EXPECT_EQ(theirs.rlim_cur, mine.rlim_cur);
  ASSERT_THAT(RawPrlimit(child, RLIMIT_CORE, nullptr, &theirs),
              SyscallSucceeds());
  EXPECT_EQ(theirs.rlim_cur, 0u);
  struct rlimit again;
  ASSERT_THAT(RawPrlimit(0, RLIMIT_CORE, nullptr, &again), SyscallSucceeds());
  EXPECT_EQ(again.rlim_cur, mine.rlim_cur);
  EXPECT_THAT(RawPrlimit(-1, RLIMIT_CORE, nullptr, &theirs),
              SyscallFailsWithErrno(ESRCH));
  if (getuid() == 0) {
    // An unprivileged process may not touch root's limits.
    const pid_t parent = getpid();
    pid_t other = fork();
    if (other == 0) {
      struct rlimit r;
      if (setresuid(65534, 65534, 65534) != 0) _exit(1);
      _exit(RawPrlimit(parent, RLIMIT_CORE, nullptr, &r) == -1 &&
                    errno == EPERM
                ? 0
                : 2);
    }
    int status;
    ASSERT_EQ(waitpid(other, &status, 0), other);
    EXPECT_EQ(status, 0);
  }
  close(release[1]);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

}  // namespace
}  // namespace syscall_test
