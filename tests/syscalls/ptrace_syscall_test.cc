// ptrace(2) beyond signals: syscall stops (changing, skipping, return
// values), events (exec, fork with auto-attach, exit), single steps, and
// process_vm_readv/process_vm_writev.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "ptrace_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

// Resumes with PTRACE_SYSCALL until a syscall-entry stop of `nr`; false if
// the child ended first. Entry and exit stops alternate (TRACESYSGOOD).
bool RunToSyscallEntry(pid_t pid, long nr) {
  bool entry = true;
  for (int i = 0; i < 1000; ++i) {
    if (PtraceCall(PTRACE_SYSCALL, pid, 0, 0) != 0) return false;
    int status;
    if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
      return false;
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) continue;  // a signal stop
    user_regs_struct regs;
    if (PtraceCall(PTRACE_GETREGS, pid, 0, &regs) != 0) return false;
    if (entry && static_cast<long>(regs.orig_rax) == nr) return true;
    entry = !entry;
  }
  return false;
}

void ExpectSyscallStop(pid_t pid) {
  int status = WaitStatus(pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
  EXPECT_EQ(WSTOPSIG(status), SIGTRAP | 0x80);
}

TEST(PtraceSyscallTest, EntryAndExitStops) {
  Child pid = TracedChild([] {
    return syscall(SYS_getpid) == 777 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD),
              SyscallSucceeds());
  ASSERT_TRUE(RunToSyscallEntry(pid, SYS_getpid));
  user_regs_struct regs;
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(static_cast<long>(regs.rax), -ENOSYS);
  // Turn it into getppid.
  regs.orig_rax = SYS_getppid;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
  ExpectSyscallStop(pid);
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(static_cast<pid_t>(regs.rax), getpid());
  EXPECT_EQ(regs.orig_rax, static_cast<uint64_t>(SYS_getppid));
  // And change what it returns.
  regs.rax = 777;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceSyscallTest, SkipWithMinusOne) {
  Child pid = TracedChild([] {
    // This kill would end the child: the tracer skips it.
    return syscall(SYS_kill, getpid(), SIGKILL) == 55 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD),
              SyscallSucceeds());
  ASSERT_TRUE(RunToSyscallEntry(pid, SYS_kill));
  user_regs_struct regs;
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  regs.orig_rax = -1;
  regs.rax = 55;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
  ExpectSyscallStop(pid);
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(regs.rax, 55u);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

// The child execs this binary, which runs no test and exits 0.
int ExecSelf() {
  int null = open("/dev/null", O_WRONLY);
  dup2(null, 1);
  char filter[] = "--gtest_filter=-*";
  char* argv[] = {const_cast<char*>("self"), filter, nullptr};
  execv("/proc/self/exe", argv);
  return 127;
}

TEST(PtraceSyscallTest, ExecSendsSigtrap) {
  Child pid = TracedChild(ExecSelf);
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGTRAP);
  siginfo_t si{};
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGINFO, pid, 0, &si), SyscallSucceeds());
  EXPECT_EQ(si.si_code, SI_USER);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceSyscallTest, ExecEvent) {
  Child pid = TracedChild(ExecSelf);
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC),
              SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  int status = WaitStatus(pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
  EXPECT_EQ(status >> 8, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
  unsigned long msg = 0;
  ASSERT_THAT(PtraceCall(PTRACE_GETEVENTMSG, pid, 0, &msg), SyscallSucceeds());
  EXPECT_EQ(msg, static_cast<unsigned long>(pid));
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceSyscallTest, ForkEventAttachesTheGrandchild) {
  Child pid = TracedChild([] {
    pid_t g = fork();
    if (g == 0) _exit(7);
    int status;
    if (waitpid(g, &status, 0) != g) return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 2;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEFORK),
              SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  int status = WaitStatus(pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
  EXPECT_EQ(status >> 8, SIGTRAP | (PTRACE_EVENT_FORK << 8));
  unsigned long g = 0;
  ASSERT_THAT(PtraceCall(PTRACE_GETEVENTMSG, pid, 0, &g), SyscallSucceeds());
  ASSERT_GT(g, 0u);
  // The grandchild starts traced, stopped by SIGSTOP.
  ExpectStopped(g, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, g, 0, 0), SyscallSucceeds());
  // Its tracer hears of its exit too (it is not our child).
  status = WaitStatus(g);
  EXPECT_TRUE(WIFEXITED(status)) << std::hex << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  // The child hears of its child's end: SIGCHLD stops it first.
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGCHLD);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceSyscallTest, ExitEvent) {
  Child pid = TracedChild([] { return 3; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXIT),
              SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  int status = WaitStatus(pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
  EXPECT_EQ(status >> 8, SIGTRAP | (PTRACE_EVENT_EXIT << 8));
  unsigned long msg = 0;
  ASSERT_THAT(PtraceCall(PTRACE_GETEVENTMSG, pid, 0, &msg), SyscallSucceeds());
  EXPECT_EQ(msg, 3u << 8);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 3);
}

extern "C" void PtraceStepLoop();
asm(R"(
  .text
  .globl PtraceStepLoop
  .type PtraceStepLoop, @function
PtraceStepLoop:
  nop
  nop
  nop
  int3
  ret
  .size PtraceStepLoop, .-PtraceStepLoop
)");

TEST(PtraceSyscallTest, SingleStep) {
  Child pid = TracedChild([] {
    PtraceStepLoop();
    return 0;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  // Run to the int3 at the end, then set rip back to the start and step.
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGTRAP);
  const uint64_t start = reinterpret_cast<uintptr_t>(&PtraceStepLoop);
  user_regs_struct regs;
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_EQ(regs.rip, start + 4);
  regs.rip = start;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  for (uint64_t i = 1; i <= 3; ++i) {
    ASSERT_THAT(PtraceCall(PTRACE_SINGLESTEP, pid, 0, 0), SyscallSucceeds());
    ExpectStopped(pid, SIGTRAP);
    siginfo_t si{};
    ASSERT_THAT(PtraceCall(PTRACE_GETSIGINFO, pid, 0, &si), SyscallSucceeds());
    EXPECT_EQ(si.si_code, TRAP_TRACE);
    ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
    EXPECT_EQ(regs.rip, start + i);
    EXPECT_EQ(regs.eflags & 0x100, 0u);  // the step's TF is not shown
  }
  // Skip the int3 and run on: no more traps.
  regs.rip = start + 4;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(ProcessVmTest, ReadAndWriteAChild) {
  static char buf[64] = "child's bytes";
  Pipe go, done;
  Child pid(fork());
  if (pid == 0) {
    char c;
    if (read(go.r, &c, 1) != 1) _exit(1);
    _exit(strcmp(buf, "written!") == 0 ? 0 : 2);
  }
  ASSERT_GT(pid, 0);
  char got[14] = {};
  iovec local{got, 13}, remote{buf, 13};
  ASSERT_THAT(process_vm_readv(pid, &local, 1, &remote, 1, 0),
              SyscallSucceedsWithValue(13));
  EXPECT_STREQ(got, "child's bytes");
  char text[] = "written!";
  iovec wl{text, sizeof(text)}, wr{buf, sizeof(text)};
  ASSERT_THAT(process_vm_writev(pid, &wl, 1, &wr, 1, 0),
              SyscallSucceedsWithValue(sizeof(text)));
  EXPECT_THAT(process_vm_readv(pid, &local, 1, &remote, 1, 1),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(ProcessVmTest, PartialAtAnUnmappedPage) {
  const size_t page = sysconf(_SC_PAGESIZE);
  auto* p = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(munmap(p + page, page), 0);
  memset(p, 'a', page);
  std::vector<char> out(2 * page);
  // From 100 bytes before the hole: those 100 come, then it stops.
  iovec local{out.data(), out.size()}, remote{p + page - 100, 200};
  EXPECT_THAT(process_vm_readv(getpid(), &local, 1, &remote, 1, 0),
              SyscallSucceedsWithValue(100));
  // Starting in the hole: EFAULT.
  remote = {p + page, 10};
  EXPECT_THAT(process_vm_readv(getpid(), &local, 1, &remote, 1, 0),
              SyscallFailsWithErrno(EFAULT));
  // Too many iovecs.
  EXPECT_THAT(process_vm_readv(getpid(), &local, 1025, &remote, 1, 0),
              SyscallFailsWithErrno(EINVAL));
  munmap(p, page);
}

}  // namespace
}  // namespace syscall_test
