// Helpers for the SysV IPC tests: fresh keys, running a check as a user
// without privilege, reaping a child.
#ifndef TESTS_SYSCALLS_IPC_UTIL_H_
#define TESTS_SYSCALLS_IPC_UTIL_H_

#include <sys/ipc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <random>

#include "gtest/gtest.h"

// A key unlikely to name a host object left by someone else: the tests
// create with IPC_EXCL and remove what they create.
inline key_t RandomKey() {
  static std::mt19937 gen(std::random_device{}() ^ getpid());
  key_t k;
  do {
    k = static_cast<key_t>(gen());
  } while (k == IPC_PRIVATE);
  return k;
}

// Runs fn in a forked child and returns its wait status. fn returns the
// exit code (0 = pass).
inline int InChild(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int status = -1;
  if (pid > 0) waitpid(pid, &status, 0);
  return status;
}

// Runs fn as uid/gid 65534 without capabilities: in a child that drops
// them when the test runs as root, else directly in a child.
inline int AsNobody(const std::function<int()>& fn) {
  return InChild([&] {
    if (geteuid() == 0 && (setresgid(65534, 65534, 65534) != 0 ||
                           setresuid(65534, 65534, 65534) != 0))
      return 99;
    return fn();
  });
}

#define EXPECT_EXIT_OK(status)   \
  EXPECT_TRUE(WIFEXITED(status)) \
      << status;                 \
  EXPECT_EQ(WEXITSTATUS(status), 0)

#endif  // TESTS_SYSCALLS_IPC_UTIL_H_
