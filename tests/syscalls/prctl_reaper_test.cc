// What PR_SET_PDEATHSIG and PR_SET_CHILD_SUBREAPER do: the death signal
// when the creating thread or process exits, orphans going to the nearest
// living subreaper (else init), zombies reparented and reported to it.
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "test_util.h"

namespace {

// A pipe whose ends stay open in every process that forks after it; it
// carries explicit messages (never EOF).
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (pipe(fds) == 0) r = fds[0], w = fds[1];
  }
  ~Pipe() {
    close(r);
    close(w);
  }
  template <typename T>
  bool Send(const T& v) {
    return write(w, &v, sizeof(v)) == sizeof(v);
  }
  template <typename T = char>
  T Receive() {
    T v{};
    if (read(r, &v, sizeof(v)) != sizeof(v)) return T{};
    return v;
  }
};

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `body` in a forked child; returns its exit code.
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return ExitCode(status);
}

// Runs `body` in a forked child that is a subreaper and, afterwards, reaps
// every process left to it.
int InSubreaper(const std::function<int()>& body) {
  return InChild([&] {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return 100;
    int r = body();
    while (waitpid(-1, nullptr, __WALL) > 0) {
    }
    return r;
  });
}

// Waits for `sig` (which must be blocked) for at most a minute.
bool AwaitSignal(int sig, siginfo_t* info) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  timespec limit{60, 0};
  return sigtimedwait(&set, info, &limit) == sig;
}

bool SignalPending(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  timespec zero{};
  siginfo_t info;
  return sigtimedwait(&set, &info, &zero) == sig;
}

void Block(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

// Waits until thread `tid` of this process no longer exists (after
// pthread_join, its exit may still be under way).
bool AwaitThreadGone(pid_t tid) {
  for (int i = 0; i < 1000000; ++i) {
    if (syscall(SYS_tgkill, getpid(), tid, 0) != 0) return errno == ESRCH;
    sched_yield();
  }
  return false;
}

// fork(2) with no exit signal: its death alone sends the parent nothing.
pid_t ForkSilently() { return syscall(SYS_clone, 0, 0, 0, 0, 0); }

TEST(SubreaperTest, OrphanGoesToTheSubreaperNotItsGrandparent) {
  EXPECT_EQ(InSubreaper([] {
              const pid_t s = getpid();
              Pipe go, report, release;
              pid_t m = fork();  // an ordinary process between them
              if (m == 0) {
                pid_t a = fork();
                if (a == 0) {
                  if (fork() == 0) {  // B
                    go.Receive();
                    report.Send(getppid());
                    _exit(0);
                  }
                  _exit(0);
                }
                waitpid(a, nullptr, 0);  // B is an orphan now
                go.Send('x');
                release.Receive();
                _exit(0);
              }
              pid_t ppid = report.Receive<pid_t>();
              release.Send('x');
              if (ppid == m) return 1;
              return ppid == s ? 0 : 2;
            }),
            0);
}

TEST(SubreaperTest, NearestLivingSubreaperTakesTheOrphan) {
  EXPECT_EQ(InSubreaper([] {
              const pid_t s = getpid();
              Pipe go, report, release;
              pid_t s2 = fork();
              if (s2 == 0) {
                if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) _exit(1);
                pid_t a = fork();
                if (a == 0) {
                  if (fork() == 0) {  // B
                    go.Receive();
                    report.Send(getppid());  // s2
                    go.Receive();
                    report.Send(getppid());  // s, once s2 is gone
                    _exit(0);
                  }
                  _exit(0);
                }
                waitpid(a, nullptr, 0);
                go.Send('x');
                release.Receive();
                _exit(0);  // leaves B to s
              }
              pid_t first = report.Receive<pid_t>();
              release.Send('x');
              int status = 0;
              if (waitpid(s2, &status, 0) != s2 || ExitCode(status) != 0)
                return 1;
              go.Send('x');
              pid_t second = report.Receive<pid_t>();
              if (first != s2) return 2;
              return second == s ? 0 : 3;
            }),
            0);
}

