// clone3(2): struct clone_args sizes and tail, exit_signal, flag rules,
// stack and stack_size, set_tid, the tid words, TLS, CLONE_CLEAR_SIGHAND.
#include <asm/prctl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "clone_util.h"
#include "cpu_spin.h"
#include "test_util.h"

namespace clone_test {
namespace {

using syscall_test::ScopedBlock;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;

constexpr size_t kPage = 4096;

// Two pages for args larger than struct clone_args; the tail is zero.
struct ArgsPage {
  alignas(kPage) unsigned char bytes[2 * kPage] = {};
  clone_args* Set(const clone_args& a) {
    memset(bytes, 0, sizeof(bytes));
    memcpy(bytes, &a, sizeof(a));
    return reinterpret_cast<clone_args*>(bytes);
  }
};

// A clone3 that must fail. A child made anyway exits at once and is reaped
// (a thread through its CLEARTID word, for which the caller gives a stack).
void ExpectFails(clone_args a, size_t size, int err) {
  static ArgsPage page;
  std::atomic<int> tid{-1};
  if (a.flags & CLONE_VM) {
    a.flags |= CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    a.parent_tid = a.child_tid = reinterpret_cast<uintptr_t>(&tid);
  }
  long r = Clone3(page.Set(a), size, ExitZero);
  EXPECT_THAT(r, SyscallFailsWithErrno(err))
      << "flags " << std::hex << a.flags << " exit_signal " << a.exit_signal
      << " size " << std::dec << size;
  if (r <= 0) return;
  if (a.flags & CLONE_THREAD)
    AwaitTidClear(&tid);
  else
    waitpid(r, nullptr, __WALL);
}

// A fork through clone3 with args of `size` bytes; the child exits 3.
int Exit3(void*, uintptr_t) { return 3; }
void ExpectForks(const clone_args& a, size_t size) {
  static ArgsPage page;
  long pid = Clone3(page.Set(a), size, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds()) << "size " << size;
  EXPECT_EQ(ExitCode(pid), 3);
}

TEST(Clone3Test, SizeBelowVersion0IsEinval) {
  const clone_args a = {.exit_signal = SIGCHLD};
  for (size_t size : {0, 8, 56, CLONE_ARGS_SIZE_VER0 - 1})
    ExpectFails(a, size, EINVAL);
}

TEST(Clone3Test, KnownSizesAndZeroTailsAreAccepted) {
  const clone_args a = {.exit_signal = SIGCHLD};
  for (size_t size : {size_t{CLONE_ARGS_SIZE_VER0}, size_t{CLONE_ARGS_SIZE_VER1},
                      size_t{CLONE_ARGS_SIZE_VER2}, sizeof(clone_args) + 8,
                      kPage})
    ExpectForks(a, size);
}

TEST(Clone3Test, SizeAboveAPageIsE2big) {
  const clone_args a = {.exit_signal = SIGCHLD};
  ExpectFails(a, kPage + 1, E2BIG);
  ExpectFails(a, 2 * kPage, E2BIG);
}

TEST(Clone3Test, NonzeroTailIsE2big) {
  static ArgsPage page;
  clone_args* args = page.Set({.exit_signal = SIGCHLD});
  page.bytes[kPage - 1] = 1;
  long r = Clone3(args, kPage, ExitZero);
  EXPECT_THAT(r, SyscallFailsWithErrno(E2BIG));
  if (r > 0) waitpid(r, nullptr, __WALL);
}

TEST(Clone3Test, UnreadableArgsAreEfault) {
  EXPECT_THAT(Clone3(syscall_test::BadAddress<clone_args>(),
                     CLONE_ARGS_SIZE_VER0, ExitZero),
              SyscallFailsWithErrno(EFAULT));
  // The struct runs into an unmapped page.
  char* p = static_cast<char*>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_THAT(munmap(p + kPage, kPage), SyscallSucceeds());
  auto* a = reinterpret_cast<clone_args*>(p + kPage - 32);
  memset(a, 0, 32);
  EXPECT_THAT(Clone3(a, CLONE_ARGS_SIZE_VER0, ExitZero),
              SyscallFailsWithErrno(EFAULT));
  munmap(p, kPage);
}

TEST(Clone3Test, ExitSignal) {
  ScopedBlock block({SIGUSR1, SIGCHLD});
  static ArgsPage page;
  // SIGCHLD: an ordinary child.
  ExpectForks({.exit_signal = SIGCHLD}, CLONE_ARGS_SIZE_VER0);
  // Another signal: only __WCLONE waits for it, and the signal is sent.
  long pid = Clone3(page.Set({.exit_signal = SIGUSR1}), CLONE_ARGS_SIZE_VER0,
                    Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(pid, __WCLONE), 3);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  siginfo_t si = {};
  ASSERT_THAT(sigwaitinfo(&usr1, &si), SyscallSucceeds());
  EXPECT_EQ(si.si_pid, pid);
  EXPECT_EQ(si.si_status, 3);
  // None: __WALL.
  pid = Clone3(page.Set({}), CLONE_ARGS_SIZE_VER0, Exit3);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_THAT(waitpid(pid, nullptr, 0), SyscallFailsWithErrno(ECHILD));
  EXPECT_EQ(ExitCode(pid, __WALL), 3);
}

TEST(Clone3Test, ExitSignalMustBeASignal) {
  for (uint64_t sig : {uint64_t{_NSIG + 1}, uint64_t{0xff}, uint64_t{0x100},
                       (uint64_t{1} << 32) | SIGCHLD})
    ExpectFails({.exit_signal = sig}, CLONE_ARGS_SIZE_VER0, EINVAL);
}

TEST(Clone3Test, FlagRulesAreEinval) {
  const size_t v0 = CLONE_ARGS_SIZE_VER0;
  // No signal in flags, no CLONE_DETACHED, no unknown bits.
  ExpectFails({.flags = SIGCHLD}, v0, EINVAL);
  ExpectFails({.flags = CLONE_DETACHED, .exit_signal = SIGCHLD}, v0, EINVAL);
  ExpectFails({.flags = uint64_t{1} << 40, .exit_signal = SIGCHLD}, v0,
              EINVAL);
  // Threads and siblings take no exit signal.
  ExpectFails({.flags = CLONE_PARENT, .exit_signal = SIGCHLD}, v0, EINVAL);
  Stack stack;
  ExpectFails({.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM,
               .exit_signal = SIGCHLD,
               .stack = reinterpret_cast<uintptr_t>(stack.base()),
               .stack_size = Stack::kSize},
              v0, EINVAL);
  // Sharing the handlers and clearing them.
  ExpectFails({.flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND,
               .stack = reinterpret_cast<uintptr_t>(stack.base()),
               .stack_size = Stack::kSize},
              v0, EINVAL);
  // CLONE_INTO_CGROUP needs the cgroup field (version 2) holding an int.
  ExpectFails({.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD}, v0,
              EINVAL);
  ExpectFails({.flags = CLONE_INTO_CGROUP,
               .exit_signal = SIGCHLD,
               .cgroup = uint64_t{1} << 32},
              CLONE_ARGS_SIZE_VER2, EINVAL);
}

TEST(Clone3Test, StackNeedsASizeAndASizeAStack) {
  const size_t v0 = CLONE_ARGS_SIZE_VER0;
  Stack stack;
  const uint64_t base = reinterpret_cast<uintptr_t>(stack.base());
  ExpectFails({.exit_signal = SIGCHLD, .stack_size = kPage}, v0, EINVAL);
  ExpectFails({.exit_signal = SIGCHLD, .stack = base}, v0, EINVAL);
  // Not a user address, or wrapping around.
  ExpectFails({.exit_signal = SIGCHLD, .stack = 1ull << 63, .stack_size = 64},
              v0, EINVAL);
  ExpectFails({.exit_signal = SIGCHLD, .stack = ~0ull - 16, .stack_size = 64},
              v0, EINVAL);
}

std::atomic<uintptr_t> g_rsp;
CHILD_FN int RecordRsp(void*, uintptr_t rsp) {
  g_rsp.store(rsp);
  return 0;
}

TEST(Clone3Test, ChildStartsAtStackPlusSize) {
  Stack stack;
  static ArgsPage page;
  g_rsp = 0;
  long pid = Clone3(page.Set({.flags = CLONE_VM,
                              .exit_signal = SIGCHLD,
                              .stack = reinterpret_cast<uintptr_t>(stack.base()),
                              .stack_size = Stack::kSize}),
                    CLONE_ARGS_SIZE_VER0, RecordRsp);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_rsp.load(), reinterpret_cast<uintptr_t>(stack.top()));
}

TEST(Clone3Test, SetTidChecks) {
  const size_t v1 = CLONE_ARGS_SIZE_VER1;  // set_tid is new in version 1
  pid_t tids[33] = {};
  const uint64_t p = reinterpret_cast<uintptr_t>(tids);
  // At most one per pid namespace level (32), and pointer and size agree.
  ExpectFails({.exit_signal = SIGCHLD, .set_tid = p, .set_tid_size = 33}, v1,
              EINVAL);
  ExpectFails({.exit_signal = SIGCHLD, .set_tid_size = 1}, v1, EINVAL);
  ExpectFails({.exit_signal = SIGCHLD, .set_tid = p}, v1, EINVAL);
  ExpectFails({.exit_signal = SIGCHLD, .set_tid = 8, .set_tid_size = 1}, v1,
              EFAULT);
  // Not a pid.
  for (pid_t bad : {0, -1, INT_MAX}) {
    tids[0] = bad;
    ExpectFails({.exit_signal = SIGCHLD, .set_tid = p, .set_tid_size = 1}, v1,
                EINVAL);
  }
  // Only with CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); a pid in use is
  // EEXIST.
  tids[0] = getpid();
  ExpectFails({.exit_signal = SIGCHLD, .set_tid = p, .set_tid_size = 1}, v1,
              geteuid() == 0 ? EEXIST : EPERM);
}

int CheckPid(void* arg, uintptr_t) {
  return getpid() == reinterpret_cast<intptr_t>(arg) ? 0 : 1;
}

TEST(Clone3Test, SetTidChoosesThePid) {
  if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN";
  // A pid just freed: pids are handed out in order, so it stays free.
  pid_t freed = fork();
  ASSERT_THAT(freed, SyscallSucceeds());
  if (freed == 0) _exit(0);
  ASSERT_EQ(ExitCode(freed), 0);
  static ArgsPage page;
  long pid = Clone3(page.Set({.exit_signal = SIGCHLD,
                              .set_tid = reinterpret_cast<uintptr_t>(&freed),
                              .set_tid_size = 1}),
                    CLONE_ARGS_SIZE_VER1, CheckPid,
                    reinterpret_cast<void*>(static_cast<intptr_t>(freed)));
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(pid, freed);
  EXPECT_EQ(ExitCode(pid), 0);
}

std::atomic<int> g_ptid, g_ctid;
int CheckTidsInCopy(void*, uintptr_t) {
  return (g_ctid.load() == gettid() ? 0 : 1) | (g_ptid.load() == 0 ? 0 : 2);
}

TEST(Clone3Test, TidWords) {
  static ArgsPage page;
  g_ptid = 0;
  g_ctid = 0;
  long pid = Clone3(
      page.Set({.flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID,
                .child_tid = reinterpret_cast<uintptr_t>(&g_ctid),
                .parent_tid = reinterpret_cast<uintptr_t>(&g_ptid),
                .exit_signal = SIGCHLD}),
      CLONE_ARGS_SIZE_VER0, CheckTidsInCopy);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_ptid.load(), pid);
  EXPECT_EQ(g_ctid.load(), 0);
}

