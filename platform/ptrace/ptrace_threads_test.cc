// Multi-threaded address spaces: several host threads, each with its own
// Context, run in one stub process; mappings change from any thread.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/ptrace/test_fixture.h"
#include "platform/ptrace/test_host_thread.h"
#include "platform/ptrace/test_proc.h"

DECLARE_PROGRAM(prog_two_syscalls);
DECLARE_PROGRAM(prog_syscall_loop);
DECLARE_PROGRAM(prog_store_load);
DECLARE_PROGRAM(prog_load);
DECLARE_PROGRAM(prog_wait_flag);
DECLARE_PROGRAM(prog_spin_read);
DECLARE_PROGRAM(prog_spin);

namespace platform::ptrace {
namespace {

using Kind = Trap::Kind;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class PtraceThreadsTest : public PtraceTest {
 protected:
  // Programs live one per page from kProgAddr (file offset kProgOffset).
  static constexpr uint64_t kProgAddr = 0x500000, kProgOffset = 0x100000;

  void SetUp() override {
    PtraceTest::SetUp();
    (void)Load(PROGRAM(prog_two_syscalls));  // the data page, too
  }

  // Maps `program` r-x at its own page; returns registers to run it with
  // the stack in `stack_slot`'s eighth of the data page.
  Registers Prog(Program program, int slot, int stack_slot = 0) {
    const uint64_t size = program.end - program.begin;
    EXPECT_LE(size, kPage);
    const uint64_t offset = kProgOffset + slot * kPage;
    memset(mem_ + offset, 0xcc, kPage);
    memcpy(mem_ + offset, program.begin, size);
    const uint64_t addr = kProgAddr + slot * kPage;
    EXPECT_TRUE(
        as_->MapFile(addr, kPage, offset, PROT_READ | PROT_EXEC).has_value());
    Registers regs{};
    regs.rip = addr;
    regs.rsp = kDataAddr + kPage - stack_slot * (kPage / 8);
    return regs;
  }

  // Runs `regs` on `t` until a trap that is not kSyscall, or one syscall.
  static void Switch(HostThread& t, AddressSpace& as, Registers& regs,
                     Kind* kind, siginfo_t* info = nullptr) {
    t.Start([&as, &regs, kind, info](auto& ctx) {
      const Trap trap = ctx->Switch(as, regs);
      *kind = trap.kind;
      if (info != nullptr) *info = trap.info;
    });
  }

  // Waits for `t`; if it is still running after a while, interrupts it
  // (the test then fails on the trap kind rather than hanging).
  static void WaitOrInterrupt(HostThread& t) {
    if (t.Wait(milliseconds(5000))) return;
    ADD_FAILURE() << "thread " << t.tid() << " still running; interrupting";
    t.ctx().Interrupt();
    t.Wait(std::chrono::hours(1));
  }

  size_t ThreadCount() { return TaskIds(pas().stub_pid()).size(); }
  static pid_t StubTid(HostThread& t) {
    return static_cast<PtraceContext&>(t.ctx()).stub_tid();
  }
};

TEST_F(PtraceThreadsTest, ThreadsShareMemoryAndRunAtOnce) {
  HostThread a(*platform_), b(*platform_);
  // a spins until the app on b writes the flag: both run at once.
  Registers wait = Prog(PROGRAM(prog_wait_flag), 0, 0);
  wait.rdi = kDataAddr;
  wait.rsi = 0x77;
  Kind a_kind = Kind::kDead, b_kind = Kind::kDead;
  Switch(a, *as_, wait, &a_kind);
  std::this_thread::sleep_for(milliseconds(20));
  Registers store = Prog(PROGRAM(prog_store_load), 1, 1);
  store.rdi = kDataAddr;
  store.rsi = 0x77;
  Switch(b, *as_, store, &b_kind);
  ASSERT_TRUE(b.Wait());
  EXPECT_EQ(b_kind, Kind::kSyscall);
  WaitOrInterrupt(a);
  EXPECT_EQ(a_kind, Kind::kSyscall);
  EXPECT_EQ(wait.orig_rax, 39u);

  // And the other way round, one after the other.
  store = Prog(PROGRAM(prog_store_load), 1, 0);
  store.rdi = kDataAddr + 8;
  store.rsi = 0x88;
  Switch(a, *as_, store, &a_kind);
  ASSERT_TRUE(a.Wait());
  Registers load = Prog(PROGRAM(prog_load), 2, 1);
  load.rdi = kDataAddr + 8;
  Switch(b, *as_, load, &b_kind);
  ASSERT_TRUE(b.Wait());
  EXPECT_EQ(b_kind, Kind::kSyscall);
  EXPECT_EQ(load.rdx, 0x88u);

  // The leader and one thread per context; each traced by its own thread,
  // each under the seccomp filter.
  const pid_t stub = pas().stub_pid();
  EXPECT_EQ(ThreadCount(), 3u);
  for (HostThread* t : {&a, &b}) {
    const pid_t tid = StubTid(*t);
    EXPECT_EQ(StatusField(stub, "TracerPid", tid), std::to_string(t->tid()));
    EXPECT_EQ(StatusField(stub, "Seccomp", tid), "2");
    EXPECT_EQ(StatusField(stub, "NoNewPrivs", tid), "1");
  }
  EXPECT_EQ(StatusField(stub, "TracerPid", stub),
            std::to_string(platform_->control_tid()));
}

TEST_F(PtraceThreadsTest, MapFileFromAThreadThatNeverSwitched) {
  HostThread a(*platform_), b(*platform_);
  Registers load = Prog(PROGRAM(prog_load), 0);
  load.rdi = kSpareAddr + 16;
  Kind kind = Kind::kDead;
  siginfo_t info{};
  for (HostThread* t : {&a, &b}) {  // both fault: nothing mapped there yet
    Registers regs = load;
    Switch(*t, *as_, regs, &kind, &info);
    ASSERT_TRUE(t->Wait());
    EXPECT_EQ(kind, Kind::kPageFault);
  }
  EXPECT_EQ(ThreadCount(), 3u);
  *reinterpret_cast<uint64_t*>(mem_ + kSpareOffset + 16) = 0x4242;
  std::thread([&] {
    EXPECT_TRUE(as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ)
                    .has_value());
  }).join();
  EXPECT_EQ(ThreadCount(), 3u);  // the mapping thread added none
  for (HostThread* t : {&a, &b}) {
    Registers regs = load;
    Switch(*t, *as_, regs, &kind);
    ASSERT_TRUE(t->Wait());
    EXPECT_EQ(kind, Kind::kSyscall);
    EXPECT_EQ(regs.rdx, 0x4242u);
  }
}

// Unmap is synchronous: when it returns, a thread reading the page in a
// loop faults, whether the unmapping thread has a stub thread of its own
// there (b) or not (this one, through the control thread).
TEST_F(PtraceThreadsTest, UnmapWhileAnotherThreadSpins) {
  HostThread a(*platform_), b(*platform_);
  Registers join = Prog(PROGRAM(prog_two_syscalls), 1, 1);
  Kind kind = Kind::kDead;
  Switch(b, *as_, join, &kind);
  ASSERT_TRUE(b.Wait());
  for (bool from_b : {true, false}) {
    ASSERT_TRUE(as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ)
                    .has_value());
    Registers spin = Prog(PROGRAM(prog_spin_read), 0);
    spin.rdi = kSpareAddr + 8;
    siginfo_t info{};
    Switch(a, *as_, spin, &kind, &info);
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_FALSE(a.Wait(milliseconds(0)));  // still spinning
    if (from_b) {
      b.Run([&](auto&) { EXPECT_TRUE(as_->Unmap(kSpareAddr, kPage)); });
    } else {
      EXPECT_TRUE(as_->Unmap(kSpareAddr, kPage).has_value());
    }
    WaitOrInterrupt(a);
    EXPECT_EQ(kind, Kind::kPageFault) << "unmapped from b: " << from_b;
    EXPECT_EQ(info.si_code, SEGV_MAPERR);
    EXPECT_EQ(reinterpret_cast<uint64_t>(info.si_addr), kSpareAddr + 8);
  }
}

