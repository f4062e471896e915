// RLIMIT_NPROC at fork(2): counted per real uid, zombies included, with
// root exempt. Runs in forked children that become a fresh uid.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <vector>

#include "test_util.h"

namespace {

using syscall_test::InChild;

// A uid no other process on the machine is likely to have.
uid_t FreshUid() { return 0x7f000000u + (getpid() & 0xffff); }

// Forks children that wait until the write end of `release` is closed,
// until fork fails. Returns how many succeeded; *err is fork's errno.
int ForkUntilFailure(const int release[2], int max, std::vector<pid_t>* kids,
                     int* err) {
  for (int i = 0; i < max; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      *err = errno;
      return i;
    }
    if (pid == 0) {
      char c;
      close(release[1]);
      _exit(read(release[0], &c, 1) == 0 ? 0 : 1);
    }
    kids->push_back(pid);
  }
  *err = 0;
  return max;
}

TEST(NprocTest, ForkFailsWithEagainAtTheLimit) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become a fresh uid";
  EXPECT_EQ(InChild([] {
              int release[2];
              if (pipe(release) != 0) return 1;
              // Lowering a limit needs no privilege; the count is of the
              // new real uid: this process is the first of 3.
              rlimit lim{3, 3};
              if (setrlimit(RLIMIT_NPROC, &lim) != 0) return 2;
              const uid_t uid = FreshUid();
              if (setresuid(uid, uid, uid) != 0) return 3;
              std::vector<pid_t> kids;
              int err = 0;
              int n = ForkUntilFailure(release, 10, &kids, &err);
              if (n != 2) return 10 + n;
              if (err != EAGAIN) return 4;
              // Reaped processes no longer count.
              close(release[1]);
              for (pid_t k : kids)
                if (waitpid(k, nullptr, 0) != k) return 5;
              pid_t pid = fork();
              if (pid == 0) _exit(0);
              if (pid < 0) return 6;
              // An unreaped zombie still counts.
              pid_t other = fork();
              if (other == 0) _exit(0);
              if (other < 0) return 7;
              // Wait for the first to die without reaping it.
              siginfo_t info;
              if (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0) return 8;
              pid_t third = fork();
              if (third == 0) _exit(0);
              if (third != -1 || errno != EAGAIN) return 9;
              waitpid(pid, nullptr, 0);
              waitpid(other, nullptr, 0);
              return 0;
            }),
            0);
}

TEST(NprocTest, RootIsExempt) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(InChild([] {
              rlimit lim{1, 1};
              if (setrlimit(RLIMIT_NPROC, &lim) != 0) return 1;
              pid_t pid = fork();
              if (pid == 0) _exit(0);
              if (pid < 0) return 2;
              return waitpid(pid, nullptr, 0) == pid ? 0 : 3;
            }),
            0);
}

TEST(NprocTest, SetuidMovesTheCount) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to become a fresh uid";
  // Children that stay root do not count for the fresh uid.
  EXPECT_EQ(InChild([] {
              int release[2];
              if (pipe(release) != 0) return 1;
              std::vector<pid_t> kids;
              int err = 0;
              if (ForkUntilFailure(release, 3, &kids, &err) != 3) return 2;
              rlimit lim{2, 2};
              if (setrlimit(RLIMIT_NPROC, &lim) != 0) return 3;
              const uid_t uid = FreshUid() + 1;
              if (setresuid(uid, uid, uid) != 0) return 4;
              int n = ForkUntilFailure(release, 5, &kids, &err);
              close(release[1]);
              for (pid_t k : kids) waitpid(k, nullptr, 0);
              return n == 1 && err == EAGAIN ? 0 : 10 + n;
            }),
            0);
}

}  // namespace
