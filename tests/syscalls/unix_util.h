// Helpers of the AF_UNIX socket tests (unix_*_test.cc).
#ifndef TESTS_SYSCALLS_UNIX_UTIL_H_
#define TESTS_SYSCALLS_UNIX_UTIL_H_

#include <dirent.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "test_util.h"

namespace syscall_test {

// A sockaddr_un for `name` (a path, or "\0..." for an abstract name) and
// its length as the tests pass it (paths with their NUL).
struct UnixAddr {
  sockaddr_un sa{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&sa); }
};

inline UnixAddr MakeAddr(const std::string& name) {
  UnixAddr a;
  a.sa.sun_family = AF_UNIX;
  memcpy(a.sa.sun_path, name.data(), name.size());
  a.len = offsetof(sockaddr_un, sun_path) + name.size() +
          (name.empty() || name[0] == '\0' ? 0 : 1);
  return a;
}

// A unique abstract name for this process.
inline std::string AbstractName(const std::string& tag) {
  return std::string(1, '\0') + "syscall_test_" + tag + "_" +
         std::to_string(getpid());
}

inline std::pair<FileDescriptor, FileDescriptor> Pair(int type) {
  int sv[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, type, 0, sv), 0) << ErrnoName(errno);
  return {FileDescriptor(sv[0]), FileDescriptor(sv[1])};
}

// The fds open in this process (/proc/self/fd, without the directory's).
inline int CountFds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_UNIX_UTIL_H_
