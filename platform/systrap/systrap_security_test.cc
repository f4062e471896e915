// The security invariants of the systrap platform (platform/README.md): a
// stub holds nothing of the sentry, the app cannot reach the stub's pages,
// and no syscall the app executes reaches the host, even one it makes by
// jumping to the stub's own syscall instructions.
#include <linux/audit.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/test_proc.h"
#include "platform/ptrace/zygote.h"
#include "platform/systrap/systrap_abi.h"
#include "platform/systrap/test_fixture.h"

DECLARE_PROGRAM(prog_two_syscalls);
DECLARE_PROGRAM(prog_jump);
DECLARE_PROGRAM(prog_wait_flag);
DECLARE_PROGRAM(prog_vsyscall);
extern "C" __attribute__((visibility("hidden"))) const char prog_vsyscall_ret[];

namespace platform::systrap {
namespace {

using Kind = Trap::Kind;
using ptrace::Mapping;

TEST_F(SystrapTest, StubHoldsNothingOfTheSentry) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const pid_t stub = sas().stub_pid();
  const uint64_t max = platform_->MaxUserAddress();
  const uint64_t area = platform_->area_addr();
  uint64_t region_bytes = 0;
  bool saw_ro = false, saw_slots = false, saw_memfd = false;
  for (const Mapping& m : ptrace::ReadMaps(stub)) {
    if (m.path == "[vsyscall]") continue;
    if (m.start < max) {
      EXPECT_EQ(m.path.rfind("/memfd:systrap_test", 0), 0u)
          << std::hex << m.start << " " << m.path;
      saw_memfd = true;
    } else if (m.start == area) {
      EXPECT_EQ(m.path.rfind("/memfd:runsc-systrap", 0), 0u) << m.path;
      EXPECT_EQ(m.perms, "r--s");  // the filter and requests: read-only
      EXPECT_EQ(m.end, area + SYSTRAP_SLOT_SIZE);
      saw_ro = true;
    } else if (m.start == area + SYSTRAP_SLOT_SIZE) {
      EXPECT_EQ(m.path.rfind("/memfd:runsc-systrap", 0), 0u) << m.path;
      EXPECT_EQ(m.perms, "rw-s");
      EXPECT_EQ(m.end, area + SYSTRAP_AREA_SIZE);
      saw_slots = true;
    } else {
      EXPECT_EQ(m.path, "") << std::hex << m.start;
      region_bytes += m.end - m.start;
    }
  }
  EXPECT_TRUE(saw_ro && saw_slots && saw_memfd);
  EXPECT_EQ(region_bytes, uint64_t{STUB_REGION_SIZE});
  EXPECT_GT(area, max);  // the app can never map over it

  // Fds: the memory file, and the syscall thread's socket.
  const auto fds = ptrace::ReadFds(stub);
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(fds[0].first, 1);
  EXPECT_EQ(fds[0].second.rfind("socket:", 0), 0u) << fds[0].second;
  EXPECT_EQ(fds[1].first, STUB_MEM_FD);
  EXPECT_EQ(fds[1].second.rfind("/memfd:systrap_test", 0), 0u);

  // The leader (the syscall thread) and the app thread: seccomp, no new
  // privileges; the app thread has the second filter and nothing blocked.
  const std::vector<pid_t> tids = ptrace::TaskIds(stub);
  ASSERT_EQ(tids.size(), 2u);
  for (const pid_t tid : tids) {
    EXPECT_EQ(ptrace::StatusField(stub, "Seccomp", tid), "2");
    EXPECT_EQ(ptrace::StatusField(stub, "NoNewPrivs", tid), "1");
    EXPECT_EQ(ptrace::StatusField(stub, "Seccomp_filters", tid),
              tid == stub ? "1" : "2");
  }
  // In the handler (as now) every signal is blocked; running app code,
  // none is.
  const pid_t tid = sctx().stub_tid();
  regs = Load(PROGRAM(prog_wait_flag));
  regs.rdi = kDataAddr;
  regs.rsi = 1;
  std::thread app([&] { ctx_->Switch(*as_, regs); });
  std::string blocked;
  for (int i = 0; i < 2000; ++i) {  // until it runs app code
    blocked = ptrace::StatusField(stub, "SigBlk", tid);
    if (blocked == "0000000000000000") break;
    usleep(1000);
  }
  EXPECT_EQ(blocked, "0000000000000000");
  __atomic_store_n(&DataWord(0), 1, __ATOMIC_SEQ_CST);
  app.join();
  EXPECT_EQ(regs.orig_rax, 39u);
}

TEST_F(SystrapTest, ZygoteHoldsNothingOfTheSentry) {
  const pid_t zygote = platform_->zygote_pid();
  for (const Mapping& m : ptrace::ReadMaps(zygote)) {
    if (m.path == "[vsyscall]") continue;
    EXPECT_GE(m.start, platform_->MaxUserAddress()) << m.path;
  }
  const auto fds = ptrace::ReadFds(zygote);
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(fds[0].first, STUB_MEM_FD);
  EXPECT_EQ(fds[1].first, STUB_SOCKET_FD);
}

// The stub's code page holds syscall instructions, and the zygote's filter
// lets that page make any syscall. App threads carry a second filter that
// traps everything from there too but the handler's own three calls.
TEST_F(SystrapTest, StubSyscallInstructionsDoNotReachTheHost) {
  const ptrace::StubLayout& layout = platform_->zygote().layout();
  for (long nr : {SYS_exit_group, SYS_exit, SYS_getpid, SYS_kill, SYS_mmap,
                  SYS_munmap, SYS_fork, SYS_rt_sigaction, SYS_rt_sigprocmask,
                  SYS_sigaltstack, SYS_seccomp, SYS_ptrace, SYS_openat}) {
    Registers regs = Load(PROGRAM(prog_jump));
    regs.rdi = layout.syscall_gadget;  // `syscall; int3` in the stub page
    regs.rsi = nr;
    regs.r10 = 0;
    const Trap trap = ctx_->Switch(*as_, regs);
    ASSERT_EQ(trap.kind, Kind::kSyscall) << nr << " " << KindName(trap.kind);
    EXPECT_EQ(regs.orig_rax, static_cast<uint64_t>(nr));
    EXPECT_EQ(regs.rip, layout.syscall_gadget + 2);
  }
  // Still alive, same thread, same process.
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(ptrace::TaskIds(sas().stub_pid()).size(), 2u);
}

// The kernel's vsyscall emulation runs seccomp: the call is trapped, never
// run on the host, and reported as a fault at the entry point with the
// return address still pushed (platform/stub_traps.h).
TEST_F(SystrapTest, VsyscallNeverReachesTheHost) {
  Registers regs = Load(PROGRAM(prog_vsyscall));
  const uint64_t rsp = regs.rsp;
  const Trap trap = ctx_->Switch(*as_, regs);
  if (trap.kind == Kind::kSignal && trap.info.si_signo == SIGSEGV)
    GTEST_SKIP() << "vsyscall=none on this host";
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGSEGV);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), 0xffffffffff600000u);
  EXPECT_EQ(regs.rip, 0xffffffffff600000u);
  EXPECT_EQ(regs.rsp, rsp - 8);
}

}  // namespace
}  // namespace platform::systrap
