// Resource limits the kernel enforces on its own: RLIMIT_FSIZE (write,
// pwrite, O_APPEND, truncate, ftruncate, fallocate: a short write up to the
// limit, then SIGXFSZ and EFBIG; shrinking and non-regular files are
// free) and RLIMIT_CPU (SIGXCPU at the soft limit and every second after,
// the soft limit moving up by one each time; SIGKILL at the hard limit).
// Each test runs in a child, which may keep the limits it sets.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "cpu_spin.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr rlim_t kLimit = 4096;

#define CHILD_CHECK(n, cond) \
  if (!(cond)) return n

// SIGXFSZ's default action dumps core: no core files natively.
bool NoCore() {
  const struct rlimit zero = {0, 0};
  return setrlimit(RLIMIT_CORE, &zero) == 0;
}

// Some hosts close "/" to other users (0700): then no path works.
#define SKIP_WITHOUT_TMP() \
  if (access("/tmp", W_OK | X_OK)) GTEST_SKIP() << "/tmp: " << ErrnoName(errno)

bool SetFsize(rlim_t limit) {
  const struct rlimit r = {limit, limit};
  return setrlimit(RLIMIT_FSIZE, &r) == 0;
}

// SIGXFSZ as the last handler call saw it.
std::atomic<int> g_xfsz_count{0};
std::atomic<int> g_xfsz_code{0};
std::atomic<int> g_xfsz_pid{0};

void CountXfsz(int, siginfo_t* info, void*) {
  g_xfsz_count.fetch_add(1);
  g_xfsz_code.store(info->si_code);
  g_xfsz_pid.store(info->si_pid);
}

bool Catch(int sig, void (*fn)(int, siginfo_t*, void*)) {
  struct sigaction sa = {};
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  return sigaction(sig, &sa, nullptr) == 0;
}

bool CatchXfsz() { return Catch(SIGXFSZ, CountXfsz); }

// write(2) writes up to the limit, then fails with EFBIG and SIGXFSZ (from
// the caller itself, SI_USER); pwrite and O_APPEND the same.
TEST(RlimitFsizeTest, Write) {
  SKIP_WITHOUT_TMP();
  TempDir dir;
  const std::string path = dir / "f";
  EXPECT_EQ(
      InChild([&] {
        CHILD_CHECK(1, NoCore() && CatchXfsz() && SetFsize(kLimit));
        const int fd = open(path.c_str(), O_CREAT | O_RDWR, 0600);
        CHILD_CHECK(2, fd >= 0);
        std::vector<char> buf(3 * kLimit, 'x');
        CHILD_CHECK(3, write(fd, buf.data(), kLimit - 100) ==
                           static_cast<ssize_t>(kLimit - 100));
        CHILD_CHECK(4, g_xfsz_count == 0);
        // A short write, no signal.
        CHILD_CHECK(5, write(fd, buf.data(), 1000) == 100);
        CHILD_CHECK(6, g_xfsz_count == 0);
        CHILD_CHECK(7, write(fd, buf.data(), 1) == -1 && errno == EFBIG);
        CHILD_CHECK(8, g_xfsz_count == 1);
        CHILD_CHECK(9, g_xfsz_code == SI_USER && g_xfsz_pid == getpid());
        // A write of nothing is not checked.
        CHILD_CHECK(10, write(fd, buf.data(), 0) == 0);
        CHILD_CHECK(11,
                    pwrite(fd, buf.data(), 10, kLimit) == -1 && errno == EFBIG);
        CHILD_CHECK(12, g_xfsz_count == 2);
        CHILD_CHECK(13, pwrite(fd, buf.data(), buf.size(), 10) ==
                            static_cast<ssize_t>(kLimit - 10));
        CHILD_CHECK(14, lseek(fd, 0, SEEK_END) == static_cast<off_t>(kLimit));
        // Below the limit all is normal.
        CHILD_CHECK(15, pwrite(fd, buf.data(), 10, 0) == 10);
        close(fd);
        const int afd = open(path.c_str(), O_WRONLY | O_APPEND);
        CHILD_CHECK(16, afd >= 0);
        CHILD_CHECK(17, write(afd, buf.data(), 1) == -1 && errno == EFBIG);
        CHILD_CHECK(18, g_xfsz_count == 3);
        close(afd);
        return 0;
      }),
      0);
}

