// Pseudo-terminals: /dev/ptmx and devpts (posix_openpt, TIOCGPTN,
// TIOCSPTLCK, ptsname), the line discipline (canonical mode and its
// editing characters, echo, input and output processing, VMIN/VTIME),
// the ioctls (termios, window size, FIONREAD, TIOCOUTQ, TCFLSH, TIOCPKT),
// poll on both ends, and what closing either end does. Job control on a
// terminal is in pty_job_control_test.cc.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "pty_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

TEST(PtyTest, PtmxIsTheMultiplexer) {
  struct stat st;
  ASSERT_THAT(stat("/dev/ptmx", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 5u);
  EXPECT_EQ(minor(st.st_rdev), 2u);
  ASSERT_THAT(stat("/dev/pts", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(PtyTest, NewTerminalIsLockedUntilUnlockpt) {
  FileDescriptor m(posix_openpt(O_RDWR | O_NOCTTY));
  ASSERT_GE(m.get(), 0) << ErrnoName(errno);
  unsigned n = 0;
  ASSERT_THAT(ioctl(m.get(), TIOCGPTN, &n), SyscallSucceeds());
  const std::string path = "/dev/pts/" + std::to_string(n);
  EXPECT_EQ(std::string(ptsname(m.get())), path);
  int locked = 0;
  ASSERT_THAT(ioctl(m.get(), TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 1);
  EXPECT_THAT(open(path.c_str(), O_RDWR | O_NOCTTY),
              SyscallFailsWithErrno(EIO));
  ASSERT_THAT(grantpt(m.get()), SyscallSucceeds());
  ASSERT_THAT(unlockpt(m.get()), SyscallSucceeds());
  ASSERT_THAT(ioctl(m.get(), TIOCGPTLCK, &locked), SyscallSucceeds());
  EXPECT_EQ(locked, 0);
  FileDescriptor r(open(path.c_str(), O_RDWR | O_NOCTTY));
  ASSERT_GE(r.get(), 0) << ErrnoName(errno);
  struct stat st;
  ASSERT_THAT(fstat(r.get(), &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 136u);
  EXPECT_EQ(minor(st.st_rdev), n);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_TRUE(isatty(r.get()));
  EXPECT_TRUE(isatty(m.get()));
  // The replica is not a master.
  EXPECT_THAT(ioctl(r.get(), TIOCGPTN, &n), SyscallFailsWithErrno(ENOTTY));
}

TEST(PtyTest, PeerOpensTheReplica) {
  FileDescriptor m(posix_openpt(O_RDWR | O_NOCTTY));
  ASSERT_GE(m.get(), 0) << ErrnoName(errno);
  EXPECT_THAT(ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY),
              SyscallFailsWithErrno(EIO));  // still locked
  ASSERT_THAT(unlockpt(m.get()), SyscallSucceeds());
  FileDescriptor r(ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_GE(r.get(), 0) << ErrnoName(errno);
  EXPECT_EQ(fcntl(r.get(), F_GETFD), FD_CLOEXEC);
  unsigned n = 0;
  ASSERT_THAT(ioctl(m.get(), TIOCGPTN, &n), SyscallSucceeds());
  struct stat st;
  ASSERT_THAT(fstat(r.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_rdev, makedev(136, n));
  ASSERT_TRUE(WriteAll(m.get(), "p\n"));
  EXPECT_EQ(ReadReady(r.get()), "p\n");
  EXPECT_THAT(ioctl(r.get(), TIOCGPTPEER, O_RDWR),
              SyscallFailsWithErrno(EIO));
}

TEST(PtyTest, EachTerminalHasItsOwnIndexAndName) {
  Pty a = OpenPty();
  Pty b = OpenPty();
  EXPECT_NE(a.index, b.index);
  struct stat st;
  const std::string path = "/dev/pts/" + std::to_string(a.index);
  ASSERT_THAT(stat(path.c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(minor(st.st_rdev), static_cast<unsigned>(a.index));
  // The name goes with the master.
  a.master.reset();
  EXPECT_THAT(stat(path.c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST(PtyTest, CanonicalLineWithEcho) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "hello\r"));  // ICRNL
  EXPECT_EQ(ReadReady(p.replica.get()), "hello\n");
  EXPECT_EQ(ReadN(p.master.get(), 7), "hello\r\n");  // ECHO, ONLCR
}

TEST(PtyTest, CanonicalReadWaitsForTheLine) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "abc"));
  // The echo shows the bytes arrived; the line is not complete.
  EXPECT_EQ(ReadN(p.master.get(), 3), "abc");
  EXPECT_FALSE(Ready(p.replica.get(), POLLIN));
  int n = -1;
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(WriteAll(p.master.get(), "\n"));
  EXPECT_EQ(ReadReady(p.replica.get(), 2), "ab");  // a short read
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(ReadReady(p.replica.get()), "c\n");
}

TEST(PtyTest, EraseKillAndWordErase) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "abc\177\177d\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "ad\n");
  ASSERT_TRUE(WriteAll(p.master.get(), "junk\025ok\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "ok\n");
  ASSERT_TRUE(WriteAll(p.master.get(), "one two\027three\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "one three\n");
}

TEST(PtyTest, EraseEchoesBackspaceSpaceBackspace) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "ab\177\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "a\n");
  EXPECT_EQ(ReadN(p.master.get(), 7), "ab\b \b\r\n");
}

TEST(PtyTest, EraseWithoutEchoeEchoesTheCharacter) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_lflag &= ~ECHOE; });
  ASSERT_TRUE(WriteAll(p.master.get(), "ab\177\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "a\n");
  EXPECT_EQ(ReadN(p.master.get(), 6), "ab^?\r\n");
}

TEST(PtyTest, KillWithEchokEchoesNewline) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_lflag &= ~ECHOKE; });
  ASSERT_TRUE(WriteAll(p.master.get(), "xy\025z\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "z\n");
  EXPECT_EQ(ReadN(p.master.get(), 9), "xy^U\r\nz\r\n");
}

TEST(PtyTest, EofEndsALineAndAnEmptyLineReadsZero) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "xy\004"));
  EXPECT_EQ(ReadReady(p.replica.get()), "xy");
  ASSERT_TRUE(WriteAll(p.master.get(), "\004"));
  EXPECT_EQ(ReadReady(p.replica.get()), "");
}

TEST(PtyTest, EolEndsALine) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_cc[VEOL] = ';'; });
  ASSERT_TRUE(WriteAll(p.master.get(), "a;"));
  EXPECT_EQ(ReadReady(p.replica.get()), "a;");
}

