// prctl(2): PR_{SET,GET}_NAME, _DUMPABLE, _NO_NEW_PRIVS, _PDEATHSIG's
// settings, _CHILD_SUBREAPER's flag, unknown options (prctl_reaper_test.cc:
// what the death signal and the subreaper do). Changes run in children.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "test_util.h"

namespace {

using syscall_test::BadAddress;
using syscall_test::FileDescriptor;
using syscall_test::PageSize;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

using syscall_test::InChild;

// Runs `fn` on a new thread and waits for it.
template <typename F>
auto OnThread(F fn) {
  decltype(fn()) result{};
  std::thread([&] { result = fn(); }).join();
  return result;
}

std::string GetName() {
  char buf[16];
  memset(buf, 'x', sizeof(buf));
  if (prctl(PR_GET_NAME, buf) != 0) return "<error>";
  if (buf[15] != '\0') return "<no NUL>";
  return buf;
}

// The first line of `path`, or nullopt if it cannot be opened.
std::optional<std::string> FirstLine(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY));
  if (fd.get() < 0) return std::nullopt;
  char buf[64] = {};
  ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
  if (n < 0) return std::nullopt;
  std::string s(buf, n);
  return s.substr(0, s.find('\n'));
}

TEST(PrctlNameTest, SetAndGetTruncateTo15Bytes) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_NAME, "abc") != 0) return 1;
              // Linux pads the 16-byte buffer with NULs.
              char buf[16];
              memset(buf, 'x', sizeof(buf));
              if (prctl(PR_GET_NAME, buf) != 0) return 2;
              for (int i = 3; i < 16; ++i)
                if (buf[i] != '\0') return 3;
              if (prctl(PR_SET_NAME, "0123456789abcdefghij") != 0) return 4;
              if (GetName() != "0123456789abcde") return 5;
              if (prctl(PR_SET_NAME, "") != 0) return 6;
              return GetName().empty() ? 0 : 7;
            }),
            0);
}

TEST(PrctlNameTest, NameMayEndAtAnUnreadablePage) {
  const size_t page = PageSize();
  char* p = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_THAT(mprotect(p + page, page, PROT_NONE), SyscallSucceeds());
  EXPECT_EQ(InChild([&] {
              char* end = p + page;
              memcpy(end - 3, "ab", 3);
              if (prctl(PR_SET_NAME, end - 3) != 0) return 1;
              if (GetName() != "ab") return 2;
              // Exactly 15 readable bytes without a NUL are a whole name.
              memcpy(end - 15, "ABCDEFGHIJKLMNO", 15);
              if (prctl(PR_SET_NAME, end - 15) != 0) return 3;
              if (GetName() != "ABCDEFGHIJKLMNO") return 4;
              // Fewer than 15 bytes and no NUL before the hole: EFAULT.
              memcpy(end - 4, "wxyz", 4);
              if (prctl(PR_SET_NAME, end - 4) != -1 || errno != EFAULT)
                return 5;
              return 0;
            }),
            0);
  munmap(p, 2 * page);
}

TEST(PrctlNameTest, BadAddressesAreEfault) {
  EXPECT_THAT(prctl(PR_SET_NAME, BadAddress()), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(prctl(PR_GET_NAME, BadAddress()), SyscallFailsWithErrno(EFAULT));
}

TEST(PrctlNameTest, EachThreadHasItsOwnName) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_NAME, "main") != 0) return 1;
              std::string seen = OnThread([] {
                // A new thread starts with its creator's name.
                std::string first = GetName();
                if (prctl(PR_SET_NAME, "worker") != 0) return std::string();
                return first + "," + GetName();
              });
              if (seen != "main,worker") return 2;
              return GetName() == "main" ? 0 : 3;
            }),
            0);
}

TEST(PrctlNameTest, ProcCommShowsTheName) {
  if (!FirstLine("/proc/self/comm"))
    GTEST_SKIP() << "no /proc/self/comm";
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_NAME, "commtest") != 0) return 1;
              if (FirstLine("/proc/self/comm") != "commtest") return 2;
              std::string tid_comm = OnThread([] {
                prctl(PR_SET_NAME, "threadcomm");
                std::string path = "/proc/self/task/" +
                                   std::to_string(syscall(SYS_gettid)) +
                                   "/comm";
                return FirstLine(path).value_or("<none>");
              });
              if (tid_comm != "threadcomm") return 3;
              // The process's comm is its main thread's.
              return FirstLine("/proc/self/comm") == "commtest" ? 0 : 4;
            }),
            0);
}

TEST(PrctlDumpableTest, OnlyZeroAndOne) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_DUMPABLE, 0) != 0) return 1;
              if (prctl(PR_GET_DUMPABLE) != 0) return 2;
              if (prctl(PR_SET_DUMPABLE, 1) != 0) return 3;
              if (prctl(PR_GET_DUMPABLE) != 1) return 4;
              // SUID_DUMP_ROOT (2) is only for the sysctl.
              for (unsigned long v : {2ul, 3ul, ~0ul})
                if (prctl(PR_SET_DUMPABLE, v) != -1 || errno != EINVAL)
                  return 5;
              return prctl(PR_GET_DUMPABLE) == 1 ? 0 : 6;
            }),
            0);
}

TEST(PrctlDumpableTest, SharedByThreadsAndInheritedByFork) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_DUMPABLE, 1) != 0) return 1;
              // It belongs to the address space: every thread sees it.
              int r = OnThread([] { return prctl(PR_SET_DUMPABLE, 0); });
              if (r != 0) return 2;
              if (prctl(PR_GET_DUMPABLE) != 0) return 3;
              int in_child = InChild([] { return prctl(PR_GET_DUMPABLE); });
              return in_child == 0 ? 0 : 4;
            }),
            0);
}

