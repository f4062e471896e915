// FP state of the ptrace platform: Context::GetFpState / SetFpState.
#include <cpuid.h>

#include <cstring>
#include <thread>
#include <vector>

#include "platform/ptrace/fp_state.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/test_fixture.h"

DECLARE_PROGRAM(prog_fpu_set_report);
DECLARE_PROGRAM(prog_fpu_report);

namespace platform::ptrace {
namespace {

using Kind = Trap::Kind;

constexpr uint64_t kLow = 0x1122334455667788, kHigh = 0x99aabbccddeeff00;
// Round toward zero, flush-to-zero, all exceptions masked.
constexpr uint32_t kMxcsr = 0xff80;

uint64_t Word(const std::vector<uint8_t>& s, size_t offset) {
  uint64_t v;
  memcpy(&v, s.data() + offset, sizeof(v));
  return v;
}
uint32_t Word32(const std::vector<uint8_t>& s, size_t offset) {
  uint32_t v;
  memcpy(&v, s.data() + offset, sizeof(v));
  return v;
}
template <class T>
void Put(std::vector<uint8_t>& s, size_t offset, T v) {
  memcpy(s.data() + offset, &v, sizeof(v));
}

// xmm0 and MXCSR in a state, for tests that move values around.
void SetXmm0AndMxcsr(std::vector<uint8_t>& s, uint64_t lo, uint64_t hi,
                     uint32_t mxcsr) {
  Put(s, kFpXmmOffset, lo);
  Put(s, kFpXmmOffset + 8, hi);
  Put(s, kFpMxcsrOffset, mxcsr);
  // Make sure the XSAVE header says SSE (and x87) are present.
  if (s.size() > kFxsaveSize)
    Put(s, kXsaveHeaderOffset, Word(s, kXsaveHeaderOffset) | 0x3);
}

class PtraceFpTest : public PtraceTest {
 protected:
  // Runs prog_fpu_set_report to its getpid: xmm0 = kHigh:kLow, MXCSR set.
  Registers RunToFirstTrap(Context& ctx) {
    Registers regs = Load(PROGRAM(prog_fpu_set_report));
    regs.rdi = kLow;
    regs.rsi = kHigh;
    regs.rdx = kMxcsr;
    EXPECT_EQ(ctx.Switch(*as_, regs).kind, Kind::kSyscall);
    EXPECT_EQ(regs.orig_rax, 39u);
    return regs;
  }
};

TEST_F(PtraceFpTest, SizeIsWhatCpuidSaysAndWhatTheKernelMoves) {
  unsigned eax, ebx, ecx, edx;
  __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
  EXPECT_EQ(platform_->FpStateSize(), ebx);
  EXPECT_TRUE(platform_->fp_format().xsave);
  RunToFirstTrap(*ctx_);
  std::vector<uint8_t> state;
  ASSERT_TRUE(ctx_->GetFpState(&state).has_value());  // checks the length
  EXPECT_EQ(state.size(), platform_->FpStateSize());
}

TEST_F(PtraceFpTest, GetSeesTheAppAndSetChangesIt) {
  Registers regs = RunToFirstTrap(*ctx_);
  std::vector<uint8_t> state;
  ASSERT_TRUE(ctx_->GetFpState(&state).has_value());
  EXPECT_EQ(Word(state, kFpXmmOffset), kLow);
  EXPECT_EQ(Word(state, kFpXmmOffset + 8), kHigh);
  EXPECT_EQ(Word32(state, kFpMxcsrOffset), kMxcsr);

  SetXmm0AndMxcsr(state, 0xabcdef, 0x123456, 0x1f80);
  ASSERT_TRUE(ctx_->SetFpState(state).has_value());
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.orig_rax, 60u);
  EXPECT_EQ(regs.rdi, 0xabcdefu);
  EXPECT_EQ(regs.rsi, 0x123456u);
  EXPECT_EQ(regs.rdx, 0x1f80u);
}

// The state the sentry passes on must never be trusted: it may come from
// a sigreturn frame the app wrote. Bad states are EINVAL, and the app's
// state stays as it was.
TEST_F(PtraceFpTest, BadStatesAreRefused) {
  Registers regs = RunToFirstTrap(*ctx_);
  std::vector<uint8_t> good;
  ASSERT_TRUE(ctx_->GetFpState(&good).has_value());
  const auto einval = base::Errno(EINVAL);

  std::vector<uint8_t> bad = good;
  Put<uint32_t>(bad, kFpMxcsrOffset, 0xffffffff);  // reserved MXCSR bits
  EXPECT_EQ(ctx_->SetFpState(bad).error(), einval);
  bad = good;
  Put<uint64_t>(bad, kXsaveHeaderOffset + 8, uint64_t{1} << 63);  // compacted
  EXPECT_EQ(ctx_->SetFpState(bad).error(), einval);
  bad = good;
  Put<uint64_t>(bad, kXsaveHeaderOffset, uint64_t{1} << 62);  // unknown
  EXPECT_EQ(ctx_->SetFpState(bad).error(), einval);
  bad = good;
  bad[kXsaveHeaderOffset + 40] = 1;  // header reserved bytes
  EXPECT_EQ(ctx_->SetFpState(bad).error(), einval);
  bad = good;
  bad.pop_back();
  EXPECT_EQ(ctx_->SetFpState(bad).error(), einval);
  EXPECT_EQ(ctx_->SetFpState({}).error(), einval);

  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, kLow);
  EXPECT_EQ(regs.rsi, kHigh);
  EXPECT_EQ(regs.rdx, kMxcsr);
}

