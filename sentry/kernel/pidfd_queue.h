// Where pidfds (sentry/event/pidfd.h) wait for their process: one waiter
// queue per pid, notified when the process becomes a zombie and when it
// is reaped (Linux's pid->wait_pidfd, woken by do_notify_pidfd).
//
// Keyed by pid: a queue asked for after its process was reaped is a fresh
// one that only the next process of that pid notifies, so a pidfd also
// checks the process tree itself (its readiness), never the queue alone.
//
// Lock order: ProcessTree::mu_ -> the registry's mutex (a leaf) ->
// waiter::Queue::mu_.
#ifndef SENTRY_KERNEL_PIDFD_QUEUE_H_
#define SENTRY_KERNEL_PIDFD_QUEUE_H_

#include <memory>

#include "sentry/waiter/waiter.h"

namespace kernel {

std::shared_ptr<waiter::Queue> PidfdQueue(int pid);
// Process `pid` exited (EPOLLIN) or was reaped (EPOLLIN | EPOLLHUP; its
// queue is forgotten).
void NotifyPidfds(int pid, bool reaped);

}  // namespace kernel

#endif  // SENTRY_KERNEL_PIDFD_QUEUE_H_
