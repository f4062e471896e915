// sysinfo, sched_getaffinity/sched_yield, set_tid_address, arch_prctl,
// getcwd/chdir/fchdir, readlink(at) incl. /proc/self/exe, ioctl on non-ttys,
// and rt_sigprocmask/rt_sigaction bookkeeping (no signal is ever delivered).
#include <asm/prctl.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

// Restores the working directory when a test that chdir()s ends.
class CwdRestorer {
 public:
  CwdRestorer() : fd_(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~CwdRestorer() {
    if (fd_.get() >= 0) {
      EXPECT_THAT(fchdir(fd_.get()), SyscallSucceeds());
    }
  }

 private:
  FileDescriptor fd_;
};

// The raw syscall returns the length including the NUL, unlike libc.
long RawGetcwd(char* buf, size_t size) {
  return syscall(SYS_getcwd, buf, size);
}

std::string Cwd() {
  char buf[4096];
  return RawGetcwd(buf, sizeof(buf)) > 0 ? std::string(buf) : "<error>";
}

TEST(SysinfoTest, SaneValues) {
  struct sysinfo si;
  ASSERT_THAT(syscall(SYS_sysinfo, &si), SyscallSucceeds());
  struct timespec boot;
  ASSERT_THAT(clock_gettime(CLOCK_BOOTTIME, &boot), SyscallSucceeds());
  EXPECT_GE(si.mem_unit, 1u);
  EXPECT_GT(si.totalram, 0u);
  EXPECT_LE(si.freeram, si.totalram);
  EXPECT_LE(si.sharedram, si.totalram);
  EXPECT_LE(si.bufferram, si.totalram);
  EXPECT_LE(si.freeswap, si.totalswap);
  EXPECT_GE(si.procs, 1);
  // uptime is CLOCK_BOOTTIME in seconds, rounded up.
  EXPECT_GE(si.uptime, boot.tv_sec - 1);
  EXPECT_LE(si.uptime, boot.tv_sec + 1);
  EXPECT_THAT(syscall(SYS_sysinfo, BadAddress<struct sysinfo>()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(SchedTest, GetaffinityReturnsANonEmptyMask) {
  cpu_set_t set;  // 1024 CPUs.
  CPU_ZERO(&set);
  // The raw syscall returns how many bytes of mask the kernel wrote.
  const long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
  ASSERT_THAT(n, SyscallSucceedsWithValue(::testing::Gt(0)));
  EXPECT_EQ(n % sizeof(long), 0u);
  EXPECT_LE(static_cast<size_t>(n), sizeof(set));
  EXPECT_GE(CPU_COUNT(&set), 1);
  // Same mask by pid; bytes past the returned length are left alone.
  unsigned char by_pid[sizeof(cpu_set_t)];
  memset(by_pid, 0xff, sizeof(by_pid));
  ASSERT_THAT(syscall(SYS_sched_getaffinity, getpid(), sizeof(by_pid), by_pid),
              SyscallSucceedsWithValue(n));
  EXPECT_EQ(memcmp(by_pid, &set, n), 0);
  for (size_t i = n; i < sizeof(by_pid); ++i) ASSERT_EQ(by_pid[i], 0xff) << i;
}

TEST(SchedTest, GetaffinityErrors) {
  cpu_set_t set;
  // The length must be a multiple of sizeof(long) and cover all CPU ids.
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, 0, &set),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, Opaque(sizeof(long) + 1), &set),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, 0, sizeof(set), BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  // A negative pid names no process (ESRCH, which CPython's
  // os.sched_getaffinity(-1) relies on), but the length is checked first.
  EXPECT_THAT(syscall(SYS_sched_getaffinity, -1, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
  EXPECT_THAT(syscall(SYS_sched_getaffinity, -1, Opaque(3), &set),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(syscall(SYS_sched_setaffinity, -1, sizeof(set), &set),
              SyscallFailsWithErrno(ESRCH));
}

TEST(SchedTest, YieldSucceeds) {
  EXPECT_THAT(syscall(SYS_sched_yield), SyscallSucceedsWithValue(0));
}

TEST(SetTidAddressTest, ReturnsTid) {
  // Static storage: the kernel may write here when the thread exits.
  static int tid_word = -1;
  EXPECT_THAT(syscall(SYS_set_tid_address, &tid_word),
              SyscallSucceedsWithValue(syscall(SYS_gettid)));
  EXPECT_EQ(tid_word, -1);  // Nothing is written on registration.
}

TEST(ArchPrctlTest, GetFsIsTheThreadPointer) {
  unsigned long fs = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), SyscallSucceeds());
  // glibc's TCB starts with a pointer to itself at %fs:0.
  unsigned long self;
  asm volatile("mov %%fs:0, %0" : "=r"(self));
  EXPECT_NE(fs, 0u);
  EXPECT_EQ(fs, self);
  // Setting the same base is harmless and reads back unchanged.
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_SET_FS, fs), SyscallSucceeds());
  unsigned long again = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, &again), SyscallSucceeds());
  EXPECT_EQ(again, fs);
}