// Ignored, SIGXFSZ is dropped and the call still fails; by default it ends
// the process.
TEST(RlimitFsizeTest, IgnoredOrDefault) {
  SKIP_WITHOUT_TMP();
  TempDir dir;
  const std::string path = dir / "f";
  EXPECT_EQ(InChild([&] {
              CHILD_CHECK(1, NoCore() && SetFsize(0));
              CHILD_CHECK(2, signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
              const int fd = open(path.c_str(), O_CREAT | O_RDWR, 0600);
              CHILD_CHECK(3, fd >= 0);
              CHILD_CHECK(4, write(fd, "x", 1) == -1 && errno == EFBIG);
              CHILD_CHECK(5, signal(SIGXFSZ, SIG_DFL) != SIG_ERR);
              (void)!write(fd, "x", 1);
              return 6;
            }),
            128 + SIGXFSZ);
}

// Files that are not regular have no size to limit.
TEST(RlimitFsizeTest, OnlyRegularFiles) {
  SKIP_WITHOUT_TMP();
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, NoCore() && CatchXfsz() && SetFsize(0));
              const int null = open("/dev/null", O_WRONLY);
              CHILD_CHECK(2, null >= 0);
              CHILD_CHECK(3, write(null, "abc", 3) == 3);
              int fds[2];
              CHILD_CHECK(4, pipe(fds) == 0);
              CHILD_CHECK(5, write(fds[1], "abc", 3) == 3);
              CHILD_CHECK(6, g_xfsz_count == 0);
              return 0;
            }),
            0);
}

// Growing past the limit (size > limit: exactly the limit is fine) is
// EFBIG and SIGXFSZ; shrinking is always allowed, even above it.
TEST(RlimitFsizeTest, TruncateAndFallocate) {
  SKIP_WITHOUT_TMP();
  TempDir dir;
  const std::string path = dir / "f";
  MakeFile(path, std::string(3 * kLimit, 'y'));
  EXPECT_EQ(InChild([&] {
              CHILD_CHECK(1, NoCore() && CatchXfsz() && SetFsize(kLimit));
              const int fd = open(path.c_str(), O_RDWR);
              CHILD_CHECK(2, fd >= 0);
              CHILD_CHECK(3, ftruncate(fd, 2 * kLimit) == 0);
              CHILD_CHECK(4, truncate(path.c_str(), kLimit + 1) == 0);
              CHILD_CHECK(5, g_xfsz_count == 0);
              CHILD_CHECK(6, ftruncate(fd, 10) == 0);
              CHILD_CHECK(7, ftruncate(fd, kLimit + 1) == -1 && errno == EFBIG);
              CHILD_CHECK(8, g_xfsz_count == 1);
              CHILD_CHECK(9, truncate(path.c_str(), kLimit + 1) == -1 &&
                                 errno == EFBIG);
              CHILD_CHECK(10, g_xfsz_count == 2);
              CHILD_CHECK(11, ftruncate(fd, kLimit) == 0);
              CHILD_CHECK(12, ftruncate(fd, 10) == 0);
              CHILD_CHECK(13, fallocate(fd, 0, 0, kLimit) == 0);
              CHILD_CHECK(
                  14, fallocate(fd, 0, 0, kLimit + 1) == -1 && errno == EFBIG);
              CHILD_CHECK(15, g_xfsz_count == 3);
              struct stat st;
              CHILD_CHECK(16, fstat(fd, &st) == 0 && st.st_size == kLimit);
              close(fd);
              return 0;
            }),
            0);
}

