// ptrace(2) requests that look at a stopped tracee without resuming it:
// PTRACE_PEEKSIGINFO (its pending signals, private and shared),
// PTRACE_GETSIGMASK/SETSIGMASK, PTRACE_GET_SYSCALL_INFO (entry, exit and
// other stops), and TracerPid in /proc/<pid>/status.
#include <errno.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "proc_util.h"
#include "ptrace_util.h"
#include "test_util.h"

// glibc's sys/ptrace.h and linux/ptrace.h do not mix: the UAPI layouts.
struct PeekSiginfoArgs {
  uint64_t off;
  uint32_t flags;
  int32_t nr;
};
constexpr uint32_t kPeekShared = 1;  // PTRACE_PEEKSIGINFO_SHARED

struct SyscallInfo {
  uint8_t op;
  uint8_t reserved;
  uint16_t flags;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t stack_pointer;
  union {
    struct {
      uint64_t nr;
      uint64_t args[6];
    } entry;
    struct {
      int64_t rval;
      uint8_t is_error;
    } exit;
  };
};
constexpr uint8_t kInfoNone = 0, kInfoEntry = 1, kInfoExit = 2;
constexpr long kInfoHeaderSize = offsetof(SyscallInfo, entry);
constexpr long kInfoEntrySize = offsetof(SyscallInfo, entry.args) + 6 * 8;
constexpr long kInfoExitSize = offsetof(SyscallInfo, exit.is_error) + 1;

namespace syscall_test {
namespace {

constexpr uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

volatile sig_atomic_t g_usr1 = 0, g_usr2 = 0;

// A traced child that blocks SIGUSR1 and SIGUSR2, makes SIGUSR1 pending
// for its thread (tgkill) and SIGUSR2 for its process (kill), twice each
// as real-time copies too, then stops. Once unblocked by the tracer it
// exits 0 if both handlers ran.
Child ChildWithPendingSignals() {
  pid_t pid = fork();
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(126);
    signal(SIGUSR1, [](int) { g_usr1 = 1; });
    signal(SIGUSR2, [](int) { g_usr2 = 1; });
    signal(SIGRTMIN + 1, [](int) {});
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    kill(getpid(), SIGUSR2);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGRTMIN + 1);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGRTMIN + 1);
    raise(SIGSTOP);
    // The tracer unblocked everything: the handlers have run.
    _exit(g_usr1 && g_usr2 ? 0 : 1);
  }
  return Child(pid);
}

// Resumes `pid`, passing on each signal it stops for, until it exits.
void RunToExit(Child& pid, int code) {
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  for (int i = 0; i < 20; ++i) {
    const int status = WaitStatus(pid);
    if (WIFEXITED(status)) {
      pid.set_reaped();
      EXPECT_EQ(WEXITSTATUS(status), code);
      return;
    }
    ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
    ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, WSTOPSIG(status)),
                SyscallSucceeds());
  }
  FAIL() << "the child kept stopping";
}

