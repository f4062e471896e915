// pidfd_open / pidfd_send_signal as raw syscalls: glibc 2.36's
// <sys/pidfd.h> forgets extern "C", so its wrappers cannot link from C++.
#ifndef PLATFORM_PTRACE_PIDFD_H_
#define PLATFORM_PTRACE_PIDFD_H_

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace platform::ptrace {

// A new fd referring to process `pid`, or -1 with errno set.
inline int PidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// Sends `sig` to the process `pidfd` refers to: 0, or -1 with errno set.
inline int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_PIDFD_H_
