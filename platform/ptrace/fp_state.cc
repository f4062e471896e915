#include "platform/ptrace/fp_state.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/stub_thread.h"

namespace platform::ptrace {
namespace {

constexpr uint32_t kFpXstateMagic1 = 0x46505853;  // "FPXS", fpx_sw_bytes
constexpr uint32_t kFpXstateMagic2Size = 4;
constexpr uint64_t kXfeatureFpSse = 0x3;  // x87 and SSE (which has MXCSR)

static_assert(sizeof(user_fpregs_struct) == kFxsaveSize);

template <class T>
T Load(const std::vector<uint8_t>& bytes, size_t offset) {
  T value;
  memcpy(&value, bytes.data() + offset, sizeof(value));
  return value;
}

template <class T>
void Store(std::vector<uint8_t>& bytes, size_t offset, T value) {
  memcpy(bytes.data() + offset, &value, sizeof(value));
}

uint32_t CpuMxcsrMask() {
  alignas(16) uint8_t area[kFxsaveSize] = {};
  asm volatile("fxsave64 %0" : "=m"(area));
  uint32_t mask;
  memcpy(&mask, area + kFpMxcsrMaskOffset, sizeof(mask));
  // Zero means a CPU from before the field existed: the default mask.
  return mask != 0 ? mask : 0xffbf;
}

}  // namespace

FpFormat FxsaveFpFormat() {
  FpFormat format;
  format.mxcsr_mask = CpuMxcsrMask();
  return format;
}

FpFormat DetectFpFormat() {
  FpFormat format = FxsaveFpFormat();
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & bit_OSXSAVE) == 0)
    return format;
  if (__get_cpuid_max(0, nullptr) < 0xd) return format;
  __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
  uint32_t xcr0_lo, xcr0_hi;
  asm volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  format.xsave = true;
  format.size = ebx;
  format.xcr0 = (uint64_t{xcr0_hi} << 32) | xcr0_lo;
  format.xfeatures = format.xcr0 & ~uint64_t{STUB_XFEATURE_AMX};
  return format;
}

std::vector<uint8_t> InitFpState(const FpFormat& format) {
  std::vector<uint8_t> state(format.size, 0);
  Store<uint16_t>(state, 0, 0x37f);  // FCW after FNINIT; FTW 0 = all empty
  Store<uint32_t>(state, kFpMxcsrOffset, STUB_MXCSR_DEFAULT);
  Store<uint32_t>(state, kFpMxcsrMaskOffset, format.mxcsr_mask);
  if (format.xsave) {
    // fpx_sw_bytes as Linux writes them; ignored on the way in.
    Store<uint32_t>(state, kFpSwReservedOffset, kFpXstateMagic1);
    Store<uint32_t>(state, kFpSwReservedOffset + 4,
                    format.size + kFpXstateMagic2Size);
    Store<uint64_t>(state, kFpSwReservedOffset + 8, format.xcr0);
    Store<uint32_t>(state, kFpSwReservedOffset + 16, format.size);
    // x87 and SSE marked in use (with their init values) rather than
    // absent: for an absent component the kernel keeps the thread's old
    // MXCSR, which this state must replace.
    Store<uint64_t>(state, kXsaveHeaderOffset, kXfeatureFpSse);
  }
  return state;
}

namespace {

// The state with x87 and SSE marked present, filled with their init values
// where they were absent. XRSTOR loads an absent component in its init
// state, so nothing changes but MXCSR: SETREGSET copies the buffer's MXCSR
// only when x87, SSE or AVX is present (and XRSTOR loads it from memory on
// Intel, resets it on AMD). Present, it always comes from the buffer, as in
// the signal frames Linux itself writes, which mark both present.
std::vector<uint8_t> WithFpSsePresent(const std::vector<uint8_t>& state) {
  std::vector<uint8_t> out = state;
  const auto xfeatures = Load<uint64_t>(out, kXsaveHeaderOffset);
  if (!(xfeatures & 1)) {  // x87: FCW 0x37f, all else 0 (not MXCSR)
    memset(out.data(), 0, kFpMxcsrOffset);
    Store<uint16_t>(out, 0, 0x37f);
    memset(out.data() + 32, 0, kFpXmmOffset - 32);  // st0-7
  }
  if (!(xfeatures & 2))  // SSE: xmm0-15 zero
    memset(out.data() + kFpXmmOffset, 0, 16 * 16);
  Store<uint64_t>(out, kXsaveHeaderOffset, xfeatures | kXfeatureFpSse);
  return out;
}

}  // namespace

base::Result<void> CheckFpState(const FpFormat& format,
                                const std::vector<uint8_t>& state) {
  if (state.size() != format.size) return base::Err(EINVAL);
  const auto mxcsr = Load<uint32_t>(state, kFpMxcsrOffset);
  if (!format.xsave) {
    if (mxcsr & ~format.mxcsr_mask) return base::Err(EINVAL);
    return {};
  }
  // validate_user_xstate_header() and copy_uabi_to_xstate() in Linux.
  const auto xfeatures = Load<uint64_t>(state, kXsaveHeaderOffset);
  const auto xcomp_bv = Load<uint64_t>(state, kXsaveHeaderOffset + 8);
  if (xfeatures & ~format.xfeatures) return base::Err(EINVAL);
  if (xcomp_bv != 0) return base::Err(EINVAL);  // compacted format
  const auto* reserved = state.data() + kXsaveHeaderOffset + 16;
  if (std::any_of(reserved, state.data() + kXsaveHeaderOffset + 64,
                  [](uint8_t b) { return b != 0; }))
    return base::Err(EINVAL);
  // WriteFpState marks x87 and SSE present, so the kernel always checks
  // MXCSR (as XRSTOR does: #GP on reserved bits).
  if (mxcsr & ~format.mxcsr_mask) return base::Err(EINVAL);
  return {};
}

base::Result<void> ReadFpState(StubThread& thread, const FpFormat& format,
                               std::vector<uint8_t>* state) {
  state->assign(format.size, 0);
  if (!format.xsave)
    return thread.Request(PTRACE_GETFPREGS, nullptr, state->data());
  iovec iov{state->data(), state->size()};
  TRY(thread.Request(PTRACE_GETREGSET, reinterpret_cast<void*>(NT_X86_XSTATE),
                     &iov));
  if (iov.iov_len != format.size) {
    // CPUID and the kernel disagree on the size: SETREGSET would refuse.
    LOG(Error) << "ptrace: the XSTATE regset has " << iov.iov_len
               << " bytes, CPUID says " << format.size;
    return base::Err(EIO);
  }
  return {};
}

base::Result<void> WriteFpState(StubThread& thread, const FpFormat& format,
                                const std::vector<uint8_t>& state) {
  // The kernel checks the content; the size is ours to check (it would
  // answer EFAULT, or read past a short buffer).
  if (state.size() != format.size) return base::Err(EINVAL);
  if (!format.xsave) {
    return thread.Request(PTRACE_SETFPREGS, nullptr,
                          const_cast<uint8_t*>(state.data()));
  }
  std::vector<uint8_t> present = WithFpSsePresent(state);
  iovec iov{present.data(), present.size()};
  return thread.Request(PTRACE_SETREGSET,
                        reinterpret_cast<void*>(NT_X86_XSTATE), &iov);
}

}  // namespace platform::ptrace