// SIGXCPU as the handler saw it.
std::atomic<int> g_xcpu_count{0};
std::atomic<int> g_xcpu_code{0};
std::atomic<int64_t> g_xcpu_cpu_ns[4];
std::atomic<rlim_t> g_xcpu_soft[4];

void CountXcpu(int, siginfo_t* info, void*) {
  const int n = g_xcpu_count.load();
  if (n < 4) {
    struct timespec ts = {};
    syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts);
    g_xcpu_cpu_ns[n] = ToNs(ts);
    struct rlimit r = {};
    syscall(SYS_prlimit64, 0, RLIMIT_CPU, nullptr, &r);
    g_xcpu_soft[n] = r.rlim_cur;
  }
  g_xcpu_code.store(info->si_code);
  g_xcpu_count.fetch_add(1);
}

// How long a child may spin before it counts as a hang: CPU time comes
// slowly on a loaded machine.
constexpr int64_t kSpinSafetyNs = 60 * kNsPerSecond;

// Spins in user mode (a clock read per ~1 ms of arithmetic) until `count`
// SIGXCPUs arrived, or for good when `count` is 0 (until killed); gives up
// after kSpinSafetyNs of wall time.
void SpinUntilXcpu(int count) {
  const int64_t give_up = ClockNs(CLOCK_MONOTONIC) + kSpinSafetyNs;
  while ((count == 0 || g_xcpu_count.load() < count) &&
         ClockNs(CLOCK_MONOTONIC) < give_up)
    BurnABit();
}

bool CatchXcpu() { return Catch(SIGXCPU, CountXcpu); }

// At the soft limit SIGXCPU (from the kernel), and the soft limit moves
// up by a second, so one more comes each second of CPU time.
TEST(RlimitCpuTest, SoftLimitEverySecond) {
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, CatchXcpu());
              const struct rlimit r = {1, RLIM_INFINITY};
              CHILD_CHECK(2, setrlimit(RLIMIT_CPU, &r) == 0);
              SpinUntilXcpu(2);
              CHILD_CHECK(3, g_xcpu_count >= 2);
              CHILD_CHECK(4, g_xcpu_code == SI_KERNEL);
              // Not at once, nor both together. Linux compares tick-sampled
              // times, which on a loaded machine may run well ahead of the
              // precise clock read here: only half a second is certain.
              CHILD_CHECK(5, g_xcpu_cpu_ns[0] >= kNsPerSecond / 2);
              CHILD_CHECK(
                  6, g_xcpu_cpu_ns[1] - g_xcpu_cpu_ns[0] >= kNsPerSecond / 2);
              CHILD_CHECK(7, g_xcpu_soft[0] == 2);
              CHILD_CHECK(8, g_xcpu_soft[1] == 3);
              return 0;
            }),
            0);
}

// At the hard limit, SIGKILL, whatever the process does about SIGXCPU.
TEST(RlimitCpuTest, HardLimitKills) {
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, signal(SIGXCPU, SIG_IGN) != SIG_ERR);
              const struct rlimit r = {1, 1};
              CHILD_CHECK(2, setrlimit(RLIMIT_CPU, &r) == 0);
              SpinUntilXcpu(0);
              return 3;
            }),
            128 + SIGKILL);
}

// A forked child inherits the limit, measured on its own CPU time: the
// parent, which spent less than a second, gets nothing.
TEST(RlimitCpuTest, InheritedByFork) {
  EXPECT_EQ(InChild([] {
              CHILD_CHECK(1, CatchXcpu());
              const struct rlimit r = {1, RLIM_INFINITY};
              CHILD_CHECK(2, setrlimit(RLIMIT_CPU, &r) == 0);
              const int code = InChild([] {
                SpinUntilXcpu(1);
                return g_xcpu_count == 1 ? 0 : 1;
              });
              CHILD_CHECK(3, code == 0);
              CHILD_CHECK(4, g_xcpu_count == 0);
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace syscall_test
