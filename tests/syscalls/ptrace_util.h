// Helpers of the ptrace tests: traced children, stop and exit checks.
#ifndef TESTS_SYSCALLS_PTRACE_UTIL_H_
#define TESTS_SYSCALLS_PTRACE_UTIL_H_

#include <linux/capability.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "gtest/gtest.h"

namespace syscall_test {

// A child process that is killed and reaped if a test ends early.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, __WALL);
    }
  }
  operator pid_t() const { return pid_; }
  void set_reaped() { reaped_ = true; }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

// A pipe, closed at the end.
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (pipe(fds) == 0) {
      r = fds[0];
      w = fds[1];
    }
  }
  ~Pipe() {
    close(r);
    close(w);
  }
};

template <class T>
void* AsPtr(T v) {
  if constexpr (std::is_null_pointer_v<T>) {
    return nullptr;
  } else if constexpr (std::is_pointer_v<T>) {
    return const_cast<void*>(reinterpret_cast<const volatile void*>(v));
  } else {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(v));
  }
}

// ptrace with any address and data arguments: -1 and errno on failure.
template <class A, class D>
long PtraceCall(int request, pid_t pid, A addr, D data) {
  return ptrace(static_cast<__ptrace_request>(request), pid, AsPtr(addr),
                AsPtr(data));
}

// A child that asks to be traced and stops with SIGSTOP; when resumed it
// exits with fn()'s value.
template <class F>
Child TracedChild(F fn) {
  pid_t pid = fork();
  if (pid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(126);
    raise(SIGSTOP);
    _exit(fn());
  }
  return Child(pid);
}

// A child that exits 0 once it reads a byte from `go`.
inline Child WaitingChild(const Pipe& go) {
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    _exit(read(go.r, &c, 1) == 1 ? 0 : 1);
  }
  return Child(pid);
}

// The next wait status of `pid` (any kind of child).
inline int WaitStatus(pid_t pid) {
  int status = -1;
  EXPECT_EQ(waitpid(pid, &status, __WALL), pid) << strerror(errno);
  return status;
}

inline void ExpectStopped(pid_t pid, int sig) {
  const int status = WaitStatus(pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << "status " << std::hex << status;
  EXPECT_EQ(WSTOPSIG(status), sig) << "status " << std::hex << status;
}

inline void ExpectExited(Child& pid, int code) {
  const int status = WaitStatus(pid);
  pid.set_reaped();
  EXPECT_TRUE(WIFEXITED(status)) << "status " << std::hex << status;
  EXPECT_EQ(WEXITSTATUS(status), code);
}

inline bool HaveCapSysPtrace() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[0].effective & (1u << CAP_SYS_PTRACE);
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_PTRACE_UTIL_H_