TEST(PtraceInfoTest, PeekSiginfoReadsPendingSignalsWithoutTakingThem) {
  Child pid = ChildWithPendingSignals();
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  siginfo_t si[4] = {};
  PeekSiginfoArgs a = {.off = 0, .flags = 0, .nr = 4};
  // The thread's own queue, in order: SIGUSR1, then both SIGRTMIN+1.
  ASSERT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallSucceedsWithValue(3));
  EXPECT_EQ(si[0].si_signo, SIGUSR1);
  EXPECT_EQ(si[0].si_code, SI_TKILL);
  EXPECT_EQ(si[0].si_pid, pid);
  EXPECT_EQ(si[1].si_signo, SIGRTMIN + 1);
  EXPECT_EQ(si[2].si_signo, SIGRTMIN + 1);
  a.off = 1;
  a.nr = 1;
  ASSERT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(si[0].si_signo, SIGRTMIN + 1);
  a.off = 3;
  a.nr = 4;
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallSucceedsWithValue(0));
  // The process's queue.
  a = {.off = 0, .flags = kPeekShared, .nr = 4};
  ASSERT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallSucceedsWithValue(1));
  EXPECT_EQ(si[0].si_signo, SIGUSR2);
  EXPECT_EQ(si[0].si_code, SI_USER);
  // nr 0 reads nothing; bad flags, a negative nr and bad pointers fail.
  a.nr = 0;
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallSucceedsWithValue(0));
  a = {.off = 0, .flags = 2, .nr = 1};
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallFailsWithErrno(EINVAL));
  a = {.off = 0, .flags = 0, .nr = -1};
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, si),
              SyscallFailsWithErrno(EINVAL));
  a = {.off = 0, .flags = 0, .nr = 1};
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, BadAddress(), si),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(PtraceCall(PTRACE_PEEKSIGINFO, pid, &a, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // Nothing was taken: unblocked, both handlers run.
  uint64_t none = 0;
  ASSERT_THAT(PtraceCall(PTRACE_SETSIGMASK, pid, sizeof(none), &none),
              SyscallSucceeds());
  RunToExit(pid, 0);
}

TEST(PtraceInfoTest, GetAndSetSigmask) {
  Child pid = ChildWithPendingSignals();
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  uint64_t mask = 0;
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask),
              SyscallSucceeds());
  EXPECT_EQ(mask, Bit(SIGUSR1) | Bit(SIGUSR2) | Bit(SIGRTMIN + 1));
  // The size must be the kernel's sigset_t.
  EXPECT_THAT(PtraceCall(PTRACE_GETSIGMASK, pid, 4, &mask),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PtraceCall(PTRACE_SETSIGMASK, pid, 16, &mask),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(PtraceCall(PTRACE_GETSIGMASK, pid, sizeof(mask), BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(PtraceCall(PTRACE_SETSIGMASK, pid, sizeof(mask), BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // SIGKILL and SIGSTOP cannot be blocked.
  uint64_t all = ~uint64_t{0};
  ASSERT_THAT(PtraceCall(PTRACE_SETSIGMASK, pid, sizeof(all), &all),
              SyscallSucceeds());
  ASSERT_THAT(PtraceCall(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask),
              SyscallSucceeds());
  EXPECT_EQ(mask, ~(Bit(SIGKILL) | Bit(SIGSTOP)));
  // Unblocking lets the pending signals in.
  mask = 0;
  ASSERT_THAT(PtraceCall(PTRACE_SETSIGMASK, pid, sizeof(mask), &mask),
              SyscallSucceeds());
  RunToExit(pid, 0);
}

TEST(PtraceInfoTest, SigmaskNeedsAStoppedTracee) {
  Pipe go;
  Child pid = WaitingChild(go);
  ASSERT_GT(pid, 0);
  uint64_t mask = 0;
  EXPECT_THAT(PtraceCall(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask),
              SyscallFailsWithErrno(ESRCH));
  ASSERT_EQ(write(go.w, "x", 1), 1);
  ExpectExited(pid, 0);
}

TEST(PtraceInfoTest, SyscallInfoAtEntryExitAndOtherStops) {
  Child pid = TracedChild([] {
    return syscall(SYS_getppid, 11, 22, 33, 44, 55, 66) == getppid() ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  SyscallInfo info = {};
  // A signal-delivery-stop: no syscall, only the header.
  ASSERT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info),
              SyscallSucceedsWithValue(kInfoHeaderSize));
  EXPECT_EQ(info.op, kInfoNone);
  EXPECT_EQ(info.arch, AUDIT_ARCH_X86_64);
  user_regs_struct regs;
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(info.instruction_pointer, regs.rip);
  EXPECT_EQ(info.stack_pointer, regs.rsp);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD),
              SyscallSucceeds());
  // Run to the getppid with six arguments.
  bool found = false;
  for (int i = 0; i < 100 && !found; ++i) {
    ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
    const int status = WaitStatus(pid);
    ASSERT_TRUE(WIFSTOPPED(status)) << std::hex << status;
    ASSERT_EQ(WSTOPSIG(status), SIGTRAP | 0x80);
    info = {};
    const long n =
        PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info);
    ASSERT_GT(n, 0) << strerror(errno);
    if (info.op == kInfoEntry && info.entry.nr == SYS_getppid &&
        info.entry.args[0] == 11)
      found = true;
  }
  ASSERT_TRUE(found);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(info.entry.args[i], 11u * (i + 1));
  ASSERT_THAT(PtraceCall(PTRACE_GETREGS, pid, 0, &regs), SyscallSucceeds());
  EXPECT_EQ(info.instruction_pointer, regs.rip);
  EXPECT_EQ(info.stack_pointer, regs.rsp);
  // A short buffer gets what fits; the size is the whole record's.
  uint8_t op = 0xff;
  EXPECT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, 1, &op),
              SyscallSucceedsWithValue(kInfoEntrySize));
  EXPECT_EQ(op, kInfoEntry);
  unsigned long msg = 0;
  ASSERT_THAT(PtraceCall(PTRACE_GETEVENTMSG, pid, 0, &msg), SyscallSucceeds());
  EXPECT_EQ(msg, 1u);  // PTRACE_EVENTMSG_SYSCALL_ENTRY
  // The exit: getppid's value.
  ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
  ASSERT_EQ(WSTOPSIG(WaitStatus(pid)), SIGTRAP | 0x80);
  info = {};
  ASSERT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info),
              SyscallSucceedsWithValue(kInfoExitSize));
  EXPECT_EQ(info.op, kInfoExit);
  EXPECT_EQ(info.exit.rval, getpid());
  EXPECT_EQ(info.exit.is_error, 0);
  ASSERT_THAT(PtraceCall(PTRACE_GETEVENTMSG, pid, 0, &msg), SyscallSucceeds());
  EXPECT_EQ(msg, 2u);  // PTRACE_EVENTMSG_SYSCALL_EXIT
  EXPECT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info),
                         BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceInfoTest, SyscallInfoReportsErrors) {
  Child pid = TracedChild([] {
    return syscall(SYS_close, -7) == -1 && errno == EBADF ? 0 : 1;
  });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD),
              SyscallSucceeds());
  SyscallInfo info = {};
  bool found = false;
  for (int i = 0; i < 100 && !found; ++i) {
    ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
    ASSERT_EQ(WSTOPSIG(WaitStatus(pid)), SIGTRAP | 0x80);
    info = {};
    ASSERT_GT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info),
              0);
    found = info.op == kInfoEntry && info.entry.nr == SYS_close &&
            static_cast<int>(info.entry.args[0]) == -7;
  }
  ASSERT_TRUE(found);
  ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
  ASSERT_EQ(WSTOPSIG(WaitStatus(pid)), SIGTRAP | 0x80);
  ASSERT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info),
              SyscallSucceedsWithValue(kInfoExitSize));
  EXPECT_EQ(info.op, kInfoExit);
  EXPECT_EQ(info.exit.rval, -EBADF);
  EXPECT_EQ(info.exit.is_error, 1);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceInfoTest, SyscallStopsWithoutSysgoodAreNotSyscallInfo) {
  // Linux tells entry from exit only by TRACESYSGOOD's 0x80 in the stop.
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  ASSERT_THAT(PtraceCall(PTRACE_SYSCALL, pid, 0, 0), SyscallSucceeds());
  ExpectStopped(pid, SIGTRAP);
  SyscallInfo info = {};
  ASSERT_THAT(PtraceCall(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info),
              SyscallSucceedsWithValue(kInfoHeaderSize));
  EXPECT_EQ(info.op, kInfoNone);
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

TEST(PtraceInfoTest, TracerPidInStatus) {
  Child pid = TracedChild([] { return 0; });
  ASSERT_GT(pid, 0);
  ExpectStopped(pid, SIGSTOP);
  const std::string traced = proc_test::StatusField(
      ReadFileContents(proc_test::Proc(pid, "status").c_str()), "TracerPid");
  EXPECT_EQ(traced, std::to_string(getpid()));
  const std::string mine = proc_test::StatusField(
      ReadFileContents("/proc/self/status"), "TracerPid");
  EXPECT_EQ(mine, "0");
  ASSERT_THAT(PtraceCall(PTRACE_CONT, pid, 0, 0), SyscallSucceeds());
  ExpectExited(pid, 0);
}

}  // namespace
}  // namespace syscall_test
