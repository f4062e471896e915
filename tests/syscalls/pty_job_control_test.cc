// Terminals and job control: the controlling terminal of a session
// (TIOCSCTTY, TIOCNOTTY, /dev/tty), its foreground process group
// (TIOCGPGRP, TIOCSPGRP, TIOCGSID), the signals typed characters send
// (VINTR, VQUIT, VSUSP), SIGWINCH, SIGTTIN/SIGTTOU for background groups,
// and SIGHUP when the master goes away. Each test runs in a child that
// makes its own session (setsid), so the test runner's terminal is never
// touched.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "pty_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

// In a child: a new session whose controlling terminal is `p`'s replica.
// Returns 0 or a step number.
int BecomeSessionWith(const Pty& p) {
  if (setsid() < 0) return 90;
  if (ioctl(p.replica.get(), TIOCSCTTY, 0) != 0) return 91;
  return 0;
}

// Blocks `sig` and waits for it; 0 when it came.
int AwaitSignal(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  siginfo_t info;
  if (sigwaitinfo(&set, &info) != sig) return 80;
  return 0;
}

void BlockSignal(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

TEST(PtyJobControlTest, DevTtyWithoutControllingTerminal) {
  EXPECT_EQ(InChild([] {
              if (setsid() < 0) return 1;
              if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO) return 2;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, SessionLeaderTakesTheTerminal) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              pid_t pgrp = -1, sid = -1;
              if (ioctl(p.replica.get(), TIOCGPGRP, &pgrp) != 0) return 2;
              if (pgrp != getpid()) return 3;
              if (ioctl(p.replica.get(), TIOCGSID, &sid) != 0) return 4;
              if (sid != getpid()) return 5;
              if (tcgetpgrp(p.master.get()) != getpid()) return 6;
              const int fd = open("/dev/tty", O_RDWR);
              if (fd < 0) return 7;
              struct stat st;
              if (fstat(fd, &st) != 0 || st.st_rdev != makedev(5, 0)) return 8;
              // /dev/tty is the replica: what the master writes shows up.
              if (write(p.master.get(), "q\n", 2) != 2) return 9;
              char buf[4];
              if (read(fd, buf, sizeof buf) != 2 || buf[0] != 'q') return 10;
              // Taking it again is a no-op; another terminal is EPERM.
              if (ioctl(p.replica.get(), TIOCSCTTY, 0) != 0) return 11;
              Pty other = OpenPty();
              if (ioctl(other.replica.get(), TIOCSCTTY, 0) == 0 ||
                  errno != EPERM)
                return 12;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, OnlyASessionLeaderTakesATerminal) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              // The test process's child leads no session.
              if (getsid(0) == getpid()) return 1;
              if (ioctl(p.replica.get(), TIOCSCTTY, 0) == 0 || errno != EPERM)
                return 2;
              pid_t pgrp;
              if (ioctl(p.replica.get(), TIOCGPGRP, &pgrp) == 0 ||
                  errno != ENOTTY)
                return 3;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, AnotherSessionsTerminalIsEperm) {
  Pty p = OpenPty();
  int ready[2], done[2];
  ASSERT_THAT(pipe(ready), SyscallSucceeds());
  ASSERT_THAT(pipe(done), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(done[1]);
    if (int r = BecomeSessionWith(p)) _exit(r);
    (void)!write(ready[1], "r", 1);
    char c;
    (void)!read(done[0], &c, 1);  // until the parent is done
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(InChild([&] {
              if (setsid() < 0) return 1;
              if (ioctl(p.replica.get(), TIOCSCTTY, 0) == 0 || errno != EPERM)
                return 2;
              return 0;
            }),
            0);
  close(done[1]);
  close(ready[0]);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Forks a session leader of `p` that blocks `sig`, drops its copy of the
// master, and once the caller has acted (`act`), waits for `sig` and then
// runs `after` (its exit code: 0 for success). Returns the leader's wait
// status.
int LeaderAwaiting(Pty& p, int sig, const std::function<void()>& act,
                   const std::function<int()>& after = [] { return 0; }) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    BlockSignal(sig);
    if (int r = BecomeSessionWith(p)) _exit(r);
    p.master.reset();  // the parent's copy is the only one
    (void)!write(ready[1], "r", 1);
    if (int r = AwaitSignal(sig)) _exit(r);
    _exit(after());
  }
  close(ready[1]);
  char c;
  if (read(ready[0], &c, 1) == 1) act();
  close(ready[0]);
  int status = -1;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST(PtyJobControlTest, TypedCharactersSignalTheForegroundGroup) {
  for (auto [ch, sig] : {std::pair<char, int>{'\003', SIGINT},
                         {'\034', SIGQUIT},
                         {'\032', SIGTSTP}}) {
    Pty p = OpenPty();
    const int status = LeaderAwaiting(p, sig, [&] {
      ASSERT_TRUE(WriteAll(p.master.get(), std::string(1, ch)));
    });
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "signal " << sig << " status " << status;
    // The character is echoed as ^X.
    EXPECT_EQ(ReadN(p.master.get(), 2), std::string("^") + char(ch ^ 0100));
  }
}

TEST(PtyJobControlTest, IsigOffKeepsTheCharacter) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_lflag &= ~ISIG; });
  ASSERT_TRUE(WriteAll(p.master.get(), "\003\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "\003\n");
}

TEST(PtyJobControlTest, WindowChangeSignalsTheForegroundGroup) {
  Pty p = OpenPty();
  const int status = LeaderAwaiting(p, SIGWINCH, [&] {
    struct winsize ws = {};
    ws.ws_row = 50;
    ws.ws_col = 132;
    ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &ws), SyscallSucceeds());
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(PtyJobControlTest, MasterCloseSendsSighupToTheSessionLeader) {
  Pty p = OpenPty();
  const int status = LeaderAwaiting(
      p, SIGHUP, [&] { p.master.reset(); },
      [&] {
        char c;
        if (read(p.replica.get(), &c, 1) != 0) return 2;
        // The session lost its terminal.
        if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO) return 3;
        return 0;
      });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(PtyJobControlTest, SessionLeaderExitHangsUpTheForeground) {
  Pty p = OpenPty();
  int result[2];
  ASSERT_THAT(pipe(result), SyscallSucceeds());
  const int status = InChild([&] {
    close(result[0]);
    if (int r = BecomeSessionWith(p)) return r;
    int ready[2];
    if (pipe(ready) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      // A foreground job that outlives its session leader.
      setpgid(0, 0);
      BlockSignal(SIGHUP);
      close(ready[0]);
      (void)!write(ready[1], "r", 1);
      if (AwaitSignal(SIGHUP) == 0) (void)!write(result[1], "h", 1);
      _exit(0);
    }
    close(result[1]);
    close(ready[1]);
    setpgid(pid, pid);
    char c;
    if (read(ready[0], &c, 1) != 1) return 3;
    if (tcsetpgrp(p.replica.get(), pid) != 0) return 4;
    return 0;  // the leader exits
  });
  ASSERT_EQ(status, 0);
  close(result[1]);
  char c = 0;
  EXPECT_THAT(read(result[0], &c, 1), SyscallSucceedsWithValue(1));
  EXPECT_EQ(c, 'h');
  close(result[0]);
}

TEST(PtyJobControlTest, NottyGivesTheTerminalUp) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              // The leader's own group is the foreground: it gets SIGHUP.
              signal(SIGHUP, SIG_IGN);
              if (ioctl(p.replica.get(), TIOCNOTTY) != 0) return 2;
              if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO) return 3;
              pid_t pgrp;
              if (ioctl(p.replica.get(), TIOCGPGRP, &pgrp) == 0 ||
                  errno != ENOTTY)
                return 4;
              if (ioctl(p.master.get(), TIOCNOTTY) == 0 || errno != ENOTTY)
                return 5;
              return 0;
            }),
            0);
}

