// clone(2): what CLONE_VM/FS/FILES/SIGHAND share or copy, SETTLS, the tid
// words, invalid flag combinations.
#include <asm/prctl.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "clone_util.h"
#include "temp_dir.h"
#include "test_util.h"


namespace clone_test {
namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using syscall_test::TempDir;

std::atomic<long> g_value;

CHILD_FN int StoreValue(void* arg, uintptr_t) {
  g_value.store(reinterpret_cast<intptr_t>(arg));
  return 0;
}

TEST(CloneTest, VmSharesMemory) {
  Stack stack;
  ASSERT_TRUE(stack.ok());
  g_value = 1;
  long pid = Clone(CLONE_VM | SIGCHLD, stack.top(), StoreValue,
                   reinterpret_cast<void*>(2));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_value.load(), 2);
}

TEST(CloneTest, WithoutVmMemoryIsCopied) {
  g_value = 1;
  long pid =
      Clone(SIGCHLD, nullptr, StoreValue, reinterpret_cast<void*>(2));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_value.load(), 1);
}

// Restores the cwd and umask a test changes.
class FsRestorer {
 public:
  FsRestorer() : cwd_(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    umask_ = umask(022);
  }
  ~FsRestorer() {
    umask(umask_);
    if (cwd_ >= 0) {
      EXPECT_THAT(fchdir(cwd_), SyscallSucceeds());
    }
    close(cwd_);
  }

 private:
  int cwd_;
  mode_t umask_;
};

// A child with memory of its own (glibc is safe): umask 027, chdir(arg).
int ChangeFs(void* arg, uintptr_t) {
  umask(027);
  return chdir(static_cast<const char*>(arg)) == 0 ? 0 : 1;
}

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) ? buf : "";
}

TEST(CloneTest, FsSharesUmaskAndCwd) {
  TempDir dir;
  FsRestorer restore;
  long pid = Clone(CLONE_FS | SIGCHLD, nullptr, ChangeFs,
                   const_cast<char*>(dir.path().c_str()));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(umask(022), 027);
  EXPECT_EQ(Cwd(), dir.path());
}

TEST(CloneTest, WithoutFsUmaskAndCwdAreCopied) {
  TempDir dir;
  FsRestorer restore;
  const std::string before = Cwd();
  long pid = Clone(SIGCHLD, nullptr, ChangeFs,
                   const_cast<char*>(dir.path().c_str()));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(umask(022), 022);
  EXPECT_EQ(Cwd(), before);
}

// Opens /dev/null, closes fd `arg`, and exits with the new fd's number.
int OpenOneCloseOne(void* arg, uintptr_t) {
  int fd = open("/dev/null", O_RDONLY);
  close(static_cast<int>(reinterpret_cast<intptr_t>(arg)));
  return fd;
}

TEST(CloneTest, FilesSharesTheFdTable) {
  int victim = open("/dev/null", O_RDONLY);
  ASSERT_THAT(victim, SyscallSucceeds());
  long pid = Clone(CLONE_FILES | SIGCHLD, nullptr, OpenOneCloseOne,
                   reinterpret_cast<void*>(victim));
  ASSERT_THAT(pid, SyscallSucceeds());
  int opened = ExitCode(pid);
  ASSERT_GE(opened, 0);
  EXPECT_THAT(fcntl(opened, F_GETFD), SyscallSucceeds());
  EXPECT_THAT(fcntl(victim, F_GETFD), SyscallFailsWithErrno(EBADF));
  close(opened);
}

TEST(CloneTest, WithoutFilesTheFdTableIsCopied) {
  int victim = open("/dev/null", O_RDONLY);
  ASSERT_THAT(victim, SyscallSucceeds());
  long pid = Clone(SIGCHLD, nullptr, OpenOneCloseOne,
                   reinterpret_cast<void*>(victim));
  ASSERT_THAT(pid, SyscallSucceeds());
  int opened = ExitCode(pid);
  ASSERT_GE(opened, 0);
  EXPECT_THAT(fcntl(opened, F_GETFD), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(victim, F_GETFD), SyscallSucceeds());
  close(victim);
}

struct KSigaction {
  uint64_t handler, flags, restorer, mask;
};

// Sets SIGUSR2 to SIG_IGN; exits 0 if its old handler was `arg` (with
// SA_RESTART), 1 otherwise.
CHILD_FN int IgnoreSigusr2(void* arg, uintptr_t) {
  KSigaction ign = {.handler = 1}, old = {};
  if (Sys(SYS_rt_sigaction, SIGUSR2, reinterpret_cast<long>(&ign),
          reinterpret_cast<long>(&old), 8) != 0)
    return 2;
  return old.handler == reinterpret_cast<uint64_t>(arg) &&
                 (old.flags & SA_RESTART)
             ? 0
             : 1;
}

void Handler(int) {}

TEST(CloneTest, SighandSharesDispositions) {
  ScopedSigaction saved(SIGUSR2);
  ASSERT_THAT(SetHandler(SIGUSR2, Handler, SA_RESTART), SyscallSucceeds());
  Stack stack;
  long pid = Clone(CLONE_VM | CLONE_SIGHAND | SIGCHLD, stack.top(),
                   IgnoreSigusr2, reinterpret_cast<void*>(Handler));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(HandlerOf(SIGUSR2), SIG_IGN);
}

