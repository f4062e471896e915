// pidfd_open / pidfd_send_signal as raw syscalls: glibc 2.36's
// <sys/pidfd.h> forgets extern "C", so its wrappers cannot link from C++.
#ifndef PLATFORM_PTRACE_PIDFD_H_
#define PLATFORM_PTRACE_PIDFD_H_

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace platform::ptrace {

// PIDFD_THREAD (Linux 6.9): the fd refers to one thread, which then need
// not be a thread-group leader; signals sent through it are thread-directed
// and waitid(P_PIDFD) waits for that thread. It is O_EXCL's value.
inline constexpr unsigned kPidfdThread = 0200;  // O_EXCL

// A new fd referring to process (or, with kPidfdThread, thread) `pid`, or
// -1 with errno set.
inline int PidfdOpen(pid_t pid, unsigned flags = 0) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}

// Sends `sig` to the process `pidfd` refers to: 0, or -1 with errno set.
inline int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_PIDFD_H_
