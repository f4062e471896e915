// Traps, injected syscalls, interrupts and death of the ptrace platform.
// The security invariants are in ptrace_security_test.cc.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "platform/ptrace/test_fixture.h"

DECLARE_PROGRAM(prog_two_syscalls);
DECLARE_PROGRAM(prog_syscall_loop);
DECLARE_PROGRAM(prog_store_load);
DECLARE_PROGRAM(prog_ud2);
DECLARE_PROGRAM(prog_int3);
DECLARE_PROGRAM(prog_spin);

namespace platform::ptrace {
namespace {

using Kind = Trap::Kind;
using Clock = std::chrono::steady_clock;

TEST_F(PtraceTest, SyscallsTrapAndRegistersFlowThrough) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  regs.r12 = 0x1122334455667788;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.orig_rax, 39u);
  // SYSEMU skipped the host syscall: rax still holds the entry -ENOSYS.
  EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
  EXPECT_EQ(regs.rip, kCodeAddr + 7);  // past `mov $39,%eax; syscall`
  EXPECT_EQ(regs.r12, 0x1122334455667788u);

  regs.rax = 0xabcdef;  // the sentry's answer
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.orig_rax, 60u);
  EXPECT_EQ(regs.rdi, 0xabcdefu);
  EXPECT_EQ(regs.rsi, 0x1122334455667788u);

  // exit() did not reach the host either: the stub still runs.
  regs = Load(PROGRAM(prog_two_syscalls));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
}

TEST_F(PtraceTest, MemoryIsTheMemoryFile) {
  Registers regs = Load(PROGRAM(prog_store_load));
  regs.rdi = kDataAddr + 8;
  regs.rsi = 0x5a5a5a5a;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 0x5a5a5a5au);
  EXPECT_EQ(DataWord(1), 0x5a5a5a5au);  // written by the app, seen here
}

TEST_F(PtraceTest, FaultOnUnmappedPageThenMapAndRetry) {
  Registers regs = Load(PROGRAM(prog_store_load));
  regs.rdi = kSpareAddr + 16;
  regs.rsi = 77;
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGSEGV);
  EXPECT_EQ(trap.info.si_code, SEGV_MAPERR);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), kSpareAddr + 16);
  EXPECT_EQ(regs.rip, kCodeAddr);  // at the faulting instruction

  // What the sentry's fault handler does: map, then run the same regs.
  ASSERT_TRUE(
      as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ | PROT_WRITE)
          .has_value());
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
  EXPECT_EQ(regs.rdx, 77u);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(mem_ + kSpareOffset + 16), 77u);
}

TEST_F(PtraceTest, ProtectAndUnmap) {
  const Registers start = Load(PROGRAM(prog_store_load));
  Registers regs = start;
  regs.rdi = kDataAddr;
  ASSERT_TRUE(as_->Protect(kDataAddr, kPage, PROT_READ).has_value());
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_code, SEGV_ACCERR);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), kDataAddr);

  ASSERT_TRUE(as_->Unmap(kDataAddr, kPage).has_value());
  regs = start;
  regs.rdi = kDataAddr;
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_code, SEGV_MAPERR);

  // Errors of the injected syscall come back as errnos.
  EXPECT_EQ(as_->Protect(kSpareAddr, kPage, PROT_READ).error(),
            base::Errno(ENOMEM));
}

TEST_F(PtraceTest, AccessBeyondTheMemoryFileIsSigbus) {
  Registers regs = Load(PROGRAM(prog_store_load));
  ASSERT_TRUE(as_->MapFile(kSpareAddr, kPage, kMemSize, PROT_READ | PROT_WRITE)
                  .has_value());
  regs.rdi = kSpareAddr;
  const Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGBUS);
  EXPECT_EQ(trap.info.si_code, BUS_ADRERR);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), kSpareAddr);
}

TEST_F(PtraceTest, CpuSignals) {
  Registers regs = Load(PROGRAM(prog_ud2));
  Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSignal) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGILL);
  EXPECT_EQ(trap.info.si_code, ILL_ILLOPN);
  EXPECT_EQ(regs.rip, kCodeAddr);

  regs = Load(PROGRAM(prog_int3));
  trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSignal) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGTRAP);
  EXPECT_EQ(regs.rip, kCodeAddr + 1);  // past the int3

  // A delivered-and-suppressed signal leaves the stub usable.
  regs = Load(PROGRAM(prog_two_syscalls));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
}

TEST_F(PtraceTest, InterruptStopsASpinningApp) {
  Registers regs = Load(PROGRAM(prog_spin));
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx_->Interrupt();
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  interrupter.join();
  ASSERT_EQ(trap.kind, Kind::kInterrupt) << KindName(trap.kind);
  EXPECT_GE(regs.rip, kCodeAddr);
  EXPECT_LT(regs.rip, kCodeAddr + 2);
}