TEST(PtyTest, EchoctlShowsControlCharacters) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "\001\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "\001\n");
  EXPECT_EQ(ReadN(p.master.get(), 4), "^A\r\n");
}

TEST(PtyTest, EchonlEchoesOnlyNewlines) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_lflag &= ~ECHO;
    t.c_lflag |= ECHONL;
  });
  ASSERT_TRUE(WriteAll(p.master.get(), "secret\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "secret\n");
  ASSERT_TRUE(WriteAll(p.replica.get(), "Z"));
  EXPECT_EQ(ReadN(p.master.get(), 3), "\r\nZ");
}

TEST(PtyTest, NoEchoWithoutEcho) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_lflag &= ~ECHO; });
  ASSERT_TRUE(WriteAll(p.master.get(), "pw\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "pw\n");
  // An echo would have come before the replica's own output.
  ASSERT_TRUE(WriteAll(p.replica.get(), "Z"));
  EXPECT_EQ(ReadN(p.master.get(), 1), "Z");
}

TEST(PtyTest, InputCarriageReturnAndNewlineMapping) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_lflag &= ~(ICANON | ECHO);
    t.c_iflag &= ~ICRNL;
    t.c_iflag |= INLCR;
  });
  ASSERT_TRUE(WriteAll(p.master.get(), "a\nb\r"));
  EXPECT_EQ(ReadN(p.replica.get(), 4), "a\rb\r");
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_iflag &= ~INLCR;
    t.c_iflag |= IGNCR;
  });
  ASSERT_TRUE(WriteAll(p.master.get(), "c\rd"));
  EXPECT_EQ(ReadN(p.replica.get(), 2), "cd");
}

TEST(PtyTest, OutputProcessing) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.replica.get(), "a\nb"));
  EXPECT_EQ(ReadN(p.master.get(), 4), "a\r\nb");
  ChangeTermios(p.replica.get(), [](termios& t) { t.c_oflag &= ~OPOST; });
  ASSERT_TRUE(WriteAll(p.replica.get(), "c\nd"));
  EXPECT_EQ(ReadN(p.master.get(), 3), "c\nd");
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_oflag |= OPOST | OCRNL;
    t.c_oflag &= ~ONLCR;
  });
  ASSERT_TRUE(WriteAll(p.replica.get(), "e\rf"));
  EXPECT_EQ(ReadN(p.master.get(), 3), "e\nf");
}

TEST(PtyTest, RawModeKeepsEveryByte) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { cfmakeraw(&t); });
  const std::string bytes("a\r\003\004\177\n", 6);
  ASSERT_TRUE(WriteAll(p.master.get(), bytes));
  EXPECT_EQ(ReadN(p.replica.get(), bytes.size()), bytes);
  ASSERT_TRUE(WriteAll(p.replica.get(), "x\n"));
  EXPECT_EQ(ReadN(p.master.get(), 2), "x\n");  // no echo, no ONLCR
}