// A task thread that exits ends its stub thread only: explicitly (its
// context destroyed on its thread) or by the host thread's exit alone.
TEST_F(PtraceThreadsTest, ThreadExitLeavesTheProcessRunning) {
  auto a = std::make_unique<HostThread>(*platform_);
  auto b = std::make_unique<HostThread>(*platform_);
  auto c = std::make_unique<HostThread>(*platform_);
  Kind kind = Kind::kDead;
  int slot = 0;
  for (HostThread* t : {a.get(), b.get(), c.get()}) {
    Registers regs = Prog(PROGRAM(prog_two_syscalls), slot, slot);
    ++slot;
    Switch(*t, *as_, regs, &kind);
    ASSERT_TRUE(t->Wait());
    ASSERT_EQ(kind, Kind::kSyscall);
  }
  EXPECT_EQ(ThreadCount(), 4u);
  const pid_t a_stub = StubTid(*a);
  a->Run([](auto& ctx) { ctx.reset(); });  // Release on its own thread
  EXPECT_EQ(ThreadCount(), 3u);
  EXPECT_TRUE(IsGone(a_stub));
  a.reset();
  // c's host thread exits with its context alive; the context dies later,
  // elsewhere, and must neither hang nor kill anything.
  std::unique_ptr<Context> orphan = std::move(c->ctx_ptr());
  c.reset();
  EXPECT_EQ(ThreadCount(), 2u);
  orphan.reset();
  EXPECT_FALSE(IsGone(pas().stub_pid()));
  Registers regs = Prog(PROGRAM(prog_syscall_loop), 3, 3);
  for (int i = 0; i < 100; ++i) {
    Switch(*b, *as_, regs, &kind);
    ASSERT_TRUE(b->Wait());
    ASSERT_EQ(kind, Kind::kSyscall);
  }
  // b's context can also leave and come back: a new stub thread.
  b->Run([&](auto& ctx) {
    ctx->Release();
    EXPECT_EQ(ThreadCount(), 1u);
    EXPECT_EQ(ctx->Switch(*as_, regs).kind, Kind::kSyscall);
  });
  EXPECT_EQ(ThreadCount(), 2u);
}

