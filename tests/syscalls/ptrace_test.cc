// ptrace(2): TRACEME/ATTACH/SEIZE/DETACH, signal-delivery stops and signal
// injection, siginfo, memory and registers of a stopped tracee, permission
// errors. Every tracee is a forked child (Yama's scope 1 allows those).
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmmintrin.h>

#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"
#include "ptrace_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

volatile uint64_t g_word = 0x1234;
volatile sig_atomic_t g_handled = 0;

void OnUsr2(int) { g_handled = 1; }

TEST(PtraceTest, TraceMeSignalStopAndContinue) {
  Child pid = TracedChild([] {
    raise(SIGUSR1);  // stops for the tracer, which discards it
    return 0;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGUSR1);
  siginfo_t si{};
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGINFO, pid, 0, &si), SyscallSucceeds());
  EXPECT_EQ(si.si_signo, SIGUSR1);
  EXPECT_EQ(si.si_code, SI_TKILL);
  EXPECT_EQ(si.si_pid, pid);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, ContinueInjectsSignal) {
  Child pid = TracedChild([] {
    signal(SIGUSR2, OnUsr2);
    raise(SIGSTOP);
    return g_handled ? 42 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, SIGUSR2), SyscallSucceeds());
  ExpectExited(pid, 42);
}

TEST(PtraceTest, SetSiginfoChangesWhatIsDelivered) {
  Child pid = TracedChild([] {
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = [](int, siginfo_t* info, void*) {
      g_handled = info->si_code == -77 ? 2 : 1;
    };
    sigaction(SIGUSR1, &sa, nullptr);
    raise(SIGUSR1);
    return g_handled == 2 ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGUSR1);
  siginfo_t si{};
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGINFO, pid, 0, &si), SyscallSucceeds());
  si.si_code = -77;
  ASSERT_THAT(PtraceCall(PTRACE_SETSIGINFO, pid, 0, &si), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, SIGUSR1), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, WaitidReportsTrapped) {
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  // Linux reports ptrace stops without WSTOPPED.
  ASSERT_THAT(waitid(P_PID, pid, &info, WEXITED), SyscallSucceeds());
  EXPECT_EQ(info.si_code, CLD_TRAPPED);
  EXPECT_EQ(info.si_status, SIGSTOP);
  EXPECT_EQ(info.si_pid, pid);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, PeekAndPokeData) {
  Child pid = TracedChild([] { return g_word == 0x5678 ? 0 : 1; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  errno = 0;
  long v = ptrace(PTRACE_PEEKDATA, static_cast<pid_t>(pid), &g_word, nullptr);
  ASSERT_EQ(errno, 0);
  EXPECT_EQ(v, 0x1234);
  ASSERT_THAT(PtraceCall(PTRACE_POKEDATA, pid, (void*)&g_word, (void*)0x5678),
              SyscallSucceeds());
  EXPECT_EQ(g_word, 0x1234u);  // our copy is not the child's
  errno = 0;
  (void)ptrace(PTRACE_PEEKDATA, static_cast<pid_t>(pid), nullptr, nullptr);
  EXPECT_EQ(errno, EIO);
  EXPECT_THAT(PtraceCall(PTRACE_POKEDATA, pid, nullptr, 0),
              SyscallFailsWithErrno(EIO));
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

extern "C" int PtraceTestTarget();
asm(R"(
  .text
  .globl PtraceTestTarget
  .type PtraceTestTarget, @function
PtraceTestTarget:
  movl $7, %eax
  ret
  .size PtraceTestTarget, .-PtraceTestTarget
)");

TEST(PtraceTest, BreakpointInReadOnlyText) {
  Child pid = TracedChild([] { return PtraceTestTarget() == 7 ? 0 : 1; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  const uintptr_t target = reinterpret_cast<uintptr_t>(&PtraceTestTarget);
  errno = 0;
  const long orig = ptrace(PTRACE_PEEKTEXT, static_cast<pid_t>(pid), target, nullptr);
  ASSERT_EQ(errno, 0);
  const long with_int3 = (orig & ~0xffL) | 0xcc;
  ASSERT_THAT(PtraceCall(PTRACE_POKETEXT, pid, (void*)target, (void*)with_int3),
              SyscallSucceeds());
  // A private copy: our own text is unchanged.
  EXPECT_EQ(*reinterpret_cast<const uint8_t*>(target), 0xb8);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGTRAP);
  siginfo_t si{};
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGINFO, pid, 0, &si), SyscallSucceeds());
  EXPECT_EQ(si.si_code, SI_KERNEL);
  user_regs_struct regs{};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(regs.rip, target + 1);
  // Put the instruction back and run it from its start.
  ASSERT_THAT(PtraceCall(PTRACE_POKETEXT, pid, (void*)target, (void*)orig),
              SyscallSucceeds());
  regs.rip = target;
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, UserArea) {
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  user_regs_struct regs{};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  errno = 0;
  EXPECT_EQ(static_cast<uint64_t>(ptrace(PTRACE_PEEKUSER,
                                         static_cast<pid_t>(pid),
                                         offsetof(user_regs_struct, rip),
                                         nullptr)),
            regs.rip);
  EXPECT_EQ(errno, 0);
  EXPECT_EQ(ptrace(PTRACE_PEEKUSER, static_cast<pid_t>(pid),
                   offsetof(struct user, u_debugreg) + 7 * 8, nullptr),
            0);
  EXPECT_EQ(errno, 0);
  (void)ptrace(PTRACE_PEEKUSER, static_cast<pid_t>(pid), 3, nullptr);
  EXPECT_EQ(errno, EIO);
  errno = 0;
  // The kernel's struct user ends after u_debugreg with error_code and
  // fault_address (glibc's stops at u_debugreg).
  const size_t end = offsetof(struct user, u_debugreg) + 8 * 8 + 16;
  EXPECT_EQ(ptrace(PTRACE_PEEKUSER, static_cast<pid_t>(pid), end - 8, nullptr),
            0);
  EXPECT_EQ(errno, 0);
  (void)ptrace(PTRACE_PEEKUSER, static_cast<pid_t>(pid), end, nullptr);
  EXPECT_EQ(errno, EIO);
  // POKEUSER of a register is seen by GETREGS.
  ASSERT_THAT(PtraceCall(PTRACE_POKEUSER, pid,
                         (void*)offsetof(user_regs_struct, r12), (void*)0x77),
              SyscallSucceeds());
  user_regs_struct after{};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &after), SyscallSucceeds());
  EXPECT_EQ(after.r12, 0x77u);
  // A base beyond the user address space is refused.
  EXPECT_THAT(PtraceCall(PTRACE_POKEUSER, pid,
                         (void*)offsetof(user_regs_struct, fs_base),
                         (void*)0xffff800000000000),
              SyscallFailsWithErrno(EIO));
  ASSERT_THAT(PtraceCall(PTRACE_SETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, Regsets) {
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  user_regs_struct regs{};
  iovec iov{&regs, sizeof(regs)};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGSET, pid, (void*)NT_PRSTATUS, &iov),
              SyscallSucceeds());
  EXPECT_EQ(iov.iov_len, sizeof(regs));
  EXPECT_NE(regs.rip, 0u);
  user_fpregs_struct fp{};
  iov = {&fp, sizeof(fp)};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGSET, pid, (void*)NT_PRFPREG, &iov),
              SyscallSucceeds());
  EXPECT_EQ(iov.iov_len, 512u);
  alignas(64) uint8_t xs[16384] = {};
  iov = {xs, sizeof(xs)};
  if (PtraceCall(PTRACE_GETREGSET, pid, (void*)NT_X86_XSTATE, &iov) == 0) {
    EXPECT_GT(iov.iov_len, 512u);
    uint64_t xcr0;
    memcpy(&xcr0, xs + 464, sizeof(xcr0));
    EXPECT_EQ(xcr0 & 3, 3u);  // x87 and SSE
  }
  // A short buffer gets a short copy.
  iov = {&regs, 8};
  ASSERT_THAT(PtraceCall(PTRACE_GETREGSET, pid, (void*)NT_PRSTATUS, &iov),
              SyscallSucceeds());
  EXPECT_EQ(iov.iov_len, 8u);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, SetFpRegsReachesTheTracee) {
  Child pid = TracedChild([] {
    return (_mm_getcsr() & 0x6000) == 0x6000 ? 0 : 1;  // round to zero
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  user_fpregs_struct fp{};
  ASSERT_THAT(PtraceCall(PTRACE_GETFPREGS, pid, 0, &fp), SyscallSucceeds());
  fp.mxcsr |= 0x6000;
  ASSERT_THAT(PtraceCall(PTRACE_SETFPREGS, pid, 0, &fp), SyscallSucceeds());
  user_fpregs_struct again{};
  ASSERT_THAT(PtraceCall(PTRACE_GETFPREGS, pid, 0, &again), SyscallSucceeds());
  EXPECT_EQ(again.mxcsr & 0x6000, 0x6000u);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceTest, Errors) {
  EXPECT_THAT(PtraceCall(PTRACE_ATTACH, getpid(), 0, 0),
              SyscallFailsWithErrno(EPERM));
  // A child that is not traced, or traced but running: ESRCH.
  Pipe go;
  Child pid = WaitingChild(go);
  ASSERT_GT(pid, 0);
  user_regs_struct regs;
  EXPECT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs),
              SyscallFailsWithErrno(ESRCH));
  ASSERT_THAT(PtraceCall(PTRACE_SEIZE, pid, 0, 0), SyscallSucceeds());
  EXPECT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(PtraceCall(PTRACE_ATTACH, pid, 0, 0),
              SyscallFailsWithErrno(EPERM));  // traced already
  EXPECT_THAT(PtraceCall(PTRACE_SEIZE, pid, 0, (void*)(1L << 30)),
              SyscallFailsWithErrno(EIO));  // unknown options first
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(PtraceTest, NotDumpableNeedsCapSysPtrace) {
  Pipe ready, go;
  Child pid(fork());
  if (pid == 0) {
    prctl(PR_SET_DUMPABLE, 0);
    char c = 'r';
    if (write(ready.w, &c, 1) != 1) _exit(2);
    _exit(read(go.r, &c, 1) == 1 ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  char c;
  ASSERT_EQ(read(ready.r, &c, 1), 1);
  const bool privileged = HaveCapSysPtrace();
  if (privileged) {
    EXPECT_THAT(PtraceCall(PTRACE_SEIZE, pid, 0, 0), SyscallSucceeds());
  } else {
    EXPECT_THAT(PtraceCall(PTRACE_SEIZE, pid, 0, 0),
                SyscallFailsWithErrno(EPERM));
  }
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(PtraceTest, AttachStopsAndDetachResumes) {
  Pipe go;
  Child pid = WaitingChild(go);
  ASSERT_GT(pid, 0);
  ASSERT_THAT(PtraceCall(PTRACE_ATTACH, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGSTOP);
  user_regs_struct regs;
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_DETACH, pid, 0, 0), SyscallSucceeds());
  EXPECT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs),
              SyscallFailsWithErrno(ESRCH));
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(PtraceTest, SeizeInterruptListen) {
  Pipe go;
  Child pid = WaitingChild(go);
  ASSERT_GT(pid, 0);
  ASSERT_THAT(PtraceCall(PTRACE_SEIZE, pid, 0, 0), SyscallSucceeds());
  EXPECT_THAT(PtraceCall(PTRACE_LISTEN, pid, 0, 0),
              SyscallFailsWithErrno(ESRCH));  // not stopped
  ASSERT_THAT(PtraceCall(PTRACE_INTERRUPT, pid, 0, 0), SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
  EXPECT_EQ(status >> 8, SIGTRAP | (PTRACE_EVENT_STOP << 8));
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(PtraceTest, UnknownRequest) {
  // Not our tracee: ESRCH before the request is looked at.
  EXPECT_THAT(PtraceCall(0x7777, getppid(), 0, 0),
              SyscallFailsWithErrno(ESRCH));
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  EXPECT_THAT(PtraceCall(0x7777, pid, 0, 0), SyscallFailsWithErrno(EIO));
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

}  // namespace
}  // namespace syscall_test