TEST(PtyTest, TermiosRoundTrip) {
  Pty p = OpenPty();
  struct termios t;
  ASSERT_THAT(tcgetattr(p.replica.get(), &t), SyscallSucceeds());
  EXPECT_TRUE(t.c_lflag & ICANON);
  EXPECT_TRUE(t.c_lflag & ECHO);
  EXPECT_TRUE(t.c_lflag & ISIG);
  EXPECT_TRUE(t.c_oflag & ONLCR);
  EXPECT_EQ(t.c_cc[VINTR], 3);
  EXPECT_EQ(t.c_cc[VEOF], 4);
  t.c_cc[VINTR] = 7;
  t.c_lflag &= ~ECHO;
  ASSERT_THAT(tcsetattr(p.replica.get(), TCSAFLUSH, &t), SyscallSucceeds());
  struct termios m;
  ASSERT_THAT(tcgetattr(p.master.get(), &m), SyscallSucceeds());
  EXPECT_EQ(m.c_cc[VINTR], 7);
  EXPECT_FALSE(m.c_lflag & ECHO);
  ASSERT_THAT(tcsetattr(p.master.get(), TCSADRAIN, &t), SyscallSucceeds());
}

TEST(PtyTest, VminZeroVtimeZeroReturnsAtOnce) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_lflag &= ~ICANON;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
  });
  char c;
  EXPECT_THAT(read(p.replica.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(PtyTest, VtimeEndsAReadWithNothing) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_lflag &= ~ICANON;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 1;  // a tenth of a second
  });
  char c;
  EXPECT_THAT(read(p.replica.get(), &c, 1), SyscallSucceedsWithValue(0));
}

TEST(PtyTest, VminWaitsForThatManyBytes) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) {
    t.c_lflag &= ~(ICANON | ECHO);
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
  });
  ASSERT_TRUE(WriteAll(p.master.get(), "ab"));
  // The bytes are there (FIONREAD) but poll waits for VMIN of them.
  int n = 0;
  for (;;) {
    ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
    if (n == 2) break;
    sched_yield();  // Linux moves input to the replica in a worker
  }
  EXPECT_FALSE(Ready(p.replica.get(), POLLIN));
  ASSERT_TRUE(WriteAll(p.master.get(), "c"));
  char buf[8];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(3));
}

TEST(PtyTest, WindowSize) {
  Pty p = OpenPty();
  struct winsize ws = {};
  ASSERT_THAT(ioctl(p.replica.get(), TIOCGWINSZ, &ws), SyscallSucceeds());
  EXPECT_EQ(ws.ws_row, 0);
  EXPECT_EQ(ws.ws_col, 0);
  ws.ws_row = 24;
  ws.ws_col = 80;
  ASSERT_THAT(ioctl(p.master.get(), TIOCSWINSZ, &ws), SyscallSucceeds());
  struct winsize got = {};
  ASSERT_THAT(ioctl(p.replica.get(), TIOCGWINSZ, &got), SyscallSucceeds());
  EXPECT_EQ(got.ws_row, 24);
  EXPECT_EQ(got.ws_col, 80);
  EXPECT_THAT(ioctl(p.replica.get(), TIOCGWINSZ, BadAddress()),
              SyscallFailsWithErrno(EFAULT));
}

TEST(PtyTest, QueueSizesAndFlush) {
  Pty p = OpenPty();
  ChangeTermios(p.replica.get(), [](termios& t) { cfmakeraw(&t); });
  ASSERT_TRUE(WriteAll(p.replica.get(), "out"));
  int n = 0;
  // Linux moves the bytes to the master in a worker: wait for them.
  for (int tries = 0; tries < 100000 && n != 3; ++tries) {
    ASSERT_THAT(ioctl(p.master.get(), FIONREAD, &n), SyscallSucceeds());
    sched_yield();
  }
  EXPECT_EQ(n, 3);
  ASSERT_TRUE(WriteAll(p.master.get(), "in"));
  EXPECT_EQ(ReadN(p.replica.get(), 1), "i");
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 1);
  ASSERT_THAT(tcflush(p.replica.get(), TCIFLUSH), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.replica.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  ASSERT_THAT(tcflush(p.master.get(), TCIFLUSH), SyscallSucceeds());
  ASSERT_THAT(ioctl(p.master.get(), FIONREAD, &n), SyscallSucceeds());
  EXPECT_EQ(n, 0);
  EXPECT_THAT(ioctl(p.master.get(), TCFLSH, 7), SyscallFailsWithErrno(EINVAL));
}