TEST(ArchPrctlTest, Errors) {
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_GET_FS, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
  unsigned long v;
  EXPECT_THAT(syscall(SYS_arch_prctl, Opaque(0x1fff), &v),
              SyscallFailsWithErrno(EINVAL));
}

TEST(ArchPrctlTest, BasesEndOnePageBelowTwoTo47) {
  // glibc does not use %gs on x86-64: its base can be changed and put back.
  unsigned long old_gs = 0, gs = 0;
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_GS, &old_gs), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_SET_GS, Opaque(0x7ffffffff000)),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(syscall(SYS_arch_prctl, ARCH_SET_FS, Opaque(0x7ffffffff000)),
              SyscallFailsWithErrno(EPERM));
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_SET_GS, Opaque(0x7fffffffe000)),
              SyscallSucceeds());
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), SyscallSucceeds());
  EXPECT_EQ(gs, 0x7fffffffe000u);
  ASSERT_THAT(syscall(SYS_arch_prctl, ARCH_SET_GS, old_gs), SyscallSucceeds());
}

TEST(GetcwdTest, ReturnsLengthIncludingNul) {
  CwdRestorer restore;
  ASSERT_THAT(chdir("/etc"), SyscallSucceeds());
  char buf[64];
  ASSERT_THAT(RawGetcwd(buf, sizeof(buf)), SyscallSucceedsWithValue(5));
  EXPECT_STREQ(buf, "/etc");
  ASSERT_THAT(chdir(".."), SyscallSucceeds());
  ASSERT_THAT(RawGetcwd(buf, sizeof(buf)), SyscallSucceedsWithValue(2));
  EXPECT_STREQ(buf, "/");
}