TEST(SubreaperTest, ZombieOrphanIsReportedToAndReapedByTheSubreaper) {
  EXPECT_EQ(InSubreaper([] {
              Block(SIGCHLD);
              Pipe report;
              pid_t a = ForkSilently();
              if (a == 0) {
                pid_t b = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
                if (b == 0) _exit(7);
                report.Send(b);
                // B is a zombie when A leaves it.
                siginfo_t si;
                waitid(P_PID, b, &si, WEXITED | WNOWAIT);
                _exit(0);
              }
              pid_t b = report.Receive<pid_t>();
              int status = 0;
              if (waitpid(a, &status, __WALL) != a) return 1;
              // Reparenting a zombie tells its new parent at once.
              siginfo_t info{};
              timespec zero{};
              sigset_t set;
              sigemptyset(&set);
              sigaddset(&set, SIGCHLD);
              if (sigtimedwait(&set, &info, &zero) != SIGCHLD) return 2;
              if (info.si_pid != b || info.si_code != CLD_EXITED ||
                  info.si_status != 7)
                return 3;
              if (waitpid(b, &status, WNOHANG) != b) return 4;
              return ExitCode(status) == 7 ? 0 : 5;
            }),
            0);
}

TEST(SubreaperTest, ZombieOrphanIsReapedAtOnceIfSigchldIsIgnored) {
  Pipe report;
  EXPECT_EQ(InSubreaper([&] {
              signal(SIGCHLD, SIG_IGN);
              pid_t a = ForkSilently();
              if (a == 0) {
                pid_t b = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
                if (b == 0) _exit(7);
                report.Send(b);
                siginfo_t si;
                waitid(P_PID, b, &si, WEXITED | WNOWAIT);
                _exit(0);
              }
              pid_t b = report.Receive<pid_t>();
              // A has no exit signal: it stays a zombie until waited for.
              if (waitpid(a, nullptr, __WALL) != a) return 1;
              if (waitpid(b, nullptr, WNOHANG) != -1 || errno != ECHILD)
                return 2;
              report.Send(b);
              return 0;
            }),
            0);
  // B went to the subreaper, not to init (this test, in the sandbox).
  pid_t b = report.Receive<pid_t>();
  EXPECT_THAT(waitpid(b, nullptr, WNOHANG),
              syscall_test::SyscallFailsWithErrno(ECHILD));
}

// Without a subreaper, an orphan goes to init: in the sandbox that is this
// test (pid 1), which may then wait for it; natively some other process.
TEST(SubreaperTest, OrphanWithoutSubreaperGoesToInit) {
  int v = -1;
  ASSERT_EQ(prctl(PR_GET_CHILD_SUBREAPER, &v), 0);
  ASSERT_EQ(v, 0);
  Pipe go, report;
  pid_t a = fork();
  ASSERT_GE(a, 0);
  if (a == 0) {
    pid_t b = fork();
    if (b == 0) {
      go.Receive();
      report.Send(getppid());
      _exit(3);
    }
    report.Send(b);
    _exit(0);
  }
  pid_t b = report.Receive<pid_t>();
  ASSERT_EQ(waitpid(a, nullptr, 0), a);
  go.Send('x');
  pid_t ppid = report.Receive<pid_t>();
  EXPECT_NE(ppid, a);
  if (getpid() == 1) {
    EXPECT_EQ(ppid, 1);
    int status = 0;
    ASSERT_EQ(waitpid(b, &status, 0), b);
    EXPECT_EQ(ExitCode(status), 3);
  } else {
    EXPECT_NE(ppid, getpid());
    EXPECT_THAT(waitpid(b, nullptr, WNOHANG),
                syscall_test::SyscallFailsWithErrno(ECHILD));
  }
}

TEST(PdeathsigTest, DeliveredWhenTheParentExits) {
  EXPECT_EQ(InSubreaper([] {
              const pid_t s = getpid();
              Pipe ready;
              pid_t p = fork();
              if (p == 0) {
                if (fork() == 0) {  // C
                  Block(SIGUSR1);
                  const pid_t parent = getppid();
                  if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) _exit(1);
                  ready.Send('x');
                  siginfo_t info{};
                  if (!AwaitSignal(SIGUSR1, &info)) _exit(2);
                  // Sent as by the dying parent, after the reparenting.
                  if (info.si_code != SI_USER) _exit(3);
                  if (info.si_pid != parent) _exit(4);
                  if (getppid() != s) _exit(5);
                  _exit(0);
                }
                ready.Receive();
                _exit(0);
              }
              int status = 0;
              if (waitpid(p, &status, 0) != p) return 10;
              // C is the subreaper's now.
              pid_t c = waitpid(-1, &status, 0);
              if (c <= 0) return 11;
              return ExitCode(status);
            }),
            0);
}

