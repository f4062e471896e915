// RetryEintr: repeats a host call while it fails with EINTR. The sentry
// installs signal handlers, so any blocking call may be interrupted.
#ifndef PLATFORM_PTRACE_RETRY_H_
#define PLATFORM_PTRACE_RETRY_H_

#include <cerrno>

namespace platform::ptrace {

template <class F>
auto RetryEintr(F f) {
  for (;;) {
    auto r = f();
    if (!(r == -1 && errno == EINTR)) return r;
  }
}

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_RETRY_H_