// fork: the child's context gets the parent's state before it ever ran.
TEST_F(PtraceFpTest, SetBeforeTheFirstSwitchAppliesThere) {
  RunToFirstTrap(*ctx_);
  std::vector<uint8_t> parent;
  ASSERT_TRUE(ctx_->GetFpState(&parent).has_value());

  auto child_as = platform_->NewAddressSpace();
  ASSERT_TRUE(child_as.has_value());
  auto child = platform_->NewContext();
  // A bad state is refused now, not at the Switch.
  std::vector<uint8_t> bad = parent;
  Put<uint32_t>(bad, kFpMxcsrOffset, 0xffffffff);
  EXPECT_EQ(child->SetFpState(bad).error(), base::Errno(EINVAL));
  ASSERT_TRUE(child->SetFpState(parent).has_value());
  std::vector<uint8_t> kept;
  ASSERT_TRUE(child->GetFpState(&kept).has_value());
  EXPECT_EQ(kept, parent);

  std::swap(as_, *child_as);  // Load() maps into as_
  Registers regs = Load(PROGRAM(prog_fpu_report));
  ASSERT_EQ(child->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.orig_rax, 60u);
  EXPECT_EQ(regs.rdi, kLow);
  EXPECT_EQ(regs.rsi, kHigh);
  EXPECT_EQ(regs.rdx, kMxcsr);
  child.reset();
  child_as->reset();
}

TEST_F(PtraceFpTest, InitStateIsAcceptedAndClean) {
  Registers regs = RunToFirstTrap(*ctx_);
  const std::vector<uint8_t> init = InitFpState(platform_->fp_format());
  std::vector<uint8_t> before_switch;
  auto fresh = platform_->NewContext();
  ASSERT_TRUE(fresh->GetFpState(&before_switch).has_value());
  EXPECT_EQ(before_switch, init);

  ASSERT_TRUE(ctx_->SetFpState(init).has_value());
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, 0u);
  EXPECT_EQ(regs.rsi, 0u);
  EXPECT_EQ(regs.rdx, uint64_t{STUB_MXCSR_DEFAULT});
  EXPECT_EQ(regs.r10, 0x37fu);
}

// A component absent from the header (XSTATE_BV bit clear) is loaded in
// its init state, and MXCSR comes from the buffer all the same, as Intel's
// XRSTOR does. SETREGSET alone copies MXCSR only if x87, SSE or AVX is
// present; otherwise this AMD host gave 0x1f80 (not the buffer's value),
// and by the kernel source an Intel host would keep the thread's old one.
TEST_F(PtraceFpTest, AbsentComponentsLoadAsXrstorWould) {
  Registers regs = RunToFirstTrap(*ctx_);  // xmm0 = kHigh:kLow, kMxcsr
  std::vector<uint8_t> state;
  ASSERT_TRUE(ctx_->GetFpState(&state).has_value());
  Put<uint64_t>(state, kXsaveHeaderOffset, 0);  // nothing present
  Put<uint32_t>(state, kFpMxcsrOffset, 0x3f80);
  Put<uint16_t>(state, 0, 0x27f);  // ignored: x87 absent
  ASSERT_TRUE(ctx_->SetFpState(state).has_value());
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, 0u);  // xmm0 in its init state
  EXPECT_EQ(regs.rsi, 0u);
  EXPECT_EQ(regs.rdx, 0x3f80u);
  EXPECT_EQ(regs.r10, 0x37fu);
}

// Each thread of a process has its own FP state: two threads run the same
// program with different values, interleaved.
TEST_F(PtraceFpTest, StateIsPerThread) {
  Registers regs = RunToFirstTrap(*ctx_);  // xmm0 = kHigh:kLow
  Registers other = regs;
  std::thread([&] {
    auto ctx = platform_->NewContext();
    other.rip = kCodeAddr;
    other.rsp = kDataAddr + kPage / 2;
    other.rdi = 1;
    other.rsi = 2;
    other.rdx = 0x1f80;
    ASSERT_EQ(ctx->Switch(*as_, other).kind, Kind::kSyscall);
    ASSERT_EQ(ctx->Switch(*as_, other).kind, Kind::kSyscall);
  }).join();
  EXPECT_EQ(other.rdi, 1u);
  EXPECT_EQ(other.rsi, 2u);
  EXPECT_EQ(other.rdx, 0x1f80u);
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, kLow);
  EXPECT_EQ(regs.rsi, kHigh);
  EXPECT_EQ(regs.rdx, kMxcsr);
}

// Without XSAVE the state is the 512-byte FXSAVE area (PTRACE_GETFPREGS).
// Every x86-64 host has that path, so it is tested here on its own.
TEST_F(PtraceFpTest, FxsaveFallback) {
  ctx_ = std::make_unique<PtraceContext>(FxsaveFpFormat());
  Registers regs = RunToFirstTrap(*ctx_);
  std::vector<uint8_t> state;
  ASSERT_TRUE(ctx_->GetFpState(&state).has_value());
  ASSERT_EQ(state.size(), kFxsaveSize);
  EXPECT_EQ(Word(state, kFpXmmOffset), kLow);
  EXPECT_EQ(Word32(state, kFpMxcsrOffset), kMxcsr);
  std::vector<uint8_t> bad = state;
  Put<uint32_t>(bad, kFpMxcsrOffset, 0xffffffff);
  EXPECT_EQ(ctx_->SetFpState(bad).error(), base::Errno(EINVAL));
  SetXmm0AndMxcsr(state, 7, 8, 0x1f80);
  ASSERT_TRUE(ctx_->SetFpState(state).has_value());
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, 7u);
  EXPECT_EQ(regs.rsi, 8u);
  EXPECT_EQ(regs.rdx, 0x1f80u);
}

}  // namespace
}  // namespace platform::ptrace
