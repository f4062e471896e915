// Unit tests for the signal frame computations and the pending queue.
#include "sentry/kernel/signal_frame.h"

#include <cpuid.h>
#include <gtest/gtest.h>

#include <cstring>

namespace kernel {
namespace {

constexpr uint64_t kBase = 0x100000;  // where the fake app memory starts

// Reads from `mem` as if it lay at kBase; EFAULT outside.
FpFrames::ReadFn Reader(const std::vector<uint8_t>& mem) {
  return [&mem](uint64_t addr, void* dst, size_t len) -> base::Result<void> {
    if (addr < kBase || addr - kBase + len > mem.size())
      return base::Err(EFAULT);
    std::memcpy(dst, mem.data() + (addr - kBase), len);
    return {};
  };
}

size_t HostXsaveSize() {
  unsigned a, b, c, d;
  __cpuid_count(0xd, 0, a, b, c, d);
  return b;
}

TEST(LayoutFrameTest, AlignmentAndRedZone) {
  for (uint64_t rsp = 0x7fff0000; rsp < 0x7fff0000 + 64; rsp += 8) {
    auto l = LayoutFrame(rsp, false, AltStack{}, 1000);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->frame % 16, 8u);
    EXPECT_EQ(l->fpstate % 64, 0u);
    EXPECT_LE(l->frame + sizeof(RtSigframe), l->fpstate);
    EXPECT_LE(l->fpstate + 1000, rsp - 128);
  }
}

TEST(LayoutFrameTest, AltStack) {
  AltStack alt{.sp = 0x500000, .size = 0x10000, .flags = 0};
  auto l = LayoutFrame(0x7fff0000, true, alt, 1000);
  ASSERT_TRUE(l);
  EXPECT_TRUE(alt.Contains(l->frame));
  EXPECT_LE(l->fpstate + 1000, alt.sp + alt.size);
  // Without SA_ONSTACK the thread stack is used.
  l = LayoutFrame(0x7fff0000, false, alt, 1000);
  ASSERT_TRUE(l);
  EXPECT_FALSE(alt.Contains(l->frame));
  // Nested on the alt stack, near its bottom: the frame would overflow it.
  EXPECT_FALSE(LayoutFrame(alt.sp + 600, true, alt, 1000));
  // Too small to enter: overflow too.
  AltStack tiny{.sp = 0x500000, .size = 1024, .flags = 0};
  EXPECT_FALSE(LayoutFrame(0x7fff0000, true, tiny, 1000));
}

TEST(AltStackTest, SetAndFlags) {
  AltStack alt;
  EXPECT_EQ(alt.ReportedFlags(0x1000), SS_DISABLE);
  EXPECT_EQ(alt.Set(0x500000, 0, 100, 0x1000), base::Err(ENOMEM));
  EXPECT_EQ(alt.Set(0x500000, 0x10, 0x10000, 0x1000), base::Err(EINVAL));
  ASSERT_TRUE(alt.Set(0x500000, 0, 0x10000, 0x1000));
  EXPECT_EQ(alt.ReportedFlags(0x1000), 0);
  EXPECT_EQ(alt.ReportedFlags(0x508000), SS_ONSTACK);
  EXPECT_EQ(alt.Set(0, SS_DISABLE, 0, 0x508000), base::Err(EPERM));
  ASSERT_TRUE(alt.Set(0x500000, kSsAutodisarm, 0x10000, 0x1000));
  EXPECT_FALSE(alt.OnStack(0x508000));
  EXPECT_EQ(alt.ReportedFlags(0x508000), kSsAutodisarm);
}

TEST(SigContextTest, RoundTripAndSanitising) {
  platform::Registers r{};
  r.rax = 1;
  r.r15 = 15;
  r.rip = 0x401000;
  r.rsp = 0x7fff0000;
  r.eflags = 0x246;
  r.cs = 0x33;
  r.ss = 0x2b;
  SigContext sc = SaveSigContext(r, 0x1234, 0xff, TrapContext{14, 6, 0x10});
  EXPECT_EQ(sc.fpstate, 0x1234u);
  EXPECT_EQ(sc.oldmask, 0xffu);
  EXPECT_EQ(sc.trapno, 14u);
  EXPECT_EQ(sc.cr2, 0x10u);
  sc.cs = 0x10;  // kernel code: never
  sc.ss = 0;
  sc.eflags = 0xffffffff;  // IOPL, VM, ID ... must not get through
  platform::Registers back{};
  back.eflags = 0x202;
  back.orig_rax = 60;
  RestoreSigContext(sc, &back);
  EXPECT_EQ(back.rax, 1u);
  EXPECT_EQ(back.r15, 15u);
  EXPECT_EQ(back.rip, 0x401000u);
  EXPECT_EQ(back.cs, kUserCs);
  EXPECT_EQ(back.ss, kUserDs);
  EXPECT_EQ(back.eflags, (0x202 & ~kFixEflags) | kFixEflags);
  EXPECT_EQ(back.orig_rax, ~uint64_t{0});
}

TEST(FpFramesTest, FxsaveOnlyFallback) {
  FpFrames fp(0);
  EXPECT_FALSE(fp.xsave());
  EXPECT_EQ(fp.frame_size(), kFxsaveSize);
  std::vector<uint8_t> img = fp.FrameImage({});
  ASSERT_EQ(img.size(), kFxsaveSize);
  uint32_t mxcsr;
  std::memcpy(&mxcsr, img.data() + kMxcsrOffset, 4);
  EXPECT_EQ(mxcsr, 0x1f80u);
  // Validated on sigreturn, nothing to load.
  auto r = fp.RestoreImage(kBase, Reader(img));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  img[kMxcsrOffset + 3] = 0xff;  // reserved MXCSR bits
  EXPECT_EQ(fp.RestoreImage(kBase, Reader(img)).error(), base::Errno(EINVAL));
  EXPECT_EQ(fp.RestoreImage(kBase + 4096, Reader(img)).error(),
            base::Errno(EFAULT));
}

TEST(FpFramesTest, XsaveFrameRoundTrip) {
  const size_t size = HostXsaveSize();
  FpFrames fp(size);
  std::vector<uint8_t> state = fp.InitImage();
  state[160] = 0xab;  // xmm0's first byte
  uint64_t bv = 0x2;  // SSE only: FP gets added
  std::memcpy(state.data() + 512, &bv, 8);
  std::vector<uint8_t> frame = fp.FrameImage(state);
  ASSERT_EQ(frame.size(), size + 4);
  uint32_t magic1, magic2, xstate_size;
  std::memcpy(&magic1, frame.data() + kSwReservedOffset, 4);
  std::memcpy(&xstate_size, frame.data() + kSwReservedOffset + 16, 4);
  std::memcpy(&magic2, frame.data() + size, 4);
  EXPECT_EQ(magic1, kFpXstateMagic1);
  EXPECT_EQ(magic2, kFpXstateMagic2);
  EXPECT_EQ(xstate_size, size);
  std::memcpy(&bv, frame.data() + 512, 8);
  EXPECT_EQ(bv, 0x3u);

  auto back = fp.RestoreImage(kBase, Reader(frame));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), size);
  EXPECT_EQ((*back)[160], 0xab);
  EXPECT_EQ(std::memcmp(back->data() + kSwReservedOffset, "\0\0\0\0", 4), 0);

  // Misaligned for XRSTOR.
  std::vector<uint8_t> shifted(16, 0);
  shifted.insert(shifted.end(), frame.begin(), frame.end());
  EXPECT_EQ(fp.RestoreImage(kBase + 16, Reader(shifted)).error(),
            base::Errno(EINVAL));
  // Compacted format: XRSTOR would fault.
  std::vector<uint8_t> compacted = frame;
  compacted[512 + 15] = 0x80;
  EXPECT_EQ(fp.RestoreImage(kBase, Reader(compacted)).error(),
            base::Errno(EINVAL));
  // No MAGIC2: only the legacy area counts, the rest goes to init.
  std::vector<uint8_t> legacy = frame;
  std::memset(legacy.data() + size, 0, 4);
  auto fx = fp.RestoreImage(kBase, Reader(legacy));
  ASSERT_TRUE(fx);
  std::memcpy(&bv, fx->data() + 512, 8);
  EXPECT_EQ(bv, 0x3u);
  EXPECT_EQ((*fx)[160], 0xab);
  // No FP state at all: the init state.
  auto init = fp.RestoreImage(0, Reader(frame));
  ASSERT_TRUE(init);
  EXPECT_EQ(*init, fp.InitImage());
}

