// A stopped tracee's registers as ptrace shows them: the user area
// (PEEKUSER/POKEUSER), GETREGS/SETREGS and the regsets NT_PRSTATUS,
// NT_PRFPREG and NT_X86_XSTATE, with Linux's x86-64 checks (putreg,
// xfpregs_set, xstateregs_set).
#include <elf.h>
#include <linux/ptrace.h>
#include <sys/user.h>

#include <cstddef>
#include <cstring>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_frame.h"
#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

constexpr uint64_t kTrapFlag = 0x100;
// Linux's FLAG_MASK: the flags a tracer may change (CF PF AF ZF SF TF DF
// OF RF AC).
constexpr uint64_t kFlagMask = 0x50dd5;
constexpr size_t kRegsSize = sizeof(user_regs_struct);
// The kernel's struct user: glibc's, then error_code and fault_address.
constexpr size_t kUserSize =
    offsetof(struct user, u_debugreg) + sizeof(user::u_debugreg) + 16;
constexpr size_t kFxsaveBytes = 512;
constexpr size_t kXcr0Offset = 464;     // where NT_X86_XSTATE shows XCR0
constexpr size_t kMxcsrOffset = 24;
constexpr size_t kXstateBvOffset = 512;  // the XSAVE header

const FpFrames& Frames(Kernel& k) {
  static const FpFrames* frames = new FpFrames(k.platform().FpStateSize());
  return *frames;
}

uint64_t Load64(const std::vector<uint8_t>& v, size_t off) {
  uint64_t x;
  memcpy(&x, v.data() + off, sizeof(x));
  return x;
}

// The MXCSR of an FXSAVE image must not set bits the CPU rejects.
Result<void> CheckMxcsr(Kernel& k, const uint8_t* fx) {
  uint32_t mxcsr;
  memcpy(&mxcsr, fx + kMxcsrOffset, sizeof(mxcsr));
  if (mxcsr & ~Frames(k).mxcsr_mask()) return Err(EINVAL);
  return {};
}

}  // namespace

user_regs_struct Ptrace::GetRegs(Task& t) {
  user_regs_struct r = t.regs_;
  if (t.ptrace_forced_tf_) r.eflags &= ~kTrapFlag;
  return r;
}

Result<void> Ptrace::SetRegs(Task& t, const user_regs_struct& in) {
  user_regs_struct r = in;
  const user_regs_struct& cur = t.regs_;
  if (r.fs_base >= mm::kTaskSizeMax || r.gs_base >= mm::kTaskSizeMax)
    return Err(EIO);
  // Selectors: Linux refuses one that is not a user selector; this
  // sandbox runs 64-bit code only and keeps the ones it has.
  for (auto [v, c] : {std::pair{r.cs, cur.cs}, {r.ss, cur.ss}, {r.ds, cur.ds},
                      {r.es, cur.es}, {r.fs, cur.fs}, {r.gs, cur.gs}}) {
    if (v != 0 && (v & 3) != 3) return Err(EIO);
    (void)c;
  }
  r.cs = cur.cs;
  r.ss = cur.ss;
  r.ds = cur.ds;
  r.es = cur.es;
  r.fs = cur.fs;
  r.gs = cur.gs;
  // Linux's set_flags: a TF the tracer writes is the app's from now on;
  // one the step set stays set.
  uint64_t flags = (cur.eflags & ~kFlagMask) | (in.eflags & kFlagMask);
  if (in.eflags & kTrapFlag) {
    t.ptrace_forced_tf_ = false;
  } else if (t.ptrace_forced_tf_) {
    flags |= kTrapFlag;
  }
  r.eflags = flags;
  t.regs_ = r;
  return {};
}

Result<uint64_t> Ptrace::PeekUser(Task& t, uint64_t off) {
  if ((off & 7) || off >= kUserSize) return Err(EIO);
  if (off < kRegsSize) {
    user_regs_struct r = GetRegs(t);
    uint64_t v;
    memcpy(&v, reinterpret_cast<const uint8_t*>(&r) + off, sizeof(v));
    return v;
  }
  // Debug registers (no hardware breakpoints here) and the rest of
  // struct user read as 0.
  return 0;
}

