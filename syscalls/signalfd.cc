// signalfd(2), signalfd4(2). The file is sentry/event's (signalfd.h);
// blocking reads are syscalls/blocking.h's.
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include "sentry/event/signalfd.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

Result<int> DoSignalfd(Task& t, int fd, UserPtr<kernel::SigSet> umask,
                       size_t sizemask, int flags) {
  // Linux's order: the size, the mask, the flags, the fd.
  if (sizemask != sizeof(kernel::SigSet)) return Err(EINVAL);
  const kernel::SigSet mask = TRY(t.mm().CopyInObj(umask));
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) return Err(EINVAL);
  if (fd == -1) {
    auto f = event::SignalFd::Create(mask,
                                     flags & SFD_NONBLOCK ? O_NONBLOCK : 0);
    return t.fds().Install(std::move(f), flags & SFD_CLOEXEC, 0,
                           NofileLimit(t));
  }
  // An existing signalfd takes the new mask; the flags are ignored.
  FilePtr f = TRY(GetFile(t, Fd{fd}));
  auto* sfd = dynamic_cast<event::SignalFd*>(f.get());
  if (sfd == nullptr) return Err(EINVAL);
  sfd->SetMask(mask);
  return fd;
}

// Signalfd implements Linux syscall signalfd(2).
Result<int> Signalfd(Task& t, int fd, UserPtr<kernel::SigSet> mask,
                     size_t sizemask) {
  return DoSignalfd(t, fd, mask, sizemask, 0);
}

// Signalfd4 implements Linux syscall signalfd4(2).
Result<int> Signalfd4(Task& t, int fd, UserPtr<kernel::SigSet> mask,
                      size_t sizemask, int flags) {
  return DoSignalfd(t, fd, mask, sizemask, flags);
}

}  // namespace

void RegisterSignalfd(Registrar& r) {
  r.Full<&Signalfd>(SYS_signalfd);
  r.Full<&Signalfd4>(SYS_signalfd4);
}

}  // namespace syscalls