TEST_F(PtraceThreadsTest, DestroyFromAnotherThreadWhileThreadsRun) {
  HostThread a(*platform_), b(*platform_);
  Registers spin = Prog(PROGRAM(prog_spin), 0);
  Registers idle = Prog(PROGRAM(prog_two_syscalls), 1, 1);
  Kind a_kind = Kind::kSyscall, b_kind = Kind::kDead;
  Switch(b, *as_, idle, &b_kind);
  ASSERT_TRUE(b.Wait());
  Switch(a, *as_, spin, &a_kind);
  std::this_thread::sleep_for(milliseconds(20));
  const pid_t stub = pas().stub_pid();
  const std::vector<pid_t> tids = TaskIds(stub);
  EXPECT_EQ(tids.size(), 3u);
  std::thread([&] { as_.reset(); }).join();
  WaitOrInterrupt(a);
  EXPECT_EQ(a_kind, Kind::kDead);
  EXPECT_TRUE(BecomesGone(stub));
  for (const pid_t tid : tids) EXPECT_TRUE(IsGone(tid)) << tid;
  // Both contexts go on in a new address space.
  auto as = platform_->NewAddressSpace();
  ASSERT_TRUE(as.has_value());
  as_ = std::move(*as);
  idle = Load(PROGRAM(prog_two_syscalls));
  for (HostThread* t : {&a, &b}) {
    Registers regs = idle;
    Switch(*t, *as_, regs, &b_kind);
    ASSERT_TRUE(t->Wait());
    EXPECT_EQ(b_kind, Kind::kSyscall);
  }
  EXPECT_EQ(ThreadCount(), 3u);
}

TEST_F(PtraceThreadsTest, InterruptReachesOnlyItsThread) {
  HostThread a(*platform_), b(*platform_);
  Registers a_regs = Prog(PROGRAM(prog_spin), 0);
  Registers b_regs = a_regs;
  Kind a_kind = Kind::kDead, b_kind = Kind::kDead;
  Switch(a, *as_, a_regs, &a_kind);
  Switch(b, *as_, b_regs, &b_kind);
  std::this_thread::sleep_for(milliseconds(20));
  a.ctx().Interrupt();
  WaitOrInterrupt(a);
  EXPECT_EQ(a_kind, Kind::kInterrupt);
  EXPECT_FALSE(b.Wait(milliseconds(100)));  // still spinning
  b.ctx().Interrupt();
  WaitOrInterrupt(b);
  EXPECT_EQ(b_kind, Kind::kInterrupt);
}

