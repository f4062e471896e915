// Traps, mappings, interrupts, death, FP state and threads of the systrap
// platform. The security invariants are in systrap_security_test.cc.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "platform/ptrace/pidfd.h"
#include "platform/systrap/test_fixture.h"

DECLARE_PROGRAM(prog_two_syscalls);
DECLARE_PROGRAM(prog_syscall_loop);
DECLARE_PROGRAM(prog_store_load);
DECLARE_PROGRAM(prog_ud2);
DECLARE_PROGRAM(prog_int3);
DECLARE_PROGRAM(prog_spin);
DECLARE_PROGRAM(prog_fpu_state);
DECLARE_PROGRAM(prog_fpu_keep);
DECLARE_PROGRAM(prog_fpu_set_report);
DECLARE_PROGRAM(prog_read_fs);
DECLARE_PROGRAM(prog_wait_flag);

namespace platform::systrap {
namespace {

using Kind = Trap::Kind;
using Clock = std::chrono::steady_clock;

TEST_F(SystrapTest, SyscallsTrapAndRegistersFlowThrough) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  regs.r12 = 0x1122334455667788;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.orig_rax, 39u);
  EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
  EXPECT_EQ(regs.rip, kCodeAddr + 7);  // past `mov $39,%eax; syscall`
  EXPECT_EQ(regs.rcx, regs.rip);       // as the syscall instruction left it
  EXPECT_EQ(regs.r12, 0x1122334455667788u);
  EXPECT_EQ(regs.cs, 0x33u);

  regs.rax = 0xabcdef;  // the sentry's answer
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.orig_rax, 60u);
  EXPECT_EQ(regs.rdi, 0xabcdefu);
  EXPECT_EQ(regs.rsi, 0x1122334455667788u);

  // exit() did not reach the host: the stub thread still runs.
  regs = Load(PROGRAM(prog_two_syscalls));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
}

TEST_F(SystrapTest, MemoryIsTheMemoryFile) {
  Registers regs = Load(PROGRAM(prog_store_load));
  regs.rdi = kDataAddr + 8;
  regs.rsi = 0x5a5a5a5a;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 0x5a5a5a5au);
  EXPECT_EQ(DataWord(1), 0x5a5a5a5au);
}

TEST_F(SystrapTest, FaultOnUnmappedPageThenMapAndRetry) {
  Registers regs = Load(PROGRAM(prog_store_load));
  regs.rdi = kSpareAddr + 16;
  regs.rsi = 77;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGSEGV);
  EXPECT_EQ(trap.info.si_code, SEGV_MAPERR);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), kSpareAddr + 16);
  EXPECT_EQ(regs.rip, kCodeAddr);
  ASSERT_TRUE(
      as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ | PROT_WRITE)
          .has_value());
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 77u);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(mem_ + kSpareOffset + 16), 77u);
}

TEST_F(SystrapTest, ProtectAndUnmapReachTheStub) {
  Registers regs = Load(PROGRAM(prog_store_load));
  ASSERT_TRUE(as_->Protect(kDataAddr, kPage, PROT_READ).has_value());
  regs.rdi = kDataAddr;
  regs.rsi = 1;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_code, SEGV_ACCERR);
  ASSERT_TRUE(as_->Unmap(kDataAddr, kPage).has_value());
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_code, SEGV_MAPERR);
}

TEST_F(SystrapTest, RangesOutsideTheUserRangeAreRefused) {
  const uint64_t top = platform_->MaxUserAddress();
  EXPECT_FALSE(as_->MapFile(0, kPage, 0, PROT_READ).has_value());
  EXPECT_FALSE(as_->MapFile(top, kPage, 0, PROT_READ).has_value());
  EXPECT_FALSE(as_->MapFile(top - kPage, 2 * kPage, 0, PROT_READ).has_value());
  EXPECT_FALSE(as_->Unmap(platform_->area_addr(), kPage).has_value());
  EXPECT_FALSE(as_->Protect(kCodeAddr + 1, kPage, PROT_READ).has_value());
  EXPECT_TRUE(as_->MapFile(top - kPage, kPage, 0, PROT_READ).has_value());
}

TEST_F(SystrapTest, CpuSignals) {
  Registers regs = Load(PROGRAM(prog_ud2));
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSignal) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGILL);
  EXPECT_EQ(regs.rip, kCodeAddr);

  regs = Load(PROGRAM(prog_int3));
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSignal) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGTRAP);
  EXPECT_EQ(regs.rip, kCodeAddr + 1);
}

