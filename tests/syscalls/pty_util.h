// Helpers for the pseudo-terminal tests: a master/replica pair, termios
// changes, reads that must not block.
#ifndef TESTS_SYSCALLS_PTY_UTIL_H_
#define TESTS_SYSCALLS_PTY_UTIL_H_

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace syscall_test {

struct Pty {
  FileDescriptor master;
  FileDescriptor replica;
  int index = -1;
};

// posix_openpt + unlockpt + open of /dev/pts/N, never as a controlling
// terminal. Fails the test (and returns invalid fds) on error.
inline Pty OpenPty(int master_flags = 0) {
  Pty p;
  p.master = FileDescriptor(posix_openpt(O_RDWR | O_NOCTTY | master_flags));
  EXPECT_GE(p.master.get(), 0) << ErrnoName(errno);
  unsigned n = 0;
  EXPECT_EQ(ioctl(p.master.get(), TIOCGPTN, &n), 0) << ErrnoName(errno);
  p.index = static_cast<int>(n);
  EXPECT_EQ(unlockpt(p.master.get()), 0) << ErrnoName(errno);
  const std::string path = "/dev/pts/" + std::to_string(n);
  p.replica = FileDescriptor(open(path.c_str(), O_RDWR | O_NOCTTY));
  EXPECT_GE(p.replica.get(), 0) << path << ": " << ErrnoName(errno);
  return p;
}

// Changes the terminal's settings through `fd` with `change`.
template <typename F>
inline void ChangeTermios(int fd, F change) {
  struct termios t;
  ASSERT_EQ(tcgetattr(fd, &t), 0) << ErrnoName(errno);
  change(t);
  ASSERT_EQ(tcsetattr(fd, TCSANOW, &t), 0) << ErrnoName(errno);
}

// True if `fd` has `events` ready now.
inline bool Ready(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & events);
}

// Waits (poll, no timeout) until `fd` is readable, then reads what is
// there: a read that would block fails the test instead of hanging it.
inline std::string ReadReady(int fd, size_t max = 4096) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, -1) != 1) return "<poll failed>";
  std::string buf(max, '\0');
  const ssize_t n = read(fd, buf.data(), buf.size());
  if (n < 0) return "<" + ErrnoName(errno) + ">";
  buf.resize(n);
  return buf;
}

// Reads exactly `n` bytes (the output of a master may arrive in pieces).
inline std::string ReadN(int fd, size_t n) {
  std::string out;
  while (out.size() < n) {
    std::string part = ReadReady(fd, n - out.size());
    if (part.empty() || part[0] == '<') return out + part;
    out += part;
  }
  return out;
}

inline bool WriteAll(int fd, const std::string& s) {
  return write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_PTY_UTIL_H_
