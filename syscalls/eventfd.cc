// eventfd(2), eventfd2(2). The counter is sentry/event's (eventfd.h);
// blocking reads and writes are syscalls/blocking.h's.
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "sentry/event/eventfd.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

Result<int> DoEventfd(Task& t, unsigned initval, int flags) {
  if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) return Err(EINVAL);
  auto f = event::EventFd::Create(initval, flags & EFD_SEMAPHORE,
                                  flags & EFD_NONBLOCK ? O_NONBLOCK : 0);
  return t.fds().Install(std::move(f), flags & EFD_CLOEXEC, 0, NofileLimit(t));
}

// Eventfd implements Linux syscall eventfd(2).
Result<int> Eventfd(Task& t, unsigned initval) {
  return DoEventfd(t, initval, 0);
}

// Eventfd2 implements Linux syscall eventfd2(2).
Result<int> Eventfd2(Task& t, unsigned initval, int flags) {
  return DoEventfd(t, initval, flags);
}

}  // namespace

void RegisterEventfd(Registrar& r) {
  r.Full<&Eventfd>(SYS_eventfd);
  r.Full<&Eventfd2>(SYS_eventfd2);
}

}  // namespace syscalls