uint64_t g_fs;
CHILD_FN int RecordFs(void*, uintptr_t) {
  return Sys(SYS_arch_prctl, ARCH_GET_FS, reinterpret_cast<long>(&g_fs)) == 0
             ? 0
             : 1;
}

TEST(Clone3Test, Tls) {
  static char tls_block[64];
  Stack stack;
  static ArgsPage page;
  g_fs = 0;
  long pid = Clone3(page.Set({.flags = CLONE_VM | CLONE_SETTLS,
                              .exit_signal = SIGCHLD,
                              .stack = reinterpret_cast<uintptr_t>(stack.base()),
                              .stack_size = Stack::kSize,
                              .tls = reinterpret_cast<uintptr_t>(tls_block)}),
                    CLONE_ARGS_SIZE_VER0, RecordFs);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  EXPECT_EQ(g_fs, reinterpret_cast<uint64_t>(tls_block));
}

void Handler(int) {}

// In the child: SIGUSR2's handler is SIG_DFL, SIGUSR1 stays ignored, both
// without flags or mask (Linux's flush_signal_handlers).
int CheckCleared(void*, uintptr_t) {
  struct sigaction usr1 = {}, usr2 = {};
  sigaction(SIGUSR1, nullptr, &usr1);
  sigaction(SIGUSR2, nullptr, &usr2);
  int bad = 0;
  if (usr2.sa_handler != SIG_DFL) bad |= 1;
  if (usr1.sa_handler != SIG_IGN) bad |= 2;
  if (usr1.sa_flags != 0 || usr2.sa_flags != 0) bad |= 4;
  if (!sigisemptyset(&usr1.sa_mask) || !sigisemptyset(&usr2.sa_mask))
    bad |= 8;
  return bad;
}

TEST(Clone3Test, ClearSighandResetsHandlersInTheChild) {
  ScopedSigaction saved1(SIGUSR1), saved2(SIGUSR2);
  struct sigaction sa = {};
  sa.sa_handler = Handler;
  sa.sa_flags = SA_RESTART;
  sigaddset(&sa.sa_mask, SIGTERM);
  ASSERT_THAT(sigaction(SIGUSR2, &sa, nullptr), SyscallSucceeds());
  sa.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, nullptr), SyscallSucceeds());
  static ArgsPage page;
  long pid = Clone3(
      page.Set({.flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD}),
      CLONE_ARGS_SIZE_VER0, CheckCleared);
  ASSERT_THAT(pid, SyscallSucceeds());
  EXPECT_EQ(ExitCode(pid), 0);
  // The parent's are untouched.
  EXPECT_EQ(HandlerOf(SIGUSR2), Handler);
  EXPECT_EQ(HandlerOf(SIGUSR1), SIG_IGN);
}

}  // namespace
}  // namespace clone_test
