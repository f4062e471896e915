// FP state (x87/SSE/AVX...) of a stub thread, as Context::GetFpState and
// SetFpState see it: the XSAVE layout Linux puts in a signal frame.
//
// The bytes come from the app (a sigreturn frame it wrote), so they are
// never trusted: the host kernel validates them on PTRACE_SETREGSET
// (reserved MXCSR bits, an XSAVE header with unknown features, a compacted
// format or reserved bits set: EINVAL), and CheckFpState makes the same
// checks for a state that is only stored for later. Either way the caller
// gets EINVAL; nothing crashes.
#ifndef PLATFORM_PTRACE_FP_STATE_H_
#define PLATFORM_PTRACE_FP_STATE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/result.h"

namespace platform::ptrace {

class StubThread;

// Offsets in the FXSAVE area (the first 512 bytes) and the XSAVE header.
inline constexpr size_t kFxsaveSize = 512;
inline constexpr size_t kFpMxcsrOffset = 24;
inline constexpr size_t kFpMxcsrMaskOffset = 28;
inline constexpr size_t kFpXmmOffset = 160;        // xmm0..15, 16 bytes each
inline constexpr size_t kFpSwReservedOffset = 464;  // Linux's fpx_sw_bytes
inline constexpr size_t kXsaveHeaderOffset = 512;   // xfeatures, xcomp_bv
inline constexpr size_t kXsaveHeaderSize = 64;

struct FpFormat {
  // true: PTRACE_{GET,SET}REGSET NT_X86_XSTATE, the full XSAVE layout.
  // false: PTRACE_{GET,SET}FPREGS, the 512-byte FXSAVE area only.
  bool xsave = false;
  size_t size = kFxsaveSize;
  // XSAVE features the kernel accepts from us in the header: XCR0 without
  // AMX, which needs a permission the stubs never ask for.
  uint64_t xfeatures = 0;
  uint64_t xcr0 = 0;              // what Linux writes in fpx_sw_bytes
  uint32_t mxcsr_mask = 0xffbf;   // MXCSR bits the CPU supports
};

// XSAVE if the CPU and the host kernel use it (CPUID.1:ECX.OSXSAVE), with
// size = CPUID.(EAX=0xd,ECX=0):EBX, the size for the features enabled in
// XCR0 (what the NT_X86_XSTATE regset holds); else FXSAVE, 512 bytes.
FpFormat DetectFpFormat();
// The FXSAVE fallback on any x86-64 host (for tests of that path).
FpFormat FxsaveFpFormat();

// The state of a thread that has never touched the FPU (as after execve):
// x87 control word 0x37f, MXCSR 0x1f80, all registers zero.
std::vector<uint8_t> InitFpState(const FpFormat& format);

// The host kernel's own checks, for a state stored for later: the size,
// MXCSR against the CPU's mask, and (XSAVE) the header. EINVAL if bad.
base::Result<void> CheckFpState(const FpFormat& format,
                                const std::vector<uint8_t>& state);

// One ptrace request each; `thread` must be stopped, caller its tracer.
// Write returns the kernel's verdict (EINVAL for a state it refuses). It
// loads the state as XRSTOR from a signal frame would: absent components
// in their init state, MXCSR from the buffer whatever the header says.
base::Result<void> ReadFpState(StubThread& thread, const FpFormat& format,
                               std::vector<uint8_t>* state);
base::Result<void> WriteFpState(StubThread& thread, const FpFormat& format,
                                const std::vector<uint8_t>& state);

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_FP_STATE_H_
