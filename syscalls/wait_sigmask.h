// The signal mask argument of ppoll, pselect6 and epoll_pwait(2): the
// mask in effect while the call waits.
#ifndef SYSCALLS_WAIT_SIGMASK_H_
#define SYSCALLS_WAIT_SIGMASK_H_

#include "syscalls/common.h"

namespace syscalls {

// A signal mask argument (ppoll, pselect6, epoll_pwait): installed for
// the wait, as Linux's set_user_sigmask. The old mask is kept in
// saved_mask, so that if a signal interrupts the wait its handler runs
// under the wait's mask and delivery restores the old one afterwards.
inline Result<void> ApplySigmask(Task& t, uint64_t addr, uint64_t size) {
  if (addr == 0) return {};
  if (size != sizeof(uint64_t)) return Err(EINVAL);
  uint64_t mask = TRY(t.mm().CopyInObj(UserPtr<uint64_t>(addr)));
  t.signal_state().saved_mask = t.signal_mask;
  t.SetSignalMask(mask);
  return {};
}

// restore_saved_sigmask_unless: a wait that was not interrupted puts the
// old mask back now; an interrupted one leaves it to signal delivery.
template <class R>
R RestoreSigmask(Task& t, R result) {
  bool interrupted = !result && (result.error().value == EINTR ||
                                 result.error().value >= base::kERESTARTSYS);
  if (!interrupted && t.signal_state().saved_mask) {
    t.SetSignalMask(*t.signal_state().saved_mask);
    t.signal_state().saved_mask.reset();
  }
  return result;
}

}  // namespace syscalls

#endif  // SYSCALLS_WAIT_SIGMASK_H_
