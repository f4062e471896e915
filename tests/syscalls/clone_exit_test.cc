// clone(2) children's ends: CLONE_VFORK (the parent waits for the exit or
// exec), CLONE_PARENT, the exit signal and wait's __WCLONE/__WALL, the
// ignored upper flag bits.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "clone_util.h"
#include "cpu_spin.h"
#include "test_util.h"

namespace clone_test {
namespace {

using syscall_test::ScopedBlock;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

std::atomic<long> g_value;

// Runs a few hundred syscalls (time for a parent that wrongly ran on to
// look), then stores 2 and exits 5.
CHILD_FN int SlowExit(void*, uintptr_t) {
  for (int i = 0; i < 300; i++) Sys(SYS_getppid);
  g_value.store(2);
  return 5;
}

TEST(CloneTest, VforkSuspendsTheParentUntilTheChildExits) {
  Stack stack;
  g_value = 1;
  std::atomic<int> tid{-1};
  long pid = Clone(CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID |
                       CLONE_CHILD_CLEARTID | SIGCHLD,
                   stack.top(), SlowExit, nullptr, Int(&tid), Int(&tid));
  ASSERT_THAT(pid, SyscallSucceeds());
  // The child has released the memory: its last store and the clearing of
  // its tid word are done.
  EXPECT_EQ(g_value.load(), 2);
  EXPECT_EQ(tid.load(), 0);
  EXPECT_EQ(ExitCode(pid), 5);
}

struct ExecArgs {
  int stdin_fd;
  const char* path;
  char** argv;
  char** envp;
};

CHILD_FN int DupAndExec(void* arg, uintptr_t) {
  auto* a = static_cast<ExecArgs*>(arg);
  if (Sys(SYS_dup2, a->stdin_fd, 0) < 0) return 126;
  Sys(SYS_execve, reinterpret_cast<long>(a->path),
      reinterpret_cast<long>(a->argv), reinterpret_cast<long>(a->envp));
  return 127;
}

// Run by VforkParentResumesWhenTheChildExecs in an exec'd copy of this
// binary (skipped otherwise): waits for EOF on stdin.
TEST(CloneTest, ExecHelperReadsStdin) {
  if (!getenv("CLONE_TEST_READ_STDIN")) GTEST_SKIP() << "only after an exec";
  char c;
  while (read(0, &c, 1) > 0) {
  }
}

// A CLONE_VM | CLONE_VFORK child (and `flags`) that execs this binary's
// ExecHelperReadsStdin with the read end of `p` as stdin. The arguments
// live here until the exec, which is as long as the parent waits.
long VforkExec(unsigned long flags, const int p[2]) {
  char name[] = "syscalls_clone";
  char filter[] = "--gtest_filter=CloneTest.ExecHelperReadsStdin";
  char env[] = "CLONE_TEST_READ_STDIN=1";
  char* argv[] = {name, filter, nullptr};
  char* envp[] = {env, nullptr};
  ExecArgs a = {p[0], "/proc/self/exe", argv, envp};
  Stack stack;  // the exec'd child no longer uses it
  return Clone(CLONE_VM | CLONE_VFORK | SIGCHLD | flags, stack.top(),
               DupAndExec, &a);
}

TEST(CloneTest, VforkParentResumesWhenTheChildExecs) {
  int p[2];
  ASSERT_THAT(pipe2(p, O_CLOEXEC), SyscallSucceeds());
  long pid = VforkExec(0, p);
  ASSERT_THAT(pid, SyscallSucceeds());
  // Back while the new program still waits for its stdin to end.
  EXPECT_THAT(waitpid(pid, nullptr, WNOHANG), SyscallSucceedsWithValue(0));
  close(p[1]);
  close(p[0]);
  EXPECT_EQ(ExitCode(pid), 0);
}

void Handler(int) {}

TEST(CloneTest, ExecLeavesASharedHandlerTable) {
  // The exec'd child's handlers go back to SIG_DFL in a table of its own
  // (Linux's unshare_sighand): ours stay.
  ScopedSigaction saved(SIGUSR2);
  ASSERT_THAT(SetHandler(SIGUSR2, Handler), SyscallSucceeds());
  int p[2];
  ASSERT_THAT(pipe2(p, O_CLOEXEC), SyscallSucceeds());
  long pid = VforkExec(CLONE_SIGHAND, p);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(HandlerOf(SIGUSR2), Handler);
  close(p[1]);
  close(p[0]);
  EXPECT_EQ(ExitCode(pid), 0);
}

int CheckPpid(void* arg, uintptr_t) {
  return getppid() == reinterpret_cast<intptr_t>(arg) ? 0 : 1;
}

TEST(CloneTest, ParentMakesASibling) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  const pid_t self = getpid();
  pid_t helper = fork();
  ASSERT_THAT(helper, SyscallSucceeds());
  if (helper == 0) {
    // Exit signal 0 asked, but a sibling reports as its creator does.
    long g = Clone(CLONE_PARENT, nullptr, CheckPpid,
                   reinterpret_cast<void*>(static_cast<intptr_t>(self)));
    if (g < 0) _exit(1);
    int gpid = static_cast<int>(g);
    if (write(p[1], &gpid, sizeof(gpid)) != sizeof(gpid)) _exit(2);
    // Not the helper's child.
    _exit(waitpid(gpid, nullptr, __WALL | WNOHANG) == -1 && errno == ECHILD
              ? 0
              : 3);
  }
  close(p[1]);
  int gpid = 0;
  EXPECT_EQ(read(p[0], &gpid, sizeof(gpid)), sizeof(gpid));
  close(p[0]);
  EXPECT_EQ(ExitCode(helper), 0);
  ASSERT_GT(gpid, 0);
  // Our child, reporting with SIGCHLD: wait needs no __WCLONE.
  EXPECT_EQ(ExitCode(gpid), 0);
}

// In the init of a pid namespace: CLONE_PARENT is EINVAL, from any of
// its threads, for a process or a thread (Linux: SIGNAL_UNKILLABLE).
int ParentFromInit() {
  auto einval = [](long r) { return r == -1 && errno == EINVAL; };
  if (!einval(Clone(CLONE_PARENT | SIGCHLD, nullptr, ExitZero))) return 1;
  Stack stack;
  if (!einval(Clone(CLONE_PARENT | CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
                    stack.top(), ExitZero)))
    return 2;
  clone_args a{};
  a.flags = CLONE_PARENT;
  a.exit_signal = SIGCHLD;
  if (!einval(Clone3(&a, sizeof(a), ExitZero))) return 3;
  int from_thread = 0;
  std::thread([&] {
    from_thread = einval(Clone(CLONE_PARENT | SIGCHLD, nullptr, ExitZero));
  }).join();
  if (!from_thread) return 4;
  // Without CLONE_PARENT all is well.
  long pid = Clone(SIGCHLD, nullptr, ExitZero);
  if (pid < 0) return 5;
  return ExitCode(pid) == 0 ? 0 : 6;
}

TEST(CloneTest, ParentFromInitIsEinval) {
  // runsc do runs us as its init; natively, a new pid namespace's init
  // does (creating one needs CAP_SYS_ADMIN).
  if (getpid() == 1) {
    EXPECT_EQ(ParentFromInit(), 0);
    return;
  }
  constexpr int kNoNamespace = 77;
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    if (unshare(CLONE_NEWPID) != 0) _exit(kNoNamespace);
    pid_t init = fork();
    if (init == 0) _exit(getpid() == 1 ? ParentFromInit() : 10);
    _exit(init > 0 ? ExitCode(init) : 11);
  }
  const int code = ExitCode(pid);
  if (code == kNoNamespace) GTEST_SKIP() << "cannot create a pid namespace";
  EXPECT_EQ(code, 0);
}

