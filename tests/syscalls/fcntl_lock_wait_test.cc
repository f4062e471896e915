// fcntl(2) F_SETLKW: waiting until a conflicting lock goes (unlock,
// downgrade, close), signals (EINTR, SA_RESTART), deadlock detection
// (EDEADLK) between processes; and POSIX locks kept across execve.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "fcntl_lock_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class FcntlLockWaitTest : public LockFileTest {
 protected:
  // A child that says 'r', waits in F_SETLKW for `type` on [start,
  // start+len), says 'l' once it has the lock and exits 0 when told.
  LockChild Waiter(int fd, short type, off_t start, off_t len) {
    return LockChild([=](int up, int down) {
      LockChild::Send(up);
      if (Lock(fd, F_SETLKW, type, start, len) != 0) return 1;
      LockChild::Send(up, 'l');
      LockChild::Receive(down);
      return 0;
    });
  }
};

TEST_F(FcntlLockWaitTest, WaitsForTheUnlock) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  LockChild child = Waiter(fd.get(), F_WRLCK, 5, 1);
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  // Unlocking another range wakes nobody for good.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 5), SyscallSucceeds());
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W5-9");
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 5, 5), SyscallSucceeds());
  EXPECT_EQ(child.Hear(), 'l');
  EXPECT_EQ(LocksSeenByChild(fd.get(), child.pid()), "W5-5");
  child.Tell();
  EXPECT_EQ(child.Wait(), 0);
}

TEST_F(FcntlLockWaitTest, ADowngradeLetsReadersIn) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  LockChild child = Waiter(fd.get(), F_RDLCK, 0, 10);
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 0, 10), SyscallSucceeds());
  EXPECT_EQ(child.Hear(), 'l');
  // Both hold read locks now.
  EXPECT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1),
              SyscallFailsWithErrno(EAGAIN));
  child.Tell();
  EXPECT_EQ(child.Wait(), 0);
}

TEST_F(FcntlLockWaitTest, CloseReleasesAndWakes) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0), SyscallSucceeds());
  LockChild child = Waiter(fd.get(), F_WRLCK, 0, 0);
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  fd.reset();
  EXPECT_EQ(child.Hear(), 'l');
  child.Tell();
  EXPECT_EQ(child.Wait(), 0);
}

TEST_F(FcntlLockWaitTest, SignalInterruptsTheWait) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1), SyscallSucceeds());
  LockChild child([&](int up, int) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};  // no SA_RESTART
    if (sigaction(SIGUSR1, &sa, nullptr) != 0) return 1;
    LockChild::Send(up);
    if (Lock(fd.get(), F_SETLKW, F_WRLCK, 0, 1) == 0) return 2;
    return errno == EINTR ? 0 : 3;
  });
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  ASSERT_THAT(kill(child.pid(), SIGUSR1), SyscallSucceeds());
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-0");
}

int g_handler_fd = -1;

// With SA_RESTART the wait goes on after the handler (ERESTARTSYS).
TEST_F(FcntlLockWaitTest, RestartedAfterASaRestartHandler) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1), SyscallSucceeds());
  LockChild child([&](int up, int) {
    g_handler_fd = up;
    struct sigaction sa {};
    sa.sa_handler = [](int) { LockChild::Send(g_handler_fd, 'h'); };
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGUSR1, &sa, nullptr) != 0) return 1;
    LockChild::Send(up);
    return Lock(fd.get(), F_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 2;
  });
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  ASSERT_THAT(kill(child.pid(), SIGUSR1), SyscallSucceeds());
  ASSERT_EQ(child.Hear(), 'h');
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 0), SyscallSucceeds());
  EXPECT_EQ(child.Wait(), 0);
}

