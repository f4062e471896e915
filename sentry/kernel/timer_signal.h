// The hooks by which a pending-signal queue tells a POSIX timer about its
// signal (posix_timer.h). PendingQueue calls them, under the signal lock
// when the queue belongs to a process.
#ifndef SENTRY_KERNEL_TIMER_SIGNAL_H_
#define SENTRY_KERNEL_TIMER_SIGNAL_H_

#include <signal.h>

namespace kernel {

// A signal the sentry queued for a live POSIX timer. Like Linux's
// preallocated timer signal, it queues even when its (standard) signal is
// pending already.
bool IsTimerSignal(const siginfo_t& info);
// `info` went into a queue.
void TimerSignalQueued(const siginfo_t& info);
// `*info` left its queue: taken (delivered, sigtimedwait) or discarded
// (the signal became ignored). Fills in si_overrun and wipes the
// sentry's mark. For any other siginfo, nothing.
void TimerSignalTaken(siginfo_t* info);
// A copy of a queued `*info` leaves the sentry (PTRACE_PEEKSIGINFO): wipes
// the sentry's mark only.
void TimerSignalPeeked(siginfo_t* info);

}  // namespace kernel

#endif  // SENTRY_KERNEL_TIMER_SIGNAL_H_
