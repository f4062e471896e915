#include "sentry/kernel/signal_frame.h"

#include <cpuid.h>

#include <cstring>

namespace kernel {
namespace {

// struct _fpx_sw_bytes: the software-reserved tail of the FXSAVE area.
struct FpxSwBytes {
  uint32_t magic1;
  uint32_t extended_size;  // the whole frame area, MAGIC2 included
  uint64_t xfeatures;
  uint32_t xstate_size;  // the XSAVE area, without MAGIC2
  uint32_t padding[7];
};
static_assert(sizeof(FpxSwBytes) == 48);

constexpr uint64_t kFpSse = 0x3;  // XFEATURE_MASK_FPSSE
constexpr size_t kXstateBvOffset = kFxsaveSize;
constexpr size_t kXcompBvOffset = kFxsaveSize + 8;
constexpr uint32_t kInitMxcsr = 0x1f80;
constexpr uint16_t kInitFcw = 0x37f;

template <class T>
T Load(const std::vector<uint8_t>& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}
template <class T>
void Store(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof(T));
}

}  // namespace

std::optional<FrameLayout> LayoutFrame(uint64_t rsp, bool sa_onstack,
                                       const AltStack& alt,
                                       size_t fpstate_size) {
  const bool nested = alt.OnStack(rsp);
  bool entering = false;
  uint64_t sp = rsp - 128;  // the red zone
  if (sa_onstack && alt.size != 0 && !alt.OnStack(sp)) {
    sp = alt.sp + alt.size;
    entering = true;
  }
  sp = (sp - fpstate_size) & ~uint64_t{63};
  FrameLayout layout{.frame = 0, .fpstate = sp};
  sp -= sizeof(RtSigframe);
  // After the handler's implicit "push" of the return address the stack
  // is 16-byte aligned, as for any function entry.
  layout.frame = (sp & ~uint64_t{15}) - 8;
  if ((nested || entering) && !alt.Contains(layout.frame)) return std::nullopt;
  return layout;
}

SigContext SaveSigContext(const platform::Registers& r, uint64_t fpstate,
                          SigSet oldmask, const TrapContext& trap) {
  SigContext sc{};
  sc.r8 = r.r8;
  sc.r9 = r.r9;
  sc.r10 = r.r10;
  sc.r11 = r.r11;
  sc.r12 = r.r12;
  sc.r13 = r.r13;
  sc.r14 = r.r14;
  sc.r15 = r.r15;
  sc.rdi = r.rdi;
  sc.rsi = r.rsi;
  sc.rbp = r.rbp;
  sc.rbx = r.rbx;
  sc.rdx = r.rdx;
  sc.rax = r.rax;
  sc.rcx = r.rcx;
  sc.rsp = r.rsp;
  sc.rip = r.rip;
  sc.eflags = r.eflags;
  sc.cs = static_cast<uint16_t>(r.cs);
  sc.gs = 0;  // Linux writes 0: fs/gs live in their bases on x86-64
  sc.fs = 0;
  sc.ss = static_cast<uint16_t>(r.ss);
  sc.err = trap.err;
  sc.trapno = trap.trapno;
  sc.oldmask = oldmask;
  sc.cr2 = trap.cr2;
  sc.fpstate = fpstate;
  return sc;
}

void RestoreSigContext(const SigContext& sc, platform::Registers* r) {
  r->r8 = sc.r8;
  r->r9 = sc.r9;
  r->r10 = sc.r10;
  r->r11 = sc.r11;
  r->r12 = sc.r12;
  r->r13 = sc.r13;
  r->r14 = sc.r14;
  r->r15 = sc.r15;
  r->rdi = sc.rdi;
  r->rsi = sc.rsi;
  r->rbp = sc.rbp;
  r->rbx = sc.rbx;
  r->rdx = sc.rdx;
  r->rax = sc.rax;
  r->rcx = sc.rcx;
  r->rsp = sc.rsp;  // the app's business, like rip
  r->rip = sc.rip;
  // Linux ORs in RPL 3 and lets the CPU fault on anything odd. Only 64-bit
  // code runs here, so the frame's selectors are not trusted at all.
  r->cs = kUserCs;
  r->ss = kUserDs;
  r->eflags = (r->eflags & ~kFixEflags) | (sc.eflags & kFixEflags);
  r->orig_rax = ~uint64_t{0};
}

