// The sentry's seccomp allowlist, installed in a forked child: what it
// allows still works, paths are refused, and anything else kills.
#include "sentry/boot/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "gtest/gtest.h"

namespace boot {
namespace {

// Runs `body` in a child under the sentry's filter; returns its wait
// status. The child exits 0 if `body` returns true, 1 otherwise.
int UnderFilter(const std::function<bool()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!InstallSentrySeccomp()) _exit(2);
    _exit(body() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

bool KilledBySigsys(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

TEST(SentrySeccompTest, WhatTheSentryDoesStillWorks) {
  const int status = UnderFilter([] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    if (write(fds[1], "x", 1) != 1) return false;
    char c;
    if (read(fds[0], &c, 1) != 1 || c != 'x') return false;
    struct stat st;
    if (fstat(fds[0], &st) != 0) return false;
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || munmap(p, 4096) != 0) return false;
    // Threads, as the sentry makes one per task.
    bool ran = false;
    std::thread([&] { ran = true; }).join();
    timespec ts;
    return ran && clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && getpid() > 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SentrySeccompTest, PathsAreRefusedNotFatal) {
  const int status = UnderFilter([] {
    errno = 0;
    if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES) return false;
    struct stat st;
    if (stat("/", &st) != -1 || errno != EACCES) return false;
    return access("/", F_OK) == -1 && errno == EACCES;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SentrySeccompTest, AnythingElseKillsTheSentry) {
  // A network socket, a new process, executable memory, exec: none is
  // something the sentry does.
  EXPECT_TRUE(KilledBySigsys(UnderFilter([] {
    return socket(AF_INET, SOCK_STREAM, 0) >= 0;
  })));
  EXPECT_TRUE(KilledBySigsys(UnderFilter([] {
    return syscall(SYS_fork) >= 0;
  })));
  EXPECT_TRUE(KilledBySigsys(UnderFilter([] {
    return mmap(nullptr, 4096, PROT_READ | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED;
  })));
  EXPECT_TRUE(KilledBySigsys(UnderFilter([] {
    const char* argv[] = {"/bin/true", nullptr};
    syscall(SYS_execve, "/bin/true", argv, nullptr);
    return false;
  })));
  EXPECT_TRUE(KilledBySigsys(UnderFilter([] {
    return syscall(SYS_fcntl, 0, F_SETLK, nullptr) >= 0;
  })));
}

}  // namespace
}  // namespace boot