TEST(GetcwdTest, TooSmallBufferIsErange) {
  CwdRestorer restore;
  ASSERT_THAT(chdir("/etc"), SyscallSucceeds());
  char buf[8];
  EXPECT_THAT(RawGetcwd(buf, 5), SyscallSucceedsWithValue(5));  // Exact fit.
  EXPECT_THAT(RawGetcwd(buf, 4), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(RawGetcwd(buf, 1), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(RawGetcwd(buf, 0), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(RawGetcwd(BadAddress<char>(), 64), SyscallFailsWithErrno(EFAULT));
}

TEST(ChdirTest, ThroughSymlinkGivesPhysicalPath) {
  char target[64];
  const ssize_t n = readlink("/bin", target, sizeof(target));
  if (n < 0 || std::string(target, n) != "usr/bin") {
    GTEST_SKIP() << "/bin is not a symlink to usr/bin";
  }
  CwdRestorer restore;
  ASSERT_THAT(chdir("/bin"), SyscallSucceeds());
  EXPECT_EQ(Cwd(), "/usr/bin");
}

TEST(ChdirTest, Errors) {
  CwdRestorer restore;
  EXPECT_THAT(chdir(kRegularFile), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(chdir("/does-not-exist"), SyscallFailsWithErrno(ENOENT));
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  EXPECT_THAT(fchdir(file.get()), SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(fchdir(-1), SyscallFailsWithErrno(EBADF));
}

TEST(ChdirTest, FchdirToDirectoryFd) {
  CwdRestorer restore;
  FileDescriptor dir = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  ASSERT_THAT(fchdir(dir.get()), SyscallSucceeds());
  EXPECT_EQ(Cwd(), "/etc");
  FileDescriptor rel(open("os-release", O_RDONLY));
  EXPECT_THAT(rel.get(), SyscallSucceeds());
}

TEST(ReadlinkTest, ProcSelfExeIsTheRunningBinary) {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  ASSERT_THAT(n, SyscallSucceedsWithValue(::testing::Gt(0)));
  buf[n] = '\0';
  EXPECT_EQ(buf[0], '/');
  // AT_EXECFN is the path execve() was given; both must name one file.
  const char* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  ASSERT_NE(execfn, nullptr);
  struct stat exe, given;
  ASSERT_THAT(stat(buf, &exe), SyscallSucceeds());
  ASSERT_THAT(stat(execfn, &given), SyscallSucceeds());
  EXPECT_EQ(exe.st_dev, given.st_dev);
  EXPECT_EQ(exe.st_ino, given.st_ino);
}

TEST(ReadlinkTest, TruncatesWithoutNul) {
  char buf[8];
  memset(buf, 'x', sizeof(buf));
  EXPECT_THAT(readlink(kRegularFile, buf, 4), SyscallSucceedsWithValue(4));
  EXPECT_EQ(std::string(buf, 5), "../ux");  // Target is ../usr/lib/os-release.
}

TEST(ReadlinkTest, ReadlinkatRelativeToDirfd) {
  FileDescriptor etc = OpenOrFail("/etc", O_RDONLY | O_DIRECTORY);
  char a[256], b[256];
  const ssize_t n = readlinkat(etc.get(), "os-release", a, sizeof(a));
  ASSERT_THAT(n, SyscallSucceedsWithValue(::testing::Gt(0)));
  ASSERT_THAT(readlinkat(AT_FDCWD, kRegularFile, b, sizeof(b)),
              SyscallSucceedsWithValue(n));
  EXPECT_EQ(std::string(a, n), std::string(b, n));
}

TEST(ReadlinkTest, Errors) {
  char buf[64];
  EXPECT_THAT(readlink("/", buf, sizeof(buf)), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readlink("/does-not-exist", buf, sizeof(buf)),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(readlink(kRegularFile, buf, Opaque(size_t{0})),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(readlinkat(-1, "os-release", buf, sizeof(buf)),
              SyscallFailsWithErrno(EBADF));
}

TEST(IoctlTest, TerminalRequestsOnNonTerminalsAreEnotty) {
  FileDescriptor null_fd = OpenOrFail("/dev/null", O_RDONLY);
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY);
  struct termios t;
  struct winsize ws;
  EXPECT_THAT(ioctl(null_fd.get(), TCGETS, &t), SyscallFailsWithErrno(ENOTTY));
  EXPECT_THAT(ioctl(null_fd.get(), TIOCGWINSZ, &ws),
              SyscallFailsWithErrno(ENOTTY));
  EXPECT_THAT(ioctl(file.get(), TCGETS, &t), SyscallFailsWithErrno(ENOTTY));
  EXPECT_THAT(ioctl(-1, TCGETS, &t), SyscallFailsWithErrno(EBADF));
}

// Raw rt_sigprocmask: how, set, oldset, sigsetsize (8 on x86-64).
long RawSigprocmask(int how, const uint64_t* set, uint64_t* old, size_t size) {
  return syscall(SYS_rt_sigprocmask, how, set, old, size);
}

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

TEST(SigprocmaskTest, BlockReadBackAndRestore) {
  uint64_t saved;
  ASSERT_THAT(RawSigprocmask(SIG_BLOCK, nullptr, &saved, 8), SyscallSucceeds());
  const uint64_t add = Bit(SIGUSR1) | Bit(SIGKILL) | Bit(SIGSTOP);
  ASSERT_THAT(RawSigprocmask(SIG_BLOCK, &add, nullptr, 8), SyscallSucceeds());
  uint64_t now;
  ASSERT_THAT(RawSigprocmask(SIG_BLOCK, nullptr, &now, 8), SyscallSucceeds());
  ASSERT_THAT(RawSigprocmask(SIG_SETMASK, &saved, nullptr, 8),
              SyscallSucceeds());
  EXPECT_EQ(now & Bit(SIGUSR1), Bit(SIGUSR1));
  EXPECT_EQ(now & (Bit(SIGKILL) | Bit(SIGSTOP)), 0u)  // Silently dropped.
      << "SIGKILL/SIGSTOP cannot be blocked";
  uint64_t restored;
  ASSERT_THAT(RawSigprocmask(SIG_BLOCK, nullptr, &restored, 8),
              SyscallSucceeds());
  EXPECT_EQ(restored, saved);
}

TEST(SigprocmaskTest, Errors) {
  uint64_t set = 0;
  EXPECT_THAT(RawSigprocmask(SIG_BLOCK, &set, nullptr, 4),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawSigprocmask(Opaque(99), &set, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
}

TEST(SigactionTest, IgnoreReadBackAndRestore) {
  struct sigaction ign = {}, old = {}, got = {}, back = {};
  ign.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR1, &ign, &old), SyscallSucceeds());
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &got), SyscallSucceeds());
  ASSERT_THAT(sigaction(SIGUSR1, &old, nullptr), SyscallSucceeds());
  ASSERT_THAT(sigaction(SIGUSR1, nullptr, &back), SyscallSucceeds());
  EXPECT_EQ(got.sa_handler, SIG_IGN);
  EXPECT_EQ(back.sa_handler, old.sa_handler);
}

TEST(SigactionTest, Errors) {
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  EXPECT_THAT(sigaction(SIGKILL, &ign, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(SIGSTOP, &ign, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(Opaque(0), &ign, nullptr),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(sigaction(Opaque(65), nullptr, &ign),
              SyscallFailsWithErrno(EINVAL));
}

}  // namespace
}  // namespace syscall_test