TEST_F(SystrapTest, FsBaseReachesTheApp) {
  Registers regs = Load(PROGRAM(prog_read_fs));
  DataWord(5) = 0x77665544;
  regs.fs_base = kDataAddr + 5 * 8;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 0x77665544u);
  EXPECT_EQ(regs.fs_base, kDataAddr + 5 * 8);
  // And a change applies at the next Switch.
  DataWord(6) = 0x99;
  regs = Load(PROGRAM(prog_read_fs));
  DataWord(6) = 0x99;
  regs.fs_base = kDataAddr + 6 * 8;
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 0x99u);
}

TEST_F(SystrapTest, InterruptBeforeSwitchReturnsAtOnce) {
  Registers regs = Load(PROGRAM(prog_spin));
  ctx_->Interrupt();
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kInterrupt);
  EXPECT_EQ(regs.rip, kCodeAddr);
}

TEST_F(SystrapTest, InterruptStopsASpinningThread) {
  Registers regs = Load(PROGRAM(prog_spin));
  std::atomic<bool> done{false};
  std::thread interrupter([&] {
    while (!done.load()) {
      ctx_->Interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  done = true;
  interrupter.join();
  ASSERT_EQ(trap.kind, Kind::kInterrupt) << KindName(trap.kind);
  EXPECT_EQ(regs.rip, kCodeAddr);  // spinning on its one instruction
  // A stale interrupt signal is dropped: the thread goes on to its trap
  // (after at most the one interrupt still flagged).
  regs = Load(PROGRAM(prog_two_syscalls));
  Trap next = ctx_->Switch(*as_, regs);
  if (next.kind == Kind::kInterrupt) next = ctx_->Switch(*as_, regs);
  EXPECT_EQ(next.kind, Kind::kSyscall) << KindName(next.kind);
}

TEST_F(SystrapTest, StubKilledFromOutsideIsDead) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  regs = Load(PROGRAM(prog_spin));
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    kill(sas().stub_pid(), SIGKILL);
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  killer.join();
  EXPECT_EQ(trap.kind, Kind::kDead) << KindName(trap.kind);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kDead);
  EXPECT_FALSE(as_->MapFile(kSpareAddr, kPage, 0, PROT_READ).has_value());
}

TEST_F(SystrapTest, AddressSpaceDestroyedWhileRunning) {
  Registers regs = Load(PROGRAM(prog_spin));
  std::thread destroyer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    static_cast<SystrapAddressSpace&>(*as_).stub()->Kill();
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  destroyer.join();
  EXPECT_EQ(trap.kind, Kind::kDead) << KindName(trap.kind);
}

TEST_F(SystrapTest, SignalsFromOutsideAreDropped) {
  Registers regs = Load(PROGRAM(prog_wait_flag));
  regs.rdi = kDataAddr;
  regs.rsi = 1;
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kill(sas().stub_pid(), SIGSEGV);  // si_code SI_USER: not a fault
    kill(sas().stub_pid(), SIGUSR2);
    kill(sas().stub_pid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    __atomic_store_n(&DataWord(0), 1, __ATOMIC_SEQ_CST);
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  sender.join();
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.orig_rax, 39u);
}

TEST_F(SystrapTest, NewThreadStartsInTheInitFpState) {
  Registers regs = Load(PROGRAM(prog_fpu_state));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi | regs.rsi, 0u);
  EXPECT_EQ(regs.rdx, 0x1f80u);
  EXPECT_EQ(regs.r10, 0x37fu);
}

TEST_F(SystrapTest, FpStateSurvivesTrapsAndCanBeSet) {
  Registers regs = Load(PROGRAM(prog_fpu_keep));
  regs.rdi = 0x0123456789abcdef;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  std::vector<uint8_t> fp;
  ASSERT_TRUE(ctx_->GetFpState(&fp).has_value());
  ASSERT_EQ(fp.size(), platform_->FpStateSize());
  uint64_t xmm3;
  memcpy(&xmm3, fp.data() + 160 + 3 * 16, 8);
  EXPECT_EQ(xmm3, 0x0123456789abcdefu);
  // Change it; the app sees the new value.
  const uint64_t other = 0xfeedfacecafebeef;
  memcpy(fp.data() + 160 + 3 * 16, &other, 8);
  ASSERT_TRUE(ctx_->SetFpState(fp).has_value());
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, other);

  // A state the kernel would refuse is EINVAL, not a dead stub.
  std::vector<uint8_t> bad = fp;
  const uint32_t mxcsr = 0xffffffff;
  memcpy(bad.data() + 24, &mxcsr, 4);
  EXPECT_FALSE(ctx_->SetFpState(bad).has_value());
}