// We hold A, the child holds B and waits for A: waiting for B would
// never end, so F_SETLKW says EDEADLK (F_SETLK still EAGAIN).
TEST_F(FcntlLockWaitTest, DeadlockBetweenTwoProcesses) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1), SyscallSucceeds());
  LockChild child([&](int up, int) {
    if (Lock(fd.get(), F_SETLK, F_WRLCK, 1, 1) != 0) return 1;
    LockChild::Send(up);
    return Lock(fd.get(), F_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 2;
  });
  ASSERT_EQ(child.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(child.pid()));
  EXPECT_THAT(Lock(fd.get(), F_SETLKW, F_WRLCK, 1, 1),
              SyscallFailsWithErrno(EDEADLK));
  EXPECT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 1, 1),
              SyscallFailsWithErrno(EAGAIN));
  // A range the child does not hold is no deadlock.
  EXPECT_THAT(Lock(fd.get(), F_SETLKW, F_WRLCK, 2, 1), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 1), SyscallSucceeds());
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_THAT(Lock(fd.get(), F_SETLKW, F_WRLCK, 1, 1), SyscallSucceeds());
}

// The cycle may run through other processes: we hold A; one child holds
// B and waits for A; another holds C and waits for B; we ask for C.
TEST_F(FcntlLockWaitTest, DeadlockThroughAChain) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1), SyscallSucceeds());
  auto holder = [&](off_t holds, off_t waits) {
    return LockChild([&fd, holds, waits](int up, int) {
      if (Lock(fd.get(), F_SETLK, F_WRLCK, holds, 1) != 0) return 1;
      LockChild::Send(up);
      if (Lock(fd.get(), F_SETLKW, F_WRLCK, waits, 1) != 0) return 2;
      return 0;
    });
  };
  LockChild b = holder(1, 0);
  ASSERT_EQ(b.Hear(), 'r');
  LockChild c = holder(2, 1);
  ASSERT_EQ(c.Hear(), 'r');
  ASSERT_TRUE(AwaitSleeping(b.pid()));
  ASSERT_TRUE(AwaitSleeping(c.pid()));
  EXPECT_THAT(Lock(fd.get(), F_SETLKW, F_WRLCK, 2, 1),
              SyscallFailsWithErrno(EDEADLK));
  // Unwound from A: b gets A, exits; c gets B, exits.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 1), SyscallSucceeds());
  EXPECT_EQ(b.Wait(), 0);
  EXPECT_EQ(c.Wait(), 0);
}

// A child takes a lock and execs cat(1), which echoes a byte once it
// runs; returns what we see of the locks then. With `cloexec`, the
// child also has a close-on-exec fd of the file, which exec closes.
std::string LocksAcrossExec(const std::string& path, bool cloexec) {
  if (access("/bin/cat", X_OK) != 0) return "no /bin/cat";
  FileDescriptor fd = OpenOrFail(path.c_str(), O_RDWR);
  Pipe in = MakePipe(), out = MakePipe();
  const pid_t pid = fork();
  if (pid == 0) {
    if (Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10) != 0) _exit(1);
    if (cloexec && open(path.c_str(), O_RDONLY | O_CLOEXEC) < 0) _exit(2);
    if (dup2(in.r.get(), 0) != 0 || dup2(out.w.get(), 1) != 1) _exit(3);
    close(in.r.get());
    close(in.w.get());
    close(out.r.get());
    close(out.w.get());
    execl("/bin/cat", "cat", nullptr);
    _exit(4);
  }
  in.r.reset();
  out.w.reset();
  std::string seen;
  if (write(in.w.get(), "x", 1) == 1 && ReadAll(out.r.get(), 1) == "x")
    seen = LocksSeenByChild(fd.get(), pid);
  in.w.reset();
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Gone with the process.
  EXPECT_EQ(LocksSeenByChild(fd.get()), "");
  return seen;
}

TEST_F(FcntlLockWaitTest, ExecKeepsTheLocks) {
  EXPECT_EQ(LocksAcrossExec(path_, false), "W0-9");
}

TEST_F(FcntlLockWaitTest, ExecClosingAnFdOfTheFileReleases) {
  EXPECT_EQ(LocksAcrossExec(path_, true), "");
}

}  // namespace
}  // namespace syscall_test