FpFrames::FpFrames(size_t fp_size) : fp_size_(fp_size) {
  alignas(16) uint8_t fx[kFxsaveSize] = {};
  __builtin_ia32_fxsave64(fx);
  uint32_t mask;
  std::memcpy(&mask, fx + 28, sizeof(mask));
  if (mask != 0) mxcsr_mask_ = mask;
  if (!xsave()) return;
  // XCR0's user features whose component lies inside the area the
  // platform hands over (CPUID 0xd gives each one's offset and size).
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const uint64_t xcr0 = (uint64_t{hi} << 32) | lo;
  xfeatures_ = xcr0 & kFpSse;
  for (unsigned i = 2; i < 64; ++i) {
    if (!(xcr0 & (uint64_t{1} << i))) continue;
    unsigned size, offset, ecx, edx;
    __cpuid_count(0xd, i, size, offset, ecx, edx);
    if (size != 0 && offset + size <= fp_size_) xfeatures_ |= uint64_t{1} << i;
  }
}

std::vector<uint8_t> FpFrames::InitImage() const {
  std::vector<uint8_t> img(xsave() ? fp_size_ : kFxsaveSize, 0);
  Store<uint16_t>(img, 0, kInitFcw);
  Store<uint32_t>(img, kMxcsrOffset, kInitMxcsr);
  Store<uint32_t>(img, kMxcsrOffset + 4, mxcsr_mask_);
  return img;
}

std::vector<uint8_t> FpFrames::FrameImage(
    const std::vector<uint8_t>& state) const {
  if (!xsave()) return InitImage();
  std::vector<uint8_t> img = state.size() >= fp_size_ ? state : InitImage();
  img.resize(fp_size_ + 4);
  FpxSwBytes sw{};
  sw.magic1 = kFpXstateMagic1;
  sw.extended_size = static_cast<uint32_t>(fp_size_ + 4);
  sw.xfeatures = xfeatures_;
  sw.xstate_size = static_cast<uint32_t>(fp_size_);
  Store(img, kSwReservedOffset, sw);
  // Linux always marks FP and SSE present, for programs that only know
  // the legacy layout.
  Store(img, kXstateBvOffset, Load<uint64_t>(img, kXstateBvOffset) | kFpSse);
  Store(img, fp_size_, kFpXstateMagic2);
  return img;
}

base::Result<std::vector<uint8_t>> FpFrames::RestoreImage(
    uint64_t fpstate, const ReadFn& read) const {
  // No FP state in the frame: the FPU goes back to its init state.
  if (fpstate == 0) return xsave() ? InitImage() : std::vector<uint8_t>{};
  std::vector<uint8_t> img(std::max(fp_size_, kFxsaveSize), 0);
  TRY(read(fpstate, img.data(), kFxsaveSize));
  // FXRSTOR/XRSTOR fault (#GP) on reserved MXCSR bits and misalignment.
  if (Load<uint32_t>(img, kMxcsrOffset) & ~mxcsr_mask_)
    return base::Err(EINVAL);
  const FpxSwBytes sw = Load<FpxSwBytes>(img, kSwReservedOffset);
  bool fx_only = !xsave() || sw.magic1 != kFpXstateMagic1 ||
                 sw.xstate_size < kFxsaveSize + kXsaveHeaderSize ||
                 sw.xstate_size > fp_size_ || sw.xstate_size > sw.extended_size;
  if (!fx_only) {
    uint32_t magic2;
    TRY(read(fpstate + sw.xstate_size, &magic2, sizeof(magic2)));
    fx_only = magic2 != kFpXstateMagic2;
  }
  if (fpstate % (fx_only ? 16 : 64)) return base::Err(EINVAL);
  if (!xsave()) return std::vector<uint8_t>{};  // validated, nothing to load
  Store(img, kSwReservedOffset, FpxSwBytes{});
  if (fx_only) {
    // The legacy area only: every other component to its init state.
    Store<uint64_t>(img, kXstateBvOffset, kFpSse);
    return img;
  }
  TRY(read(fpstate + kFxsaveSize, img.data() + kFxsaveSize,
           sw.xstate_size - kFxsaveSize));
  uint64_t xstate_bv = Load<uint64_t>(img, kXstateBvOffset);
  // XRSTOR's #GP cases for the standard format: compaction or header bytes
  // 8-23 set, or a component the CPU does not have enabled.
  if (Load<uint64_t>(img, kXcompBvOffset) != 0 ||
      Load<uint64_t>(img, kXcompBvOffset + 8) != 0 ||
      (xstate_bv & ~xfeatures_ & ~kFpSse))
    return base::Err(EINVAL);
  // Components outside the frame's feature mask go to their init state;
  // the rest of the header is reserved (ptrace insists on zeros).
  const uint64_t rfbm = sw.xfeatures & xfeatures_;
  Store<uint64_t>(img, kXstateBvOffset, xstate_bv & rfbm);
  std::memset(img.data() + kXcompBvOffset + 16, 0, kXsaveHeaderSize - 24);
  if (!(rfbm & 0x6)) Store<uint32_t>(img, kMxcsrOffset, kInitMxcsr);
  return img;
}

}  // namespace kernel
