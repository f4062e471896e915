// pipe(2), pipe2(2).
#include "sentry/pipe/pipe.h"

#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// O_NOTIFICATION_PIPE (watch queues): Linux built without them (as
// Debian's is) says ENOPKG, and so do we.
constexpr int kNotificationPipe = O_EXCL;

Result<void> DoPipe2(Task& t, UserPtr<int> fds, int flags) {
  if (flags & kNotificationPipe) return Err(ENOPKG);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return Err(EINVAL);
  const kernel::Credentials creds = t.creds();
  pipes::PipeEnds ends = pipes::NewPipe(flags, creds.fsuid, creds.fsgid);
  const bool cloexec = flags & O_CLOEXEC;
  const int r =
      TRY(t.fds().Install(std::move(ends.read), cloexec, 0, NofileLimit(t)));
  auto w = t.fds().Install(std::move(ends.write), cloexec, 0, NofileLimit(t));
  if (!w) {
    (void)t.fds().Remove(r);
    return std::unexpected(w.error());
  }
  // As Linux: a bad array leaves no fds behind.
  const int both[2] = {r, *w};
  if (auto c = t.mm().CopyOut(fds.addr, both, sizeof both); !c) {
    (void)t.fds().Remove(r);
    (void)t.fds().Remove(*w);
    return c;
  }
  return {};
}

// Pipe implements Linux syscall pipe(2).
Result<void> Pipe(Task& t, UserPtr<int> fds) { return DoPipe2(t, fds, 0); }

// Pipe2 implements Linux syscall pipe2(2).
Result<void> Pipe2(Task& t, UserPtr<int> fds, int flags) {
  return DoPipe2(t, fds, flags);
}

}  // namespace

void RegisterPipe(Registrar& r) {
  r.Full<&Pipe>(SYS_pipe);
  r.Full<&Pipe2>(SYS_pipe2);
}

}  // namespace syscalls