TEST(PtyTest, PacketMode) {
  Pty p = OpenPty();
  int on = 1;
  ASSERT_THAT(ioctl(p.master.get(), TIOCPKT, &on), SyscallSucceeds());
  ASSERT_TRUE(WriteAll(p.replica.get(), "x"));
  EXPECT_EQ(ReadReady(p.master.get()), std::string("\0x", 2));
}

TEST(PtyTest, PollOnBothEnds) {
  Pty p = OpenPty();
  EXPECT_TRUE(Ready(p.master.get(), POLLOUT));
  EXPECT_TRUE(Ready(p.replica.get(), POLLOUT));
  EXPECT_FALSE(Ready(p.master.get(), POLLIN));
  EXPECT_FALSE(Ready(p.replica.get(), POLLIN));
  ASSERT_TRUE(WriteAll(p.replica.get(), "x"));
  EXPECT_EQ(ReadReady(p.master.get()), "x");
  ASSERT_TRUE(WriteAll(p.master.get(), "y\n"));
  EXPECT_EQ(ReadReady(p.replica.get()), "y\n");
}

TEST(PtyTest, EmptyMasterWouldBlock) {
  Pty p = OpenPty(O_NONBLOCK);
  char c;
  EXPECT_THAT(read(p.master.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
  ASSERT_EQ(fcntl(p.replica.get(), F_SETFL, O_NONBLOCK), 0);
  EXPECT_THAT(read(p.replica.get(), &c, 1), SyscallFailsWithErrno(EAGAIN));
}

void* WriteLine(void* arg) {
  const int fd = *static_cast<int*>(arg);
  (void)!write(fd, "late\n", 5);
  return nullptr;
}

TEST(PtyTest, BlockingReadWakesOnInput) {
  Pty p = OpenPty();
  int fd = p.master.get();
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, nullptr, WriteLine, &fd), 0);
  char buf[16];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(5));
  pthread_join(t, nullptr);
}

void OnAlarm(int) {}

TEST(PtyTest, BlockingReadIsInterruptedBySignal) {
  Pty p = OpenPty();
  struct sigaction sa = {}, old;
  sa.sa_handler = OnAlarm;  // no SA_RESTART
  ASSERT_THAT(sigaction(SIGALRM, &sa, &old), SyscallSucceeds());
  struct itimerval it = {};
  it.it_value.tv_usec = 20000;
  ASSERT_THAT(setitimer(ITIMER_REAL, &it, nullptr), SyscallSucceeds());
  char buf[16];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof buf),
              SyscallFailsWithErrno(EINTR));
  sigaction(SIGALRM, &old, nullptr);
}

TEST(PtyTest, ClosingTheReplicaHangsUpTheMaster) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.replica.get(), "bye"));
  p.replica.reset();
  struct pollfd pf = {p.master.get(), POLLIN, 0};
  ASSERT_THAT(poll(&pf, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pf.revents & POLLHUP);
  EXPECT_TRUE(pf.revents & POLLIN);
  EXPECT_EQ(ReadN(p.master.get(), 3), "bye");
  char c;
  EXPECT_THAT(read(p.master.get(), &c, 1), SyscallFailsWithErrno(EIO));
  // Writing is still fine: a new replica would read it.
  EXPECT_THAT(write(p.master.get(), "x", 1), SyscallSucceedsWithValue(1));
}

TEST(PtyTest, ClosingTheMasterHangsUpTheReplica) {
  Pty p = OpenPty();
  ASSERT_TRUE(WriteAll(p.master.get(), "lost\n"));
  p.master.reset();
  struct pollfd pf = {p.replica.get(), POLLIN | POLLOUT, 0};
  ASSERT_THAT(poll(&pf, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_TRUE(pf.revents & POLLHUP);
  char buf[8];
  EXPECT_THAT(read(p.replica.get(), buf, sizeof buf),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(write(p.replica.get(), "x", 1), SyscallFailsWithErrno(EIO));
  struct termios t;
  EXPECT_THAT(ioctl(p.replica.get(), TCGETS, &t), SyscallFailsWithErrno(EIO));
}

TEST(PtyTest, DevPtsListsOpenTerminals) {
  Pty p = OpenPty();
  struct stat st;
  ASSERT_THAT(stat("/dev/pts/ptmx", &st), SyscallSucceeds());
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  const std::string name = std::to_string(p.index);
  FileDescriptor dir = OpenOrFail("/dev/pts", O_RDONLY | O_DIRECTORY);
  bool found = false;
  char buf[4096];
  for (;;) {
    const long n = syscall(SYS_getdents64, dir.get(), buf, sizeof buf);
    ASSERT_GE(n, 0) << ErrnoName(errno);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      const char* name_at = buf + off + 19;
      if (name == name_at) found = true;
      uint16_t reclen;
      memcpy(&reclen, buf + off + 16, 2);
      off += reclen;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace syscall_test