int Exit3(void*, uintptr_t) { return 3; }

TEST(CloneTest, ExitSignalIsTheLowByte) {
  ScopedBlock block({SIGUSR1, SIGCHLD});
  long pid = Clone(SIGUSR1, nullptr, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  // Not SIGCHLD: a "clone" child, waited for with __WCLONE or __WALL only.
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  siginfo_t si = {};
  EXPECT_THAT(waitid(P_PID, pid, &si, WEXITED | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(pid, __WCLONE), 3);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_THAT(sigwaitinfo(&usr1, &si), SyscallSucceedsWithValue(SIGUSR1));
  EXPECT_EQ(si.si_code, CLD_EXITED);
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, 3);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGCHLD));
}

TEST(CloneTest, ExitSignalZeroNeedsWcloneOrWall) {
  ScopedBlock block({SIGCHLD});
  long pid = Clone(0, nullptr, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(pid, __WALL), 3);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGCHLD));
  // And __WCLONE skips SIGCHLD children.
  pid = Clone(SIGCHLD, nullptr, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(waitpid(pid, nullptr, __WCLONE), SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(pid), 3);
}

TEST(CloneTest, LegacyExitSignalIsNotChecked) {
  // clone(2) takes any low byte (clone3 refuses what is not a signal); at
  // exit, nothing is sent.
  long pid = Clone(100, nullptr, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid, __WCLONE), 3);
}

int HandlerKept(void* arg, uintptr_t) {
  return HandlerOf(SIGUSR2) == reinterpret_cast<void (*)(int)>(arg) ? 0 : 1;
}

TEST(CloneTest, UpperFlagBitsAreIgnored) {
  // clone(2) keeps only the low 32 bits: bit 32 is clone3's
  // CLONE_CLEAR_SIGHAND and must not act here.
  ScopedSigaction saved(SIGUSR2);
  ASSERT_THAT(SetHandler(SIGUSR2, Handler), SyscallSucceeds());
  long pid = Clone(CLONE_CLEAR_SIGHAND | SIGCHLD, nullptr, HandlerKept,
                   reinterpret_cast<void*>(Handler));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
}

}  // namespace
}  // namespace clone_test
