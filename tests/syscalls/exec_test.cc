// execve(2): the new image (memory, brk, /proc/self/exe), what it keeps (fds
// without close-on-exec, the signal mask and pending signals, process
// state, itimers, credentials) and loses (close-on-exec fds, handlers, the
// alternate stack, other threads), and vfork's parent resuming at exec.
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "exec_util.h"
#include "temp_dir.h"

namespace syscall_test {
namespace {

// Far from anything an image or its stack, heap and mmap area use.
constexpr uintptr_t kProbeAddr = 0x200000000000;

std::string Str(long v) { return std::to_string(v); }

uint64_t Bit(int sig) { return uint64_t{1} << (sig - 1); }

std::string HexSet(uint64_t set) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%#lx", set);
  return buf;
}

int ExecSelf(std::vector<std::string> env = {}) {
  return Execve("/proc/self/exe", CStrings({"exec_test"}),
                ProbeEnv(std::move(env)));
}

void ExpectExitedZero(const ExecOutcome& o) {
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0)
      << "wait status " << std::hex << o.status;
}

TEST(ExecTest, ReplacesTheImage) {
  const std::string exe = SelfExe();
  uintptr_t old_brk_page = 0;
  ExecOutcome o = ForkAndExec([&] {
    void* p =
        mmap(reinterpret_cast<void*>(kProbeAddr), 4096, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != reinterpret_cast<void*>(kProbeAddr)) return errno;
    *static_cast<char*>(p) = 1;
    // Move the break up 64 MiB: the new image must start from its own.
    const long brk = syscall(SYS_brk, 0);
    const long want = brk + (64 << 20);
    if (syscall(SYS_brk, want) != want) return ENOMEM;
    old_brk_page = want - 4096;
    *reinterpret_cast<char*>(old_brk_page) = 1;
    return Execve("/proc/self/exe", CStrings({"first", "second"}),
                  ProbeEnv({"EXEC_TEST_ADDRS=" + Str(kProbeAddr) + "," +
                            Str(old_brk_page)}));
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  ExpectExitedZero(o);
  int gone = 0;  // both pages are unmapped in the new image
  for (auto& [key, value] : o.report)
    if (key.starts_with("addr") && value == Str(EFAULT)) ++gone;
  EXPECT_EQ(gone, 2);
  // Linux's brk starts above the bss, randomised by up to 1 GiB (x86-64).
  EXPECT_GE(o.Num("brk_off"), 0);
  EXPECT_LT(o.Num("brk_off"), (1l << 30) + (1 << 20));
  EXPECT_EQ(o["exe"], exe);
  EXPECT_EQ(o["execfn"], "/proc/self/exe");
  EXPECT_EQ(o["comm"], "exe");  // the basename of the path executed
  EXPECT_EQ(o["argc"], "2");
  EXPECT_EQ(o["argv0"], "first");
  EXPECT_EQ(o["argv1"], "second");
  EXPECT_EQ(o["envc"], "2");
  EXPECT_EQ(o["env1"], kReportEnv);
}

TEST(ExecTest, CloseOnExecFdsAreClosedOthersKept) {
  FileDescriptor plain(open(kRegularFile, O_RDONLY));
  ASSERT_GE(plain.get(), 0);
  ASSERT_THAT(lseek(plain.get(), 5, SEEK_SET), SyscallSucceedsWithValue(5));
  FileDescriptor cloexec(open("/dev/null", O_RDONLY | O_CLOEXEC));
  FileDescriptor set_by_fcntl(dup(plain.get()));
  ASSERT_THAT(fcntl(set_by_fcntl.get(), F_SETFD, FD_CLOEXEC),
              SyscallSucceeds());
  FileDescriptor cleared(open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC));
  ASSERT_THAT(fcntl(cleared.get(), F_SETFD, 0), SyscallSucceeds());
  FileDescriptor dup_cloexec(fcntl(plain.get(), F_DUPFD_CLOEXEC, 0));
  FileDescriptor dup_of_cloexec(dup(cloexec.get()));  // dup clears the flag
  const int all[] = {plain.get(),   cloexec.get(),     set_by_fcntl.get(),
                     cleared.get(), dup_cloexec.get(), dup_of_cloexec.get()};
  std::string list = "0,1,2";
  for (int fd : all) {
    ASSERT_GE(fd, 0);
    list += "," + Str(fd);
  }
  ExecOutcome o =
      ForkAndExec([&] { return ExecSelf({"EXEC_TEST_FDS=" + list}); });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  // fd flags, status flags (the same description: the parent's), offset.
  auto kept = [&](int fd, int offset) {
    char buf[64];
    snprintf(buf, sizeof(buf), "0,%#o,%d", fcntl(fd, F_GETFL), offset);
    return std::string(buf);
  };
  EXPECT_EQ(o["fd" + Str(plain.get())], kept(plain.get(), 5));
  EXPECT_EQ(o["fd" + Str(cloexec.get())], "closed");
  EXPECT_EQ(o["fd" + Str(set_by_fcntl.get())], "closed");
  EXPECT_EQ(o["fd" + Str(cleared.get())], kept(cleared.get(), 0));
  EXPECT_EQ(o["fd" + Str(dup_cloexec.get())], "closed");
  EXPECT_EQ(o["fd" + Str(dup_of_cloexec.get())], kept(cloexec.get(), 0));
  EXPECT_NE(o["fd2"], "closed");
}

struct KernelSigaction {
  uintptr_t handler;
  unsigned long flags;
  uintptr_t restorer;
  uint64_t mask;
};

void Handler(int) {}

int SetAction(int sig, uintptr_t handler, unsigned long flags, uint64_t mask) {
  KernelSigaction act{handler, flags, 0, mask};
  return syscall(SYS_rt_sigaction, sig, &act, nullptr, 8) == 0 ? 0 : errno;
}

TEST(ExecTest, HandlersResetIgnoredStayIgnored) {
  const auto handler = reinterpret_cast<uintptr_t>(&Handler);
  ExecOutcome o = ForkAndExec([&] {
    int err = SetAction(SIGUSR1, handler, SA_RESTART | SA_ONSTACK | SA_NODEFER,
                        Bit(SIGUSR2));
    err = err ?: SetAction(SIGUSR2, 1, SA_RESTART, Bit(SIGINT));  // SIG_IGN
    err = err ?: SetAction(SIGTERM, 0, SA_SIGINFO | SA_RESTART, Bit(SIGINT));
    err = err ?: SetAction(SIGCHLD, 1, 0, 0);
    err = err ?: SetAction(SIGRTMIN + 2, handler, SA_SIGINFO, 0);
    return err ? err : ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  // Linux's flush_signal_handlers: every flag and mask is cleared too.
  for (int sig = 1; sig <= 64; ++sig) {
    SCOPED_TRACE(sig);
    const bool ignored = sig == SIGUSR2 || sig == SIGCHLD;
    EXPECT_EQ(o["sig" + Str(sig)], ignored ? "ign,0,0" : "dfl,0,0");
  }
}

TEST(ExecTest, MaskAndPendingSignalsAreKept) {
  const uint64_t blocked = Bit(SIGUSR1) | Bit(SIGUSR2) | Bit(SIGWINCH) |
                           Bit(SIGRTMIN + 1) | Bit(SIGHUP);
  ExecOutcome o = ForkAndExec([&] {
    // SIGUSR1 pending with a handler: it stays pending under SIG_DFL.
    int err = SetAction(SIGUSR1, reinterpret_cast<uintptr_t>(&Handler), 0, 0);
    err = err ?: SetAction(SIGWINCH, 1, 0, 0);  // ignored but blocked: queued
    if (err) return err;
    uint64_t set = blocked;
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, nullptr, 8))
      return errno;
    const pid_t me = getpid();
    kill(me, SIGUSR1);
    syscall(SYS_tgkill, me, syscall(SYS_gettid), SIGUSR2);
    kill(me, SIGWINCH);
    sigqueue(me, SIGRTMIN + 1, sigval{1});
    sigqueue(me, SIGRTMIN + 1, sigval{2});
    return ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["mask"], HexSet(blocked));
  EXPECT_EQ(o["pending"], HexSet(blocked & ~Bit(SIGHUP)));
  EXPECT_EQ(o["sig" + Str(SIGUSR1)], "dfl,0,0");
}

TEST(ExecTest, AlternateSignalStackIsDisabled) {
  ExecOutcome o = ForkAndExec([] {
    static char stack[65536];
    stack_t ss{.ss_sp = stack, .ss_flags = 0, .ss_size = sizeof(stack)};
    if (sigaltstack(&ss, nullptr) != 0) return errno;
    return ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["altstack"], Str(SS_DISABLE) + ",(nil),0");
}

TEST(ExecTest, ProcessStateIsKept) {
  TempDir dir;
  ExecOutcome o = ForkAndExec([&] {
    if (setpgid(0, 0) != 0 || chdir(dir.path().c_str()) != 0) return errno;
    umask(027);
    rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 100;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return errno;
    // SIGALRM blocked: the timer must only keep running, not kill.
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, nullptr);
    itimerval it{{50, 0}, {100, 0}};
    if (setitimer(ITIMER_REAL, &it, nullptr) != 0) return errno;
    return ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  ExpectExitedZero(o);
  // pid and tid are the forked child's (reported through its exec).
  EXPECT_EQ(o["tid"], o["pid"]);
  EXPECT_EQ(o["pgid"], o["pid"]);
  EXPECT_EQ(o["ppid"], Str(getpid()));
  EXPECT_EQ(o["sid"], Str(getsid(0)));
  EXPECT_EQ(o["cwd"], dir.path());
  EXPECT_EQ(o["umask"], "27");
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  EXPECT_EQ(o["nofile"], "100," + Str(rl.rlim_max));
  // Still running: less than the 100 s it was set to, and the interval.
  const std::string real = o["itimer_real"];
  EXPECT_TRUE(real.ends_with(",50.000000")) << real;
  const double left = strtod(real.c_str(), nullptr);
  EXPECT_GT(left, 0);
  EXPECT_LT(left, 100);
}

TEST(ExecTest, ItimerRealFiresAfterExec) {
  ExecOutcome o = ForkAndExec([] {
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, nullptr);
    itimerval it{{0, 0}, {0, 20000}};
    if (setitimer(ITIMER_REAL, &it, nullptr) != 0) return errno;
    return ExecSelf({"EXEC_TEST_SIGWAIT=" + Str(SIGALRM)});
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["sigwait"], Str(SIGALRM));
}

TEST(ExecTest, CredentialsAreKeptAndSavedIdsSetToEffective) {
  TempDir dir;
  ASSERT_THAT(chmod(dir.path().c_str(), 0755), SyscallSucceeds());
  const std::string prog = dir / "prog";
  ASSERT_NO_FATAL_FAILURE(CopySelf(prog));
  const bool root = geteuid() == 0;
  ExecOutcome o = ForkAndExec([&] {
    if (root && (setgroups(0, nullptr) != 0 || setresgid(1, 2, 3) != 0 ||
                 setresuid(4, 5, 6) != 0))
      return errno;
    // The fs ids may differ before; exec sets them to the effective ones.
    setfsgid(root ? 3 : getgid());
    setfsuid(root ? 6 : getuid());
    return Execve(prog, CStrings({"prog"}), ProbeEnv());
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  if (root) {
    EXPECT_EQ(o["uids"], "4,5,5,5");
    EXPECT_EQ(o["gids"], "1,2,2,2");
    EXPECT_EQ(o["ngroups"], "0");
    EXPECT_EQ(o["secure"], "1");  // real and effective ids differ
    EXPECT_EQ(o["caps"], "0,0,0");
    EXPECT_EQ(o["dumpable"], "0");  // as the ids differ
  } else {
    const std::string u = Str(getuid()), g = Str(getgid());
    EXPECT_EQ(o["uids"], u + "," + u + "," + u + "," + u);
    EXPECT_EQ(o["gids"], g + "," + g + "," + g + "," + g);
    EXPECT_EQ(o["secure"], "0");
  }
}

// A process sharing its fd table (CLONE_FILES) gets a copy at exec: the
// close-on-exec fds close in its copy only.
TEST(ExecTest, SharedFdTableIsUnsharedFirst) {
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  FileDescriptor cloexec(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(cloexec.get(), 0);
  CStrings argv({"exec_test", "--exec-test-report=" + Str(p[1])});
  CStrings envp({});
  const pid_t pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    execve("/proc/self/exe", argv.get(), envp.get());
    _exit(127);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(fcntl(cloexec.get(), F_GETFD),
              SyscallSucceedsWithValue(FD_CLOEXEC));
  close(p[0]);
  close(p[1]);
}

TEST(ExecTest, DumpableIsReset) {
  ExecOutcome o = ForkAndExec([] {
    if (prctl(PR_SET_DUMPABLE, 0) != 0) return errno;
    return ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["dumpable"], "1");
}

// capget/capset's two 32-bit halves of each set.
struct CapData {
  uint32_t effective, permitted, inheritable;
};
struct CapHeader {
  uint32_t version = 0x20080522;  // _LINUX_CAPABILITY_VERSION_3
  int pid = 0;
};

uint64_t PermittedCaps() {
  CapHeader hdr;
  CapData d[2] = {};
  EXPECT_THAT(syscall(SYS_capget, &hdr, d), SyscallSucceeds());
  return uint64_t{d[1].permitted} << 32 | d[0].permitted;
}

// A root exec (no file capabilities) gets the bounding set as permitted,
// and as effective too if the effective uid is 0 (capabilities(7)).
TEST(ExecTest, RootGetsItsCapabilitiesBack) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const uint64_t full = PermittedCaps();  // root's: its bounding set
  const std::string all = HexSet(full);
  ExecOutcome o = ForkAndExec([&] {
    const uint64_t some = full & ~(uint64_t{1} << 21 | uint64_t{1} << 13);
    CapHeader hdr;
    CapData d[2] = {{uint32_t(some), uint32_t(some), 0},
                    {uint32_t(some >> 32), uint32_t(some >> 32), 0}};
    if (syscall(SYS_capset, &hdr, d) != 0) return errno;
    return ExecSelf();
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["caps"], all + "," + all + ",0");

  // Real uid 0 but effective uid 5: permitted, not effective.
  TempDir dir;
  ASSERT_THAT(chmod(dir.path().c_str(), 0755), SyscallSucceeds());
  ASSERT_NO_FATAL_FAILURE(CopySelf(dir / "prog"));
  o = ForkAndExec([&] {
    if (setresuid(0, 5, 0) != 0) return errno;
    return Execve(dir / "prog", CStrings({"prog"}), ProbeEnv());
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["caps"], "0," + all + ",0");
  EXPECT_EQ(o["uids"], "0,5,5,5");
  EXPECT_EQ(o["secure"], "1");
}

}  // namespace
}  // namespace syscall_test