// In a child whose creating thread will exit while its process `p` lives
// on: asks for SIGUSR1 as its death signal, says so on `ready`, and exits
// 0 once the signal came from `p`, still its parent; else a step number.
[[noreturn]] void AwaitDeathSignalFrom(pid_t p, Pipe& ready) {
  Block(SIGUSR1);
  if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) _exit(1);
  ready.Send('x');
  siginfo_t info{};
  if (!AwaitSignal(SIGUSR1, &info)) _exit(2);
  if (info.si_pid != p) _exit(3);
  _exit(getppid() == p ? 0 : 4);
}

TEST(PdeathsigTest, DeliveredWhenTheCreatingThreadExits) {
  EXPECT_EQ(InChild([] {
              const pid_t p = getpid();
              Pipe ready;
              pid_t c = -1;
              std::thread([&] {
                c = fork();
                if (c == 0) AwaitDeathSignalFrom(p, ready);
                ready.Receive();
              }).join();
              int status = 0;
              if (c <= 0 || waitpid(c, &status, 0) != c) return 10;
              return ExitCode(status);
            }),
            0);
}

TEST(PdeathsigTest, DeliveredWhenTheLeaderExitsFirst) {
  EXPECT_EQ(InChild([] {
              const pid_t p = getpid();
              Pipe ready;
              pid_t c = fork();  // by the leader
              if (c == 0) AwaitDeathSignalFrom(p, ready);
              ready.Receive();
              // Another thread outlives the leader and reaps C.
              std::thread([c] {
                int status = 0;
                _exit(waitpid(c, &status, 0) == c ? ExitCode(status) : 10);
              }).detach();
              syscall(SYS_exit, 0);
              return 11;
            }),
            0);
}

TEST(PdeathsigTest, OtherThreadsExitingDoNotSendIt) {
  EXPECT_EQ(InSubreaper([] {
              Pipe ready, go;
              const int sig = SIGRTMIN + 1;  // queued: each send counts
              pid_t p = fork();
              if (p == 0) {
                if (fork() == 0) {  // C
                  Block(sig);
                  if (prctl(PR_SET_PDEATHSIG, sig) != 0) _exit(1);
                  ready.Send('x');
                  siginfo_t info{};
                  if (!AwaitSignal(sig, &info)) _exit(2);
                  go.Receive();  // P is gone
                  // Only P's exit sent it, once.
                  _exit(SignalPending(sig) ? 3 : 0);
                }
                ready.Receive();
                for (int i = 0; i < 2; ++i) {
                  pid_t tid = 0;
                  std::thread([&] { tid = syscall(SYS_gettid); }).join();
                  // Until the thread is gone for good (its exit is done).
                  if (!AwaitThreadGone(tid)) _exit(4);
                }
                _exit(0);
              }
              int status = 0;
              if (waitpid(p, &status, 0) != p) return 10;
              go.Send('x');
              if (waitpid(-1, &status, 0) <= 0) return 11;
              return ExitCode(status);
            }),
            0);
}

TEST(PdeathsigTest, NotSentWhenUnset) {
  EXPECT_EQ(InSubreaper([] {
              Pipe ready, go;
              pid_t p = fork();
              if (p == 0) {
                if (fork() == 0) {  // C
                  Block(SIGUSR1);
                  // Set and cleared again: nothing to send.
                  prctl(PR_SET_PDEATHSIG, SIGUSR1);
                  prctl(PR_SET_PDEATHSIG, 0);
                  ready.Send('x');
                  go.Receive();  // P is gone
                  _exit(SignalPending(SIGUSR1) ? 1 : 0);
                }
                ready.Receive();
                _exit(0);
              }
              if (waitpid(p, nullptr, 0) != p) return 10;
              go.Send('x');
              int status = 0;
              if (waitpid(-1, &status, 0) <= 0) return 11;
              return ExitCode(status);
            }),
            0);
}

}  // namespace
