// The x86-64 signal frame, laid out exactly as Linux builds it
// (arch/x86/kernel/signal_64.c), and the pure computations around it:
// where the frame goes, what the sigcontext holds, how sigreturn reads it
// back, and the FP state image (the XSAVE area with Linux's magic words).
//
// At handler entry rsp points at pretcode (the restorer, the handler's
// return address); the fpstate lies above the frame, 64-byte aligned:
//
//   rsp ->  struct RtSigframe { pretcode; UContext uc; siginfo_t info; }
//           ... padding ...
//           fpstate: FXSAVE (512) | XSAVE header | components | MAGIC2
#ifndef SENTRY_KERNEL_SIGNAL_FRAME_H_
#define SENTRY_KERNEL_SIGNAL_FRAME_H_

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/result.h"
#include "platform/platform.h"
#include "sentry/kernel/signal_state.h"

namespace kernel {

// struct sigcontext (asm/sigcontext.h).
struct SigContext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
  uint64_t eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // address of the FP state, 0 if none
  uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);

// The kernel's stack_t.
struct KernelStack {
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};
static_assert(sizeof(KernelStack) == 24);

// The kernel's struct ucontext (glibc's ucontext_t has the same prefix).
struct UContext {
  uint64_t flags;
  uint64_t link;
  KernelStack stack;
  SigContext mcontext;
  uint64_t sigmask;
};
static_assert(sizeof(UContext) == 304);

struct RtSigframe {
  uint64_t pretcode;
  UContext uc;
  siginfo_t info;
};
static_assert(sizeof(RtSigframe) == 440);
static_assert(offsetof(RtSigframe, info) == 312);

// uc_flags bits.
inline constexpr uint64_t kUcFpXstate = 0x1;
inline constexpr uint64_t kUcSigcontextSs = 0x2;
inline constexpr uint64_t kUcStrictRestoreSs = 0x4;

// The FP state's layout markers (asm/sigcontext.h).
inline constexpr uint32_t kFpXstateMagic1 = 0x46505853;
inline constexpr uint32_t kFpXstateMagic2 = 0x46505845;
inline constexpr size_t kFxsaveSize = 512;
inline constexpr size_t kXsaveHeaderSize = 64;
inline constexpr size_t kSwReservedOffset = 464;  // struct _fpx_sw_bytes
inline constexpr size_t kMxcsrOffset = 24;

// The x86-64 user selectors.
inline constexpr uint64_t kUserCs = 0x33;
inline constexpr uint64_t kUserDs = 0x2b;

// Flags sigreturn takes from the frame (Linux's FIX_EFLAGS): AC OF DF TF
// SF ZF AF PF CF RF. IF, IOPL and the rest stay as they are.
inline constexpr uint64_t kFixEflags =
    0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
// Cleared at handler entry: DF (the ABI), RF, TF.
inline constexpr uint64_t kHandlerClearEflags = 0x400 | 0x10000 | 0x100;

// Where a frame goes (Linux's get_sigframe), or nullopt when it would
// overflow the alternate stack (the signal then becomes a SIGSEGV).
struct FrameLayout {
  uint64_t frame;    // the new rsp, 16n - 8
  uint64_t fpstate;  // 64-byte aligned
};
std::optional<FrameLayout> LayoutFrame(uint64_t rsp, bool sa_onstack,
                                       const AltStack& alt,
                                       size_t fpstate_size);

// The sigcontext of `regs` (and of the trap that raised the signal).
SigContext SaveSigContext(const platform::Registers& regs, uint64_t fpstate,
                          SigSet oldmask, const TrapContext& trap);
// Loads a sigcontext as restore_sigcontext does: every general register
// from the frame, cs/ss forced to the 64-bit user selectors, only the
// kFixEflags flags from the frame, orig_rax = -1 (no restart).
void RestoreSigContext(const SigContext& sc, platform::Registers* regs);

// FP state in signal frames. `fp_size` is Platform::FpStateSize(): with 0
// (or when the platform cannot read the state) frames carry an FXSAVE-only
// image in the init state and sigreturn only validates it.
class FpFrames {
 public:
  explicit FpFrames(size_t fp_size);

  bool xsave() const { return fp_size_ != 0; }
  // The XSAVE features the area holds (XCR0's that fit), and the MXCSR
  // bits the CPU accepts (ptrace's regsets report and check them).
  uint64_t xfeatures() const { return xfeatures_; }
  uint32_t mxcsr_mask() const { return mxcsr_mask_; }
  // Bytes the frame reserves: the XSAVE area plus MAGIC2, or 512.
  size_t frame_size() const { return xsave() ? fp_size_ + 4 : kFxsaveSize; }
  // The frame image of the platform's XSAVE bytes (fp_size bytes), with
  // the software-reserved words Linux writes and FP|SSE always marked
  // present. An empty `state` gives the init-state image.
  std::vector<uint8_t> FrameImage(const std::vector<uint8_t>& state) const;
  // The XSAVE image of the init state (what a handler starts with).
  std::vector<uint8_t> InitImage() const;
  // Validates the app's FP state at `fpstate` (read with `read`) as
  // fpu__restore_sig does and returns the XSAVE image to load (fp_size
  // bytes; empty in FXSAVE-only mode). EFAULT / EINVAL: a bad frame.
  using ReadFn = std::function<base::Result<void>(uint64_t, void*, size_t)>;
  base::Result<std::vector<uint8_t>> RestoreImage(uint64_t fpstate,
                                                  const ReadFn& read) const;

 private:
  const size_t fp_size_;
  uint64_t xfeatures_ = 0;        // what the XSAVE area holds
  uint32_t mxcsr_mask_ = 0xffbf;  // MXCSR bits the CPU accepts
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_SIGNAL_FRAME_H_
