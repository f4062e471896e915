// Syscall patching (platform/systrap/patch.h) with a fake AppMemory over
// the fixture's code page and a table page of the memory file.
#include <sys/mman.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "platform/systrap/systrap_abi.h"
#include "platform/systrap/test_fixture.h"

DECLARE_PROGRAM(prog_patch_loop);

namespace platform::systrap {
namespace {

using Kind = Trap::Kind;

constexpr uint64_t kTableOffset = 0x100000;

// The app memory the sentry's MemoryManager would be: the code page and,
// once mapped, the table.
class FakeAppMemory : public AppMemory {
 public:
  FakeAppMemory(AddressSpace& as, char* mem, uint64_t code_addr,
                uint64_t code_offset)
      : as_(as), mem_(mem), code_addr_(code_addr), code_offset_(code_offset) {}
  bool EditPrivateText(uint64_t addr, size_t len,
                       const std::function<void(uint8_t*)>& fn) override {
    if ((addr >> 12) != ((addr + len - 1) >> 12)) return false;
    uint64_t off;
    if (addr >= code_addr_ && addr < code_addr_ + 4096) {
      off = code_offset_ + (addr - code_addr_);
    } else if (table_ && addr >= SYSTRAP_TABLE_ADDR &&
               addr < SYSTRAP_TABLE_ADDR + SYSTRAP_TABLE_SIZE) {
      off = kTableOffset + (addr - SYSTRAP_TABLE_ADDR);
    } else {
      return false;
    }
    ++edits;
    fn(reinterpret_cast<uint8_t*>(mem_ + off));
    return true;
  }
  bool MapPlatformArea(uint64_t addr, uint64_t len, const char*) override {
    if (table_ || addr != SYSTRAP_TABLE_ADDR || len != SYSTRAP_TABLE_SIZE)
      return false;
    memset(mem_ + kTableOffset, 0, len);
    table_ =
        as_.MapFile(addr, len, kTableOffset, PROT_READ | PROT_EXEC).has_value();
    return table_;
  }
  int edits = 0;

 private:
  AddressSpace& as_;
  char* mem_;
  uint64_t code_addr_, code_offset_;
  bool table_ = false;
};

class SystrapPatchTest : public SystrapTest {
 protected:
  void SetUp() override {
    SystrapTest::SetUp();
    memory_ =
        std::make_unique<FakeAppMemory>(*as_, mem_, kCodeAddr, kCodeOffset);
    as_->SetAppMemory(memory_.get());
  }
  void TearDown() override {
    SystrapTest::TearDown();
    memory_.reset();
  }
  const uint8_t* Code() {
    return reinterpret_cast<const uint8_t*>(mem_ + kCodeOffset);
  }
  bool Patched() { return Code()[0] == 0xff && Code()[5] == 0x06; }
  bool Original() {
    const uint8_t want[7] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05};
    return memcmp(Code(), want, 7) == 0;
  }
  // Runs until the next trap, which must be getpid's at the site.
  void ExpectGetpid(Registers& regs) {
    Trap trap = ctx_->Switch(*as_, regs);
    ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
    EXPECT_EQ(regs.orig_rax, 39u);
    EXPECT_EQ(static_cast<int64_t>(regs.rax), -ENOSYS);
    EXPECT_EQ(regs.rip, kCodeAddr + 7);
    EXPECT_EQ(regs.rcx, regs.rip);  // as `syscall` leaves them
    EXPECT_EQ(regs.r11, regs.eflags);
  }
  std::unique_ptr<FakeAppMemory> memory_;
};

TEST_F(SystrapPatchTest, SiteIsPatchedAndTheFastPathKeepsTheRegisters) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ASSERT_TRUE(Original());
  ExpectGetpid(regs);  // through the seccomp trap, which patches the site
  ASSERT_TRUE(Patched());
  EXPECT_EQ(Code()[6], 0x00);