// In a session leader with the terminal: forks a member of a new,
// background process group of the session that runs `body`; returns how
// that member ended (its wait status).
int InBackgroundGroup(const Pty& p, const std::function<int()>& body,
                      int* status) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setpgid(0, 0) != 0) _exit(70);
    _exit(body());
  }
  if (pid < 0) return 71;
  setpgid(pid, pid);  // either side may win the race; both agree
  if (waitpid(pid, status, WUNTRACED) != pid) return 72;
  if (WIFSTOPPED(*status)) {
    kill(pid, SIGKILL);
    int ignored;
    waitpid(pid, &ignored, 0);
  }
  return 0;
}

TEST(PtyJobControlTest, BackgroundReadStopsWithSigttin) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              int status;
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        char c;
                        (void)!read(p.replica.get(), &c, 1);
                        return 1;
                      },
                      &status))
                return r;
              if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTTIN) return 2;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, BackgroundReadWithSigttinIgnoredIsEio) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              int status;
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        signal(SIGTTIN, SIG_IGN);
                        char c;
                        if (read(p.replica.get(), &c, 1) >= 0) return 1;
                        return errno == EIO ? 0 : 2;
                      },
                      &status))
                return r;
              if (!WIFEXITED(status)) return 3;
              return WEXITSTATUS(status) == 0 ? 0 : 10 + WEXITSTATUS(status);
            }),
            0);
}

