// Signal state: rt_sigaction(2), rt_sigprocmask(2), sigaltstack(2).
// Dispositions and masks are recorded; delivery is the next issue.
#include <signal.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr size_t kSigsetSize = 8;
constexpr int kSsAutodisarm = 1 << 31;  // SS_AUTODISARM, not in glibc's headers  // the kernel's sigset_t: 64 bits

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }
constexpr uint64_t kUnblockable = (uint64_t{1} << (SIGKILL - 1)) |
                                  (uint64_t{1} << (SIGSTOP - 1));

// RtSigaction implements Linux syscall rt_sigaction(2).
Result<void> RtSigaction(Task& t, int sig, UserPtr<kernel::KernelSigaction> act,
                         UserPtr<kernel::KernelSigaction> oldact,
                         size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  if (sig < 1 || sig > kernel::kNumSignals) return Err(EINVAL);
  if (!act.IsNull() && (sig == SIGKILL || sig == SIGSTOP)) return Err(EINVAL);
  kernel::KernelSigaction old = t.thread_group().GetSigaction(sig);
  if (!act.IsNull()) {
    kernel::KernelSigaction a = TRY(t.mm().CopyInObj(act));
    a.mask &= ~kUnblockable;
    t.thread_group().SetSigaction(sig, a);
  }
  if (!oldact.IsNull()) TRY(t.mm().CopyOutObj(oldact, old));
  return {};
}

// RtSigprocmask implements Linux syscall rt_sigprocmask(2).
Result<void> RtSigprocmask(Task& t, int how, UserPtr<uint64_t> set,
                           UserPtr<uint64_t> oldset, size_t sigsetsize) {
  if (sigsetsize != kSigsetSize) return Err(EINVAL);
  uint64_t old = t.signal_mask;
  if (!set.IsNull()) {
    uint64_t s = TRY(t.mm().CopyInObj(set));
    switch (how) {
      case SIG_BLOCK:
        t.signal_mask |= s;
        break;
      case SIG_UNBLOCK:
        t.signal_mask &= ~s;
        break;
      case SIG_SETMASK:
        t.signal_mask = s;
        break;
      default:
        return Err(EINVAL);
    }
    t.signal_mask &= ~kUnblockable;
  }
  if (!oldset.IsNull()) TRY(t.mm().CopyOutObj(oldset, old));
  return {};
}

// Sigaltstack implements Linux syscall sigaltstack(2): recorded only.
Result<void> Sigaltstack(Task& t, UserPtr<stack_t> ss, UserPtr<stack_t> old) {
  if (!old.IsNull()) {
    stack_t cur{.ss_sp = nullptr, .ss_flags = SS_DISABLE, .ss_size = 0};
    TRY(t.mm().CopyOutObj(old, cur));
  }
  if (!ss.IsNull()) {
    stack_t s = TRY(t.mm().CopyInObj(ss));
    if (s.ss_flags & ~(SS_DISABLE | kSsAutodisarm)) return Err(EINVAL);
    if (!(s.ss_flags & SS_DISABLE) && s.ss_size < static_cast<size_t>(MINSIGSTKSZ))
      return Err(ENOMEM);
  }
  return {};
}

}  // namespace

void RegisterSignal(Registrar& r) {
  const char* kNoDelivery = "recorded; signals are not delivered yet";
  r.Partial<&RtSigaction>(SYS_rt_sigaction, kNoDelivery);
  r.Partial<&RtSigprocmask>(SYS_rt_sigprocmask, kNoDelivery);
  r.Partial<&Sigaltstack>(SYS_sigaltstack,
                          "checked but not kept: no signal delivery yet");
}

}  // namespace syscalls