Result<void> Ptrace::PokeUser(Task& t, uint64_t off, uint64_t v) {
  if ((off & 7) || off >= kUserSize) return Err(EIO);
  if (off < kRegsSize) {
    user_regs_struct r = GetRegs(t);
    memcpy(reinterpret_cast<uint8_t*>(&r) + off, &v, sizeof(v));
    return SetRegs(t, r);
  }
  const size_t dr = offsetof(struct user, u_debugreg);
  if (off >= dr && off < dr + sizeof(user::u_debugreg)) {
    // No hardware breakpoints or watchpoints: only clearing is honest.
    if (v != 0) return Err(EIO);
  }
  return {};
}

Result<std::vector<uint8_t>> Ptrace::GetRegset(Task& t, int type) {
  const std::vector<uint8_t>& fp = t.ptrace_.fp;
  switch (type) {
    case NT_PRSTATUS: {
      user_regs_struct r = GetRegs(t);
      auto* p = reinterpret_cast<const uint8_t*>(&r);
      return std::vector<uint8_t>(p, p + kRegsSize);
    }
    case NT_PRFPREG:
      if (fp.size() < kFxsaveBytes) return Err(ENODEV);
      return std::vector<uint8_t>(fp.begin(), fp.begin() + kFxsaveBytes);
    case NT_X86_XSTATE: {
      if (fp.size() <= kFxsaveBytes) return Err(ENODEV);
      std::vector<uint8_t> out = fp;
      // The software-reserved bytes say which features the area has
      // (Linux's xstate_fx_sw_bytes[USER_XSTATE_XCR0_WORD]).
      memset(out.data() + kXcr0Offset, 0, kFxsaveBytes - kXcr0Offset);
      const uint64_t xcr0 = Frames(t.kernel()).xfeatures();
      memcpy(out.data() + kXcr0Offset, &xcr0, sizeof(xcr0));
      return out;
    }
    default:
      return Err(EINVAL);
  }
}

Result<void> Ptrace::SetRegset(Task& t, int type,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t>& fp = t.ptrace_.fp;
  switch (type) {
    case NT_PRSTATUS: {
      if (data.size() % 8 || data.size() > kRegsSize) return Err(EINVAL);
      user_regs_struct r = GetRegs(t);
      memcpy(&r, data.data(), data.size());
      return SetRegs(t, r);
    }
    case NT_PRFPREG: {
      if (fp.size() < kFxsaveBytes) return Err(ENODEV);
      if (data.size() > kFxsaveBytes) return Err(EINVAL);
      std::vector<uint8_t> next(fp.begin(), fp.begin() + kFxsaveBytes);
      memcpy(next.data(), data.data(), data.size());
      TRY(CheckMxcsr(t.kernel(), next.data()));
      memcpy(fp.data(), next.data(), kXcr0Offset);
      // x87 and SSE state are now in the area (XSTATE_BV's FP|SSE).
      if (fp.size() > kFxsaveBytes) fp[kXstateBvOffset] |= 3;
      t.ptrace_.fp_dirty = true;
      return {};
    }
    case NT_X86_XSTATE: {
      if (fp.size() <= kFxsaveBytes) return Err(ENODEV);
      // Linux takes only a whole buffer.
      if (data.size() != fp.size()) return Err(EFAULT);
      TRY(CheckMxcsr(t.kernel(), data.data()));
      const uint64_t bv = Load64(data, kXstateBvOffset);
      if (bv & ~Frames(t.kernel()).xfeatures()) return Err(EINVAL);
      // Compacted format and the header's reserved bytes are refused.
      for (size_t off = kXstateBvOffset + 8; off < kXstateBvOffset + 64;
           off += 8)
        if (Load64(data, off) != 0) return Err(EINVAL);
      // The software-reserved bytes are the kernel's, not state.
      std::vector<uint8_t> next = data;
      memcpy(next.data() + kXcr0Offset, fp.data() + kXcr0Offset,
             kFxsaveBytes - kXcr0Offset);
      fp = std::move(next);
      t.ptrace_.fp_dirty = true;
      return {};
    }
    default:
      return Err(EINVAL);
  }
}

}  // namespace kernel