TEST_F(SystrapTest, FpStateSetBeforeTheFirstSwitch) {
  std::vector<uint8_t> fp;
  ASSERT_TRUE(ctx_->GetFpState(&fp).has_value());
  const uint32_t mxcsr = 0x1f80 | 0x6000;  // round toward zero
  memcpy(fp.data() + 24, &mxcsr, 4);
  ASSERT_TRUE(ctx_->SetFpState(fp).has_value());
  Registers regs = Load(PROGRAM(prog_fpu_state));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdx, mxcsr);
}

// `threads_n` threads, each with a context of its own, trap `traps` times
// each in prog_syscall_loop; returns how many traps came back right.
int TrapInThreads(Platform& platform, AddressSpace& as, const Registers& regs,
                  int threads_n, int traps) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      auto ctx = platform.NewContext();
      Registers r = regs;
      r.r12 = t;
      int good = 0;
      for (int i = 0; i < traps; ++i) {
        Trap trap = ctx->Switch(as, r);
        good += trap.kind == Kind::kSyscall && r.orig_rax == 39 &&
                r.r12 == static_cast<uint64_t>(t);
        r.rax = i;
      }
      ok += good;
      ctx->Release();
    });
  }
  for (auto& t : threads) t.join();
  return ok.load();
}

TEST_F(SystrapTest, ThreadsTrapConcurrently) {
  Registers regs = Load(PROGRAM(prog_syscall_loop));
  constexpr int kThreads = 4, kTraps = 300;
  EXPECT_EQ(TrapInThreads(*platform_, *as_, regs, kThreads, kTraps),
            kThreads * kTraps);
}

// More app threads trapping in a loop than the host has CPUs: contexts
// start in the spinning mode (context.cc), so this checks that spinning
// waiters never starve the threads they wait for into a hang, and that
// the changes of mode lose no handoff. The CPU time is printed, not
// checked (no timing thresholds in tests).
TEST_F(SystrapTest, MoreThreadsThanCpusAllFinish) {
  Registers regs = Load(PROGRAM(prog_syscall_loop));
  const int threads_n =
      std::max(8, 2 * static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)) + 2);
  constexpr int kTraps = 3000;
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto start = Clock::now();
  EXPECT_EQ(TrapInThreads(*platform_, *as_, regs, threads_n, kTraps),
            threads_n * kTraps);
  getrusage(RUSAGE_SELF, &after);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  printf("%d threads x %d traps: %.2f s wall, sentry user %.2f s, sys %.2f s\n",
         threads_n, kTraps,
         std::chrono::duration<double>(Clock::now() - start).count(),
         secs(after.ru_utime) - secs(before.ru_utime),
         secs(after.ru_stime) - secs(before.ru_stime));
}

TEST_F(SystrapTest, ReleasedThreadsAreReused) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const pid_t tid = sctx().stub_tid();
  ctx_->Release();
  auto other = platform_->NewContext();
  regs = Load(PROGRAM(prog_fpu_state));
  ASSERT_EQ(other->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(static_cast<SystrapContext&>(*other).stub_tid(), tid);
  EXPECT_EQ(regs.rdx, 0x1f80u);  // a fresh FP state for the new context
}

TEST_F(SystrapTest, MeasureSyscallRoundTrip) {
  Registers regs = Load(PROGRAM(prog_syscall_loop));
  constexpr int kWarm = 200, kN = 5000;
  for (int i = 0; i < kWarm; ++i) ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const auto start = Clock::now();
  for (int i = 0; i < kN; ++i) ctx_->Switch(*as_, regs);
  const double us =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kN;
  printf("systrap syscall trap round trip: %.2f us\n", us);
  const auto t0 = Clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ).has_value());
  }
  printf("systrap MapFile: %.2f us\n",
         std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / 200);
}

}  // namespace
}  // namespace platform::systrap