TEST(PtyJobControlTest, BackgroundWriteNeedsTostopToStop) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              int status;
              // Without TOSTOP a background write goes through.
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        return write(p.replica.get(), "b", 1) == 1 ? 0 : 1;
                      },
                      &status))
                return r;
              if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 2;
              struct termios t;
              if (tcgetattr(p.replica.get(), &t) != 0) return 3;
              t.c_lflag |= TOSTOP;
              if (tcsetattr(p.replica.get(), TCSANOW, &t) != 0) return 4;
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        (void)!write(p.replica.get(), "c", 1);
                        return 1;
                      },
                      &status))
                return r;
              if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTTOU) return 5;
              // SIGTTOU blocked: the write goes through.
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        BlockSignal(SIGTTOU);
                        return write(p.replica.get(), "d", 1) == 1 ? 0 : 1;
                      },
                      &status))
                return r;
              if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 6;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, BackgroundTermiosChangeStopsWithSigttou) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              int status;
              if (int r = InBackgroundGroup(
                      p,
                      [&] {
                        struct termios t;
                        if (tcgetattr(p.replica.get(), &t) != 0) return 2;
                        (void)!tcsetattr(p.replica.get(), TCSANOW, &t);
                        return 1;
                      },
                      &status))
                return r;
              if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTTOU) return 3;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, ForegroundGroupMoves) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              // A member of a new group becomes the foreground and reads.
              int go[2];
              if (pipe(go) != 0) return 2;
              pid_t pid = fork();
              if (pid == 0) {
                setpgid(0, 0);
                char c;
                if (read(go[0], &c, 1) != 1) _exit(3);
                char buf[8];
                _exit(read(p.replica.get(), buf, sizeof buf) == 3 ? 0 : 4);
              }
              setpgid(pid, pid);
              // Giving the terminal away from the foreground is allowed.
              if (tcsetpgrp(p.replica.get(), pid) != 0) return 5;
              if (tcgetpgrp(p.replica.get()) != pid) return 6;
              if (write(p.master.get(), "fg\n", 3) != 3) return 7;
              (void)!write(go[1], "g", 1);
              int status;
              if (waitpid(pid, &status, 0) != pid) return 8;
              if (!WIFEXITED(status)) return 9;
              if (WEXITSTATUS(status) != 0) return 10 + WEXITSTATUS(status);
              // Now the leader is in the background: its group is
              // orphaned (its parent is in another session), so a read
              // is EIO rather than a stop.
              char c;
              if (read(p.replica.get(), &c, 1) >= 0 || errno != EIO)
                return 20;
              // Taking the foreground back from the background: SIGTTOU
              // must be ignored or blocked.
              signal(SIGTTOU, SIG_IGN);
              if (tcsetpgrp(p.replica.get(), getpgrp()) != 0) return 21;
              return 0;
            }),
            0);
}

TEST(PtyJobControlTest, SetForegroundGroupErrors) {
  Pty p = OpenPty();
  EXPECT_EQ(InChild([&] {
              if (int r = BecomeSessionWith(p)) return r;
              pid_t bad = -1;
              if (ioctl(p.replica.get(), TIOCSPGRP, &bad) == 0 ||
                  errno != EINVAL)
                return 2;
              // A group of another session.
              pid_t other = getpgid(getppid());
              if (ioctl(p.replica.get(), TIOCSPGRP, &other) == 0 ||
                  errno != EPERM)
                return 3;
              Pty q = OpenPty();
              pid_t me = getpid();
              if (ioctl(q.replica.get(), TIOCSPGRP, &me) == 0 ||
                  errno != ENOTTY)
                return 4;
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace syscall_test
