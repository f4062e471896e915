// get_robust_list(2) of the caller, another thread, another process and a
// zombie, with Linux's permission check (ptrace read: the same uids and
// gids and a dumpable target, or CAP_SYS_PTRACE; else EPERM).
#include <linux/capability.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "cap_util.h"
#include "test_util.h"

namespace {

using syscall_test::DropEffectiveCap;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

robust_list_head g_head;  // at the same address in forked children

long GetRobustList(pid_t pid, void** head, size_t* len) {
  return syscall(SYS_get_robust_list, pid, head, len);
}

// The head `pid` registered, or nullptr with errno set.
void* HeadOf(pid_t pid) {
  void* head = reinterpret_cast<void*>(1);
  size_t len = 0;
  if (GetRobustList(pid, &head, &len) != 0) return nullptr;
  return len == sizeof(robust_list_head) ? head : nullptr;
}

TEST(GetRobustListTest, OwnListAndAnotherThreads) {
  void* own = nullptr;
  size_t len = 0;
  ASSERT_THAT(GetRobustList(0, &own, &len), SyscallSucceeds());
  EXPECT_EQ(len, sizeof(robust_list_head));
  EXPECT_EQ(HeadOf(getpid()), own);  // the main thread's id is the pid
  std::atomic<int> tid{0}, go{0};
  std::thread t([&] {
    syscall(SYS_set_robust_list, &g_head, sizeof(g_head));
    tid.store(syscall(SYS_gettid));
    syscall(SYS_futex, &tid, FUTEX_WAKE_PRIVATE, 1);
    while (go.load() == 0)
      syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, nullptr);
  });
  while (tid.load() == 0)
    syscall(SYS_futex, &tid, FUTEX_WAIT_PRIVATE, 0, nullptr);
  EXPECT_EQ(HeadOf(tid.load()), &g_head);
  go.store(1);
  syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1);
  t.join();
}

TEST(GetRobustListTest, UnknownIdIsEsrch) {
  void* head;
  size_t len;
  EXPECT_THAT(GetRobustList(-1, &head, &len), SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(GetRobustList(1 << 23, &head, &len),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(GetRobustList(0, syscall_test::BadAddress<void*>(), &len),
              SyscallFailsWithErrno(EFAULT));
}

// A child that registers g_head and sets its dumpable flag, then waits
// until Finish().
struct Target {
  pid_t pid = -1;
  int release = -1;
  explicit Target(int dumpable, uid_t uid = getuid()) {
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) return;
    pid = fork();
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      if (uid != getuid() && setresuid(uid, uid, uid) != 0) _exit(1);
      syscall(SYS_set_robust_list, &g_head, sizeof(g_head));
      if (prctl(PR_SET_DUMPABLE, dumpable) != 0) _exit(2);
      close(ready[1]);
      char c;
      _exit(read(go[0], &c, 1) == 0 ? 0 : 3);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    if (read(ready[0], &c, 1) != 0) pid = -1;
    close(ready[0]);
    release = go[1];
  }
  int Finish() {
    close(release);
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
  }
};

TEST(GetRobustListTest, AnotherProcessOfTheSameUser) {
  Target t(/*dumpable=*/1);
  ASSERT_GT(t.pid, 0);
  EXPECT_EQ(HeadOf(t.pid), &g_head);
  // Without CAP_SYS_PTRACE too.
  EXPECT_EQ(syscall_test::InChild([&] {
              if (!DropEffectiveCap(CAP_SYS_PTRACE)) return 1;
              return HeadOf(t.pid) == &g_head ? 0 : 2;
            }),
            0);
  EXPECT_EQ(t.Finish(), 0);
}

TEST(GetRobustListTest, NotDumpableNeedsCapSysPtrace) {
  Target t(/*dumpable=*/0);
  ASSERT_GT(t.pid, 0);
  EXPECT_EQ(syscall_test::InChild([&] {
              if (!DropEffectiveCap(CAP_SYS_PTRACE)) return 1;
              void* head;
              size_t len;
              if (GetRobustList(t.pid, &head, &len) != -1) return 2;
              return errno == EPERM ? 0 : 3;
            }),
            0);
  if (getuid() == 0) EXPECT_EQ(HeadOf(t.pid), &g_head);  // CAP_SYS_PTRACE
  EXPECT_EQ(t.Finish(), 0);
}

TEST(GetRobustListTest, AnotherUserNeedsCapSysPtrace) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become another user";
  Target t(/*dumpable=*/1);  // root's
  ASSERT_GT(t.pid, 0);
  EXPECT_EQ(syscall_test::InChild([&] {
              if (setresuid(65534, 65534, 65534) != 0) return 1;
              void* head;
              size_t len;
              if (GetRobustList(t.pid, &head, &len) != -1) return 2;
              return errno == EPERM ? 0 : 3;
            }),
            0);
  // Root reads a dumpable process of another user's.
  Target nobody(/*dumpable=*/1, 65534);
  ASSERT_GT(nobody.pid, 0);
  EXPECT_EQ(HeadOf(nobody.pid), &g_head);
  EXPECT_EQ(nobody.Finish(), 0);
  EXPECT_EQ(t.Finish(), 0);
}

TEST(GetRobustListTest, AZombieHasNone) {
  pid_t pid = fork();
  if (pid == 0) {
    syscall(SYS_set_robust_list, &g_head, sizeof(g_head));
    _exit(0);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  siginfo_t info{};
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), SyscallSucceeds());
  void* head = &g_head;
  size_t len = 0;
  EXPECT_THAT(GetRobustList(pid, &head, &len), SyscallSucceeds());
  EXPECT_EQ(head, nullptr);
  EXPECT_EQ(len, sizeof(robust_list_head));
  ASSERT_THAT(waitpid(pid, nullptr, 0), SyscallSucceeds());
}

}  // namespace