  regs.r8 = 0x0808080808080808;
  regs.r15 = 0x1515151515151515;
  regs.rdi = 0xd1d1d1d1;
  regs.rbx = 0xbbbbbbbb;
  regs.eflags |= 0x1;  // CF: rflags come back through r11
  for (int i = 1; i <= 5; ++i) {
    regs.rax = 1000 + i;  // the sentry's answer
    ExpectGetpid(regs);   // through the fast path now
    EXPECT_EQ(regs.r13, 1000u + i);
    EXPECT_EQ(regs.r12, static_cast<uint64_t>(i));
    EXPECT_EQ(regs.r8, 0x0808080808080808u);
    EXPECT_EQ(regs.r15, 0x1515151515151515u);
    EXPECT_EQ(regs.rdi, 0xd1d1d1d1u);
    EXPECT_EQ(regs.rbx, 0xbbbbbbbbu);
    EXPECT_EQ(regs.rsp, kDataAddr + kPage);
    EXPECT_TRUE(regs.eflags & 0x1);
  }
}

TEST_F(SystrapPatchTest, FpStateFlowsThroughTheFastPath) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ExpectGetpid(regs);
  ASSERT_TRUE(Patched());
  ExpectGetpid(regs);  // fast
  // Set xmm3 through the FP image: the program copies it into rbp.
  std::vector<uint8_t> fp;
  ASSERT_TRUE(ctx_->GetFpState(&fp).has_value());
  const uint64_t value = 0x3333444455556666;
  memcpy(fp.data() + 160 + 3 * 16, &value, 8);  // xmm3 in the FXSAVE area
  fp[512] |= 2;                                 // XSTATE_BV: SSE present
  ASSERT_TRUE(ctx_->SetFpState(fp).has_value());
  ExpectGetpid(regs);
  EXPECT_EQ(regs.rbp, value);
  // And the image the sentry reads is the thread's state.
  ASSERT_TRUE(ctx_->GetFpState(&fp).has_value());
  uint64_t got;
  memcpy(&got, fp.data() + 160 + 3 * 16, 8);
  EXPECT_EQ(got, value);
}

TEST_F(SystrapPatchTest, ThreadBetweenTheTwoInstructionsIsRestarted) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ExpectGetpid(regs);
  ASSERT_TRUE(Patched());
  // Ran the old mov, then met the new bytes where `syscall` was.
  regs.rip = kCodeAddr + 5;
  regs.rax = 39;
  ExpectGetpid(regs);
  // Or read part of the jmp as the mov's immediate.
  regs.rip = kCodeAddr + 5;
  regs.rax = 0x2524 | (uint64_t{Code()[4]} << 24);
  ExpectGetpid(regs);
}

TEST_F(SystrapPatchTest, OtherNumbersAtTheSyscallAreThatSyscall) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ExpectGetpid(regs);
  ASSERT_TRUE(Patched());
  for (uint64_t nr : {uint64_t{__NR_restart_syscall}, uint64_t{12}}) {
    regs.rip = kCodeAddr + 5;  // a restart (rip -= 2) or a jump there
    regs.rax = nr;
    Trap trap = ctx_->Switch(*as_, regs);
    ASSERT_EQ(trap.kind, Kind::kSyscall) << KindName(trap.kind);
    EXPECT_EQ(regs.orig_rax, nr);
    EXPECT_EQ(regs.rip, kCodeAddr + 7);
    EXPECT_EQ(regs.rcx, regs.rip);
  }
}

TEST_F(SystrapPatchTest, AGsBaseOfTheAppsUndoesThePatches) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ExpectGetpid(regs);
  ASSERT_TRUE(Patched());
  regs.gs_base = kDataAddr;
  ExpectGetpid(regs);
  EXPECT_TRUE(Original());
  const int edits = memory_->edits;
  ExpectGetpid(regs);  // the seccomp trap again; no new patch
  EXPECT_TRUE(Original());
  EXPECT_EQ(memory_->edits, edits);
}

TEST_F(SystrapPatchTest, SharedOrForeignTextIsNotPatched) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  as_->SetAppMemory(nullptr);
  ExpectGetpid(regs);
  EXPECT_TRUE(Original());
}

TEST_F(SystrapPatchTest, MeasureFastPathRoundTrip) {
  Registers regs = Load(PROGRAM(prog_patch_loop));
  ExpectGetpid(regs);
  ASSERT_TRUE(Patched());
  constexpr int kRounds = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  }
  const double us = std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - start)
                        .count() /
                    kRounds;
  printf("systrap patched syscall round trip: %.2f us\n", us);
}

}  // namespace
}  // namespace platform::systrap