TEST(PrctlNoNewPrivsTest, CannotBeUnset) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
              if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 2;
              if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) != -1 ||
                  errno != EINVAL)
                return 3;
              if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 4;
              // Setting it again is fine.
              return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : 5;
            }),
            0);
}

TEST(PrctlNoNewPrivsTest, UnusedArgumentsMustBeZero) {
  EXPECT_EQ(InChild([] {
              for (int i = 0; i < 3; ++i) {
                unsigned long a[3] = {0, 0, 0};
                a[i] = 1;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, a[0], a[1], a[2]) != -1 ||
                    errno != EINVAL)
                  return 1 + i;
                if (prctl(PR_GET_NO_NEW_PRIVS, a[0], a[1], a[2], 0) != -1 ||
                    errno != EINVAL)
                  return 4 + i;
              }
              if (prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0) != -1 ||
                  errno != EINVAL)
                return 7;
              return 0;
            }),
            0);
}

TEST(PrctlNoNewPrivsTest, PerThreadAndInherited) {
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
    GTEST_SKIP() << "no_new_privs is set already";
  EXPECT_EQ(InChild([] {
              // A thread started before the change keeps its own flag.
              int pipe_fds[2];
              if (pipe(pipe_fds) != 0) return 1;
              int before = -1;
              std::thread old([&] {
                char c;
                if (read(pipe_fds[0], &c, 1) == 1)
                  before = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
              });
              if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
              if (write(pipe_fds[1], "x", 1) != 1) return 3;
              old.join();
              if (before != 0) return 4;
              // Threads and children made afterwards inherit it.
              if (OnThread([] { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }) != 1)
                return 5;
              if (InChild([] { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }) != 1)
                return 6;
              return 0;
            }),
            0);
}

TEST(PrctlPdeathsigTest, SetGetAndInvalidSignals) {
  EXPECT_EQ(InChild([] {
              int sig = -1;
              if (prctl(PR_GET_PDEATHSIG, &sig) != 0 || sig != 0) return 1;
              if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) return 2;
              if (prctl(PR_GET_PDEATHSIG, &sig) != 0 || sig != SIGUSR1)
                return 3;
              if (prctl(PR_SET_PDEATHSIG, SIGRTMAX) != 0) return 4;
              for (unsigned long bad : {65ul, 1000ul, ~0ul})
                if (prctl(PR_SET_PDEATHSIG, bad) != -1 || errno != EINVAL)
                  return 5;
              if (prctl(PR_GET_PDEATHSIG, &sig) != 0 || sig != SIGRTMAX)
                return 6;
              if (prctl(PR_GET_PDEATHSIG, BadAddress()) != -1 ||
                  errno != EFAULT)
                return 7;
              if (prctl(PR_SET_PDEATHSIG, 0) != 0) return 8;
              return prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == 0 ? 0 : 9;
            }),
            0);
}

TEST(PrctlPdeathsigTest, PerThreadAndClearedInChildren) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_SET_PDEATHSIG, SIGUSR2) != 0) return 1;
              // Neither a new thread nor a forked child inherits it.
              int in_thread = OnThread([] {
                int sig = -1;
                prctl(PR_GET_PDEATHSIG, &sig);
                return sig;
              });
              if (in_thread != 0) return 2;
              int in_child = InChild([] {
                int sig = -1;
                prctl(PR_GET_PDEATHSIG, &sig);
                return sig;
              });
              if (in_child != 0) return 3;
              // A thread's setting is its own.
              OnThread([] { return prctl(PR_SET_PDEATHSIG, SIGHUP); });
              int sig = -1;
              prctl(PR_GET_PDEATHSIG, &sig);
              return sig == SIGUSR2 ? 0 : 4;
            }),
            0);
}

TEST(PrctlSubreaperTest, FlagIsPerProcessAndNotInherited) {
  EXPECT_EQ(InChild([] {
              int v = -1;
              if (prctl(PR_GET_CHILD_SUBREAPER, &v) != 0 || v != 0) return 1;
              // Any non-zero value sets it; it reads back as 1.
              if (prctl(PR_SET_CHILD_SUBREAPER, 5) != 0) return 2;
              if (prctl(PR_GET_CHILD_SUBREAPER, &v) != 0 || v != 1) return 3;
              // Every thread sees the process's flag.
              int in_thread = OnThread([] {
                int t = -1;
                prctl(PR_GET_CHILD_SUBREAPER, &t);
                return t;
              });
              if (in_thread != 1) return 4;
              int in_child = InChild([] {
                int c = -1;
                prctl(PR_GET_CHILD_SUBREAPER, &c);
                return c;
              });
              if (in_child != 0) return 5;
              if (OnThread([] { return prctl(PR_SET_CHILD_SUBREAPER, 0); }) != 0)
                return 6;
              if (prctl(PR_GET_CHILD_SUBREAPER, &v) != 0 || v != 0) return 7;
              if (prctl(PR_GET_CHILD_SUBREAPER, BadAddress()) != -1 ||
                  errno != EFAULT)
                return 8;
              return 0;
            }),
            0);
}

TEST(PrctlTest, UnknownOptionIsEinval) {
  EXPECT_THAT(prctl(0, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(prctl(1000, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(prctl(-1, 0, 0, 0, 0), SyscallFailsWithErrno(EINVAL));
}

}  // namespace