siginfo_t Info(int sig, int value = 0) {
  siginfo_t i = MakeSigInfo(sig, SI_QUEUE);
  i.si_value.sival_int = value;
  return i;
}

TEST(PendingQueueTest, OrderCoalescingAndQueueing) {
  PendingQueue q;
  EXPECT_TRUE(q.Enqueue(Info(SIGUSR1)));
  EXPECT_FALSE(q.Enqueue(Info(SIGUSR1)));  // standard: one instance
  EXPECT_TRUE(q.Enqueue(Info(SIGRTMIN, 1)));
  EXPECT_TRUE(q.Enqueue(Info(SIGRTMIN, 2)));  // real-time: queued
  EXPECT_TRUE(q.Enqueue(Info(SIGSEGV)));
  EXPECT_TRUE(q.Enqueue(Info(SIGHUP)));
  // Synchronous first, then by number; real-time in order.
  EXPECT_EQ(q.Dequeue(~0ull)->si_signo, SIGSEGV);
  EXPECT_EQ(q.Dequeue(~SigBit(SIGHUP))->si_signo, SIGUSR1);
  EXPECT_EQ(q.Dequeue(~0ull)->si_signo, SIGHUP);
  EXPECT_EQ(q.Dequeue(~0ull)->si_value.sival_int, 1);
  EXPECT_EQ(q.set(), SigBit(SIGRTMIN));
  q.Discard(SigBit(SIGRTMIN));
  EXPECT_EQ(q.set(), 0u);
  EXPECT_FALSE(q.Dequeue(~0ull));
}

}  // namespace
}  // namespace kernel
