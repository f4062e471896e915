// Shared by the POSIX timer tests (timer_test.cc, timer_life_test.cc):
// the raw syscalls and small helpers around them.
#ifndef TESTS_SYSCALLS_TIMER_UTIL_H_
#define TESTS_SYSCALLS_TIMER_UTIL_H_

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cpu_spin.h"
#include "test_util.h"

namespace syscall_test {

// The raw syscalls: glibc's timer_t is not the kernel's id, and its
// SIGEV_THREAD is built on SIGEV_THREAD_ID.
inline long Create(clockid_t c, struct sigevent* sev, int* id) {
  return syscall(SYS_timer_create, c, sev, id);
}
inline long Settime(int id, int flags, const struct itimerspec* v,
                    struct itimerspec* old = nullptr) {
  return syscall(SYS_timer_settime, id, flags, v, old);
}
inline long Gettime(int id, struct itimerspec* cur) {
  return syscall(SYS_timer_gettime, id, cur);
}
inline long Getoverrun(int id) { return syscall(SYS_timer_getoverrun, id); }
inline long Delete(int id) { return syscall(SYS_timer_delete, id); }

inline struct sigevent SignalEvent(int sig, void* value = nullptr) {
  struct sigevent sev = {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = sig;
  sev.sigev_value.sival_ptr = value;
  return sev;
}

inline struct itimerspec Spec(int64_t value_ns, int64_t interval_ns = 0) {
  return {FromNs(interval_ns), FromNs(value_ns)};
}

// A timer deleted at the end of the scope.
class Timer {
 public:
  Timer(clockid_t c, struct sigevent* sev) {
    EXPECT_THAT(Create(c, sev, &id_), SyscallSucceeds());
  }
  ~Timer() { Delete(id_); }
  int id() const { return id_; }

 private:
  int id_ = -1;
};

// Waits (generously) for a blocked signal and returns its siginfo.
inline siginfo_t Await(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  const struct timespec limit = FromNs(kSafetyNs);
  siginfo_t info = {};
  EXPECT_THAT(sigtimedwait(&set, &info, &limit), SyscallSucceedsWithValue(sig));
  return info;
}

inline bool Pending(int sig) {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, sig);
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_TIMER_UTIL_H_
