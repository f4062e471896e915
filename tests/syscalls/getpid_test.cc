// getpid/gettid/getppid and the uid/gid getters of a single-threaded,
// non-setuid process.
#include <sys/syscall.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

TEST(GetpidTest, PositiveAndStable) {
  const pid_t pid = getpid();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(syscall(SYS_getpid), pid);
  EXPECT_EQ(getpid(), pid);
}

TEST(GetpidTest, MainThreadTidIsPid) {
  EXPECT_THAT(syscall(SYS_gettid), SyscallSucceedsWithValue(getpid()));
}

// A pid namespace's init has parent 0, so only "not negative" is portable,
// and the parent is never the process itself.
TEST(GetpidTest, ParentPid) {
  const long ppid = syscall(SYS_getppid);
  EXPECT_GE(ppid, 0);
  EXPECT_NE(ppid, getpid());
  EXPECT_EQ(syscall(SYS_getppid), ppid);
}

TEST(GetuidTest, RealAndEffectiveIdsAgree) {
  // Test binaries are not setuid/setgid, so real and effective ids match.
  const long uid = syscall(SYS_getuid);
  const long gid = syscall(SYS_getgid);
  EXPECT_GE(uid, 0);
  EXPECT_GE(gid, 0);
  EXPECT_EQ(syscall(SYS_geteuid), uid);
  EXPECT_EQ(syscall(SYS_getegid), gid);
  EXPECT_EQ(getuid(), static_cast<uid_t>(uid));
  EXPECT_EQ(getgid(), static_cast<gid_t>(gid));
}

}  // namespace
}  // namespace syscall_test