TEST_F(PtraceTest, InterruptBeforeSwitchReturnsAtOnce) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  const Registers before = regs;
  ctx_->Interrupt();
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kInterrupt);
  EXPECT_EQ(regs.rip, before.rip);  // never ran
  // Consumed: the next Switch runs the app.
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
}

// An Interrupt at any moment around a Switch must make one Switch return
// kInterrupt: the app spins, so a lost interrupt would hang (the watchdog
// then kills the stub and the Switch returns kDead instead).
TEST_F(PtraceTest, InterruptIsNeverLost) {
  const Registers start = Load(PROGRAM(prog_spin));
  const pid_t stub = pas().stub_pid();
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    Registers regs = start;
    const auto delay = std::chrono::microseconds(rng() % 300);
    std::atomic<bool> done{false};
    std::thread interrupter([&] {
      std::this_thread::sleep_for(delay);
      ctx_->Interrupt();
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (!done && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (!done) kill(stub, SIGKILL);  // watchdog
    });
    const Trap trap = ctx_->Switch(*as_, regs);
    done = true;
    interrupter.join();
    ASSERT_EQ(trap.kind, Kind::kInterrupt)
        << KindName(trap.kind) << " in round " << i;
  }
}

// Interrupts racing with a stream of syscall traps: each Interrupt yields
// one kInterrupt, possibly after a few more syscalls; stale signals left
// behind never produce extra ones.
TEST_F(PtraceTest, InterruptsRacingWithSyscalls) {
  Registers regs = Load(PROGRAM(prog_syscall_loop));
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::thread interrupter([&, delay = rng() % 200] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay));
      ctx_->Interrupt();
    });
    int interrupts = 0;
    for (int syscalls = 0; interrupts == 0; ++syscalls) {
      const Trap trap = ctx_->Switch(*as_, regs);
      if (trap.kind == Kind::kInterrupt) {
        ++interrupts;
      } else {
        ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
        regs.rax = 0;
      }
      ASSERT_LT(syscalls, 1000000) << "interrupt lost in round " << i;
    }
    interrupter.join();
  }
  // No interrupt pending: a burst of syscalls sees none.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  }
}

TEST_F(PtraceTest, KilledWhileStoppedIsDead) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  ASSERT_EQ(kill(pas().stub_pid(), SIGKILL), 0);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kDead);
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kDead);
  EXPECT_EQ(as_->MapFile(kSpareAddr, kPage, 0, PROT_READ).error(),
            base::Errno(ESRCH));
}

TEST_F(PtraceTest, KilledWhileRunningIsDead) {
  Registers regs = Load(PROGRAM(prog_spin));
  const pid_t stub = pas().stub_pid();
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(stub, SIGKILL);
  });
  const Trap trap = ctx_->Switch(*as_, regs);
  killer.join();
  EXPECT_EQ(trap.kind, Kind::kDead) << KindName(trap.kind);
}

// Not an assertion: the cost of the hot path on this machine.
TEST_F(PtraceTest, MeasureSyscallRoundTrip) {
  Registers regs = Load(PROGRAM(prog_syscall_loop));
  constexpr int kTraps = 100000;
  const auto start = Clock::now();
  for (int i = 0; i < kTraps; ++i) {
    const Trap trap = ctx_->Switch(*as_, regs);
    ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
    regs.rax = i;
  }
  const double trap_us =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
      kTraps;

  // What PTRACE_GET_SYSCALL_INFO (an int $0x80 detector) would add per trap.
  constexpr int kInfos = 100000;
  __ptrace_syscall_info info{};
  const auto info_start = Clock::now();
  for (int i = 0; i < kInfos; ++i) {
    ASSERT_GT(::ptrace(PTRACE_GET_SYSCALL_INFO, pctx().stub_tid(),
                       sizeof(info), &info),
              0);
  }
  const double info_us =
      std::chrono::duration<double, std::micro>(Clock::now() - info_start)
          .count() /
      kInfos;

  // And an injected syscall (MapFile), on the page-fault path.
  constexpr int kMaps = 10000;
  const auto map_start = Clock::now();
  for (int i = 0; i < kMaps; ++i) {
    ASSERT_TRUE(
        as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ).has_value());
  }
  const double map_us =
      std::chrono::duration<double, std::micro>(Clock::now() - map_start)
          .count() /
      kMaps;

  printf("[ measure  ] syscall trap round trip: %.2f us\n", trap_us);
  printf("[ measure  ] PTRACE_GET_SYSCALL_INFO: %.2f us\n", info_us);
  printf("[ measure  ] MapFile (injected mmap): %.2f us\n", map_us);
  RecordProperty("syscall_trap_us", std::to_string(trap_us));
  RecordProperty("get_syscall_info_us", std::to_string(info_us));
  RecordProperty("map_file_us", std::to_string(map_us));
}

}  // namespace
}  // namespace platform::ptrace
