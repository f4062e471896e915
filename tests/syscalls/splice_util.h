// Helpers for the splice family's tests (splice_test.cc, sendfile_test.cc):
// pipes, reading a known amount, SIGPIPE ignored, a handler without
// SA_RESTART.
#ifndef TESTS_SYSCALLS_SPLICE_UTIL_H_
#define TESTS_SYSCALLS_SPLICE_UTIL_H_

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {

// Both ends of a new pipe, closed at the end of the test.
struct Pipe {
  FileDescriptor r, w;
};

inline Pipe MakePipe(int flags = 0) {
  int fds[2] = {-1, -1};
  EXPECT_EQ(pipe2(fds, flags), 0) << ErrnoName(errno);
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

// Reads exactly `n` bytes (or up to EOF or an error) from `fd`.
inline std::string ReadAll(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, out.data() + got, n - got);
    if (r <= 0) break;
    got += r;
  }
  out.resize(got);
  return out;
}

// SIGPIPE ignored for one scope, so EPIPE is seen instead of dying.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    EXPECT_EQ(sigaction(SIGPIPE, &ign, &old_), 0);
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

// An empty handler without SA_RESTART for one scope: a blocked call it
// interrupts fails with EINTR.
class ScopedSignalHandler {
 public:
  explicit ScopedSignalHandler(int sig) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    EXPECT_EQ(sigaction(sig, &sa, &old_), 0);
  }
  ~ScopedSignalHandler() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_ {};
};

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_SPLICE_UTIL_H_
