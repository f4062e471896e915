// Helpers of the epoll tests (epoll_test.cc, epoll_wait_test.cc).
#ifndef TESTS_SYSCALLS_EPOLL_UTIL_H_
#define TESTS_SYSCALLS_EPOLL_UTIL_H_

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "event_util.h"

namespace syscall_test {

inline FileDescriptor NewEpoll() {
  const int fd = epoll_create1(EPOLL_CLOEXEC);
  EXPECT_GE(fd, 0) << ErrnoName(errno);
  return FileDescriptor(fd);
}

struct Pipe {
  FileDescriptor r, w;
};

inline Pipe MakePipe() {
  int fds[2] = {-1, -1};
  EXPECT_THAT(pipe2(fds, O_CLOEXEC | O_NONBLOCK), SyscallSucceeds());
  return Pipe{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

inline int Ctl(int ep, int op, int fd, uint32_t events, uint64_t data = 0) {
  epoll_event ev = {};
  ev.events = events;
  ev.data.u64 = data;
  return epoll_ctl(ep, op, fd, &ev);
}

// The events of one epoll_wait with no timeout.
inline std::vector<epoll_event> Wait(int ep, int max = 16, int timeout = 0) {
  std::vector<epoll_event> ev(max);
  const int n = epoll_wait(ep, ev.data(), max, timeout);
  EXPECT_GE(n, 0) << ErrnoName(errno);
  ev.resize(n < 0 ? 0 : n);
  return ev;
}

inline void WriteByte(int fd) { EXPECT_THAT(write(fd, "x", 1), SyscallSucceedsWithValue(1)); }

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_EPOLL_UTIL_H_