TEST(CloneTest, WithoutSighandDispositionsAreCopied) {
  ScopedSigaction saved(SIGUSR2);
  ASSERT_THAT(SetHandler(SIGUSR2, Handler, SA_RESTART), SyscallSucceeds());
  Stack stack;
  long pid = Clone(CLONE_VM | SIGCHLD, stack.top(), IgnoreSigusr2,
                   reinterpret_cast<void*>(Handler));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(HandlerOf(SIGUSR2), Handler);
}

// A clone that must fail. A child made anyway exits at once and is reaped
// (a thread through its CLEARTID word).
void ExpectCloneFails(unsigned long flags, int err, unsigned long tls = 0) {
  Stack stack;
  std::atomic<int> tid{-1};
  if (flags & CLONE_VM) flags |= CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  long r = Clone(flags, stack.top(), ExitZero, nullptr, Int(&tid), Int(&tid),
                 tls);
  EXPECT_THAT(r, SyscallFailsWithErrno(err)) << "flags " << std::hex << flags;
  if (r <= 0) return;
  if (flags & CLONE_THREAD)
    AwaitTidClear(&tid);
  else
    waitpid(r, nullptr, __WALL);
}

TEST(CloneTest, SharingRulesAreEinval) {
  ExpectCloneFails(CLONE_SIGHAND | SIGCHLD, EINVAL);  // SIGHAND needs VM
  ExpectCloneFails(CLONE_THREAD | CLONE_VM, EINVAL);  // THREAD needs SIGHAND
  ExpectCloneFails(CLONE_THREAD | CLONE_SIGHAND, EINVAL);
  ExpectCloneFails(CLONE_NEWNS | CLONE_FS | SIGCHLD, EINVAL);
  ExpectCloneFails(CLONE_NEWUSER | CLONE_FS | SIGCHLD, EINVAL);
  // A thread cannot move to a new user or pid namespace.
  const unsigned long thread = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
  ExpectCloneFails(thread | CLONE_NEWPID, EINVAL);
  ExpectCloneFails(thread | CLONE_NEWUSER, EINVAL);
}

TEST(CloneTest, NewPidNamespaceNeedsPrivilege) {
  if (geteuid() == 0) GTEST_SKIP() << "root may create pid namespaces";
  ExpectCloneFails(CLONE_NEWPID | SIGCHLD, EPERM);
}

uint64_t g_fs;
CHILD_FN int RecordFs(void*, uintptr_t) {
  return Sys(SYS_arch_prctl, ARCH_GET_FS, reinterpret_cast<long>(&g_fs)) == 0
             ? 0
             : 1;
}

TEST(CloneTest, SettlsSetsTheChildsFsBase) {
  static char tls_block[64];
  uint64_t mine = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &mine), SyscallSucceeds());
  Stack stack;
  g_fs = 0;
  long pid = Clone(CLONE_VM | CLONE_SETTLS | SIGCHLD, stack.top(), RecordFs,
                   nullptr, nullptr, nullptr,
                   reinterpret_cast<unsigned long>(tls_block));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_fs, reinterpret_cast<uint64_t>(tls_block));
  // Without the flag the child has the parent's.
  pid = Clone(CLONE_VM | SIGCHLD, stack.top(), RecordFs, nullptr, nullptr,
              nullptr, reinterpret_cast<unsigned long>(tls_block));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_fs, mine);
}

TEST(CloneTest, SettlsOutsideUserSpaceIsEperm) {
  ExpectCloneFails(CLONE_SETTLS | SIGCHLD, EPERM, 1ul << 63);
}

std::atomic<int> g_ptid, g_ctid;

// In its own copy of memory: CHILD_SETTID wrote there, PARENT_SETTID not.
int CheckTidsInCopy(void*, uintptr_t) {
  return (g_ctid.load() == gettid() ? 0 : 1) | (g_ptid.load() == 0 ? 0 : 2);
}

TEST(CloneTest, SettidWritesInParentOrChildMemory) {
  g_ptid = 0;
  g_ctid = 0;
  long pid = Clone(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD,
                   nullptr, CheckTidsInCopy, nullptr, Int(&g_ptid),
                   Int(&g_ctid));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_ptid.load(), pid);
  EXPECT_EQ(g_ctid.load(), 0);
}

CHILD_FN int CheckTidsShared(void*, uintptr_t) {
  long tid = Sys(SYS_gettid);
  return g_ctid.load() == tid && g_ptid.load() == tid ? 0 : 1;
}

TEST(CloneTest, SettidWithSharedMemory) {
  Stack stack;
  g_ptid = 0;
  g_ctid = 0;
  long pid = Clone(CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
                       SIGCHLD,
                   stack.top(), CheckTidsShared, nullptr, Int(&g_ptid),
                   Int(&g_ctid));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_ptid.load(), pid);
  EXPECT_EQ(g_ctid.load(), pid);
}

}  // namespace
}  // namespace clone_test