// Threads come and go while others map and unmap: nothing leaks, nothing
// dies.
TEST_F(PtraceThreadsTest, ThreadsComeAndGoWhileMappingsChange) {
  Registers loop = Prog(PROGRAM(prog_syscall_loop), 0);
  std::mutex mu;
  std::vector<std::unique_ptr<Context>> orphans;  // guarded by mu
  std::atomic<bool> stop{false};
  std::thread mapper([&] {
    while (!stop) {
      EXPECT_TRUE(as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ));
      EXPECT_TRUE(as_->Unmap(kSpareAddr, kPage));
    }
  });
  for (int round = 0; round < 5; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto ctx = platform_->NewContext();
        Registers regs = loop;
        regs.rsp -= i * 64;
        for (int n = 0; n < 50; ++n)
          ASSERT_EQ(ctx->Switch(*as_, regs).kind, Kind::kSyscall);
        // Half the contexts outlive their thread: its exit releases them.
        if (i % 2) {
          std::lock_guard lock(mu);
          orphans.push_back(std::move(ctx));
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ThreadCount(), 1u) << "round " << round;
  }
  stop = true;
  mapper.join();
  orphans.clear();  // not on their threads: a no-op
  EXPECT_EQ(ThreadCount(), 1u);
}

// Not an assertion: what threads cost on this machine.
TEST_F(PtraceThreadsTest, MeasureThreadCosts) {
  Registers loop = Prog(PROGRAM(prog_syscall_loop), 0);
  constexpr int kThreads = 50, kMaps = 2000, kTraps = 20000;
  double join_us = 0, release_us = 0;
  for (int i = 0; i < kThreads; ++i) {
    std::thread([&] {
      auto ctx = platform_->NewContext();
      Registers regs = loop;
      auto start = Clock::now();
      ASSERT_EQ(ctx->Switch(*as_, regs).kind, Kind::kSyscall);
      join_us += std::chrono::duration<double, std::micro>(Clock::now() - start)
                     .count();
      start = Clock::now();
      ctx.reset();
      release_us +=
          std::chrono::duration<double, std::micro>(Clock::now() - start)
              .count();
    }).join();
  }
  auto time_maps = [&] {
    const auto start = Clock::now();
    for (int i = 0; i < kMaps; ++i)
      EXPECT_TRUE(as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ));
    return std::chrono::duration<double, std::micro>(Clock::now() - start)
               .count() / kMaps;
  };
  const double foreign_map_us = time_maps();  // no stub thread: control
  Registers regs = loop;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const double own_map_us = time_maps();  // through its own stub thread
  // Two threads trapping at once in one process (2 vCPUs).
  HostThread other(*platform_);
  Registers other_regs = Prog(PROGRAM(prog_syscall_loop), 1, 1);
  other.Start([&](auto& ctx) {
    for (int i = 0; i < kTraps; ++i) ctx->Switch(*as_, other_regs);
  });
  const auto start = Clock::now();
  for (int i = 0; i < kTraps; ++i) ctx_->Switch(*as_, regs);
  const double shared_trap_us =
      std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
      kTraps;
  ASSERT_TRUE(other.Wait(std::chrono::minutes(5)));
  printf("[ measure  ] new stub thread (first Switch): %.1f us\n",
         join_us / kThreads);
  printf("[ measure  ] release (injected exit): %.1f us\n",
         release_us / kThreads);
  printf("[ measure  ] MapFile, own stub thread: %.1f us\n", own_map_us);
  printf("[ measure  ] MapFile, foreign thread (control): %.1f us\n",
         foreign_map_us);
  printf("[ measure  ] trap round trip, 2 threads at once: %.1f us\n",
         shared_trap_us);
}

}  // namespace
}  // namespace platform::ptrace
