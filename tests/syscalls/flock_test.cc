// flock(2): shared and exclusive locks per open description, conversion,
// release by LOCK_UN and at the last close, fork, blocking and signals.
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include <atomic>
#include <string>

#include "splice_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class FlockTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeFile(path_, "data"); }
  FileDescriptor Open(int flags = O_RDONLY) {
    return OpenOrFail(path_.c_str(), flags);
  }

  TempDir dir_;
  std::string path_ = dir_ / "f";
};

TEST_F(FlockTest, ExclusiveExcludesOtherDescriptions) {
  FileDescriptor a = Open(), b = Open(O_WRONLY);
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  // The same description (a dup) holds it already.
  FileDescriptor dup(::dup(a.get()));
  EXPECT_THAT(flock(dup.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  ASSERT_THAT(flock(a.get(), LOCK_UN), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, SharedLocksCoexist) {
  FileDescriptor a = Open(), b = Open(), c = Open();
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(b.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(c.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  EXPECT_THAT(flock(c.get(), LOCK_UN), SyscallSucceeds());  // none held: fine
}

// A conversion drops the old lock first: a failed one leaves none.
TEST_F(FlockTest, FailedConversionLosesTheLock) {
  FileDescriptor a = Open(), b = Open(), c = Open();
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  ASSERT_THAT(flock(b.get(), LOCK_SH), SyscallSucceeds());
  EXPECT_THAT(flock(a.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  ASSERT_THAT(flock(b.get(), LOCK_UN), SyscallSucceeds());
  EXPECT_THAT(flock(c.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  // And an exclusive lock can become shared.
  EXPECT_THAT(flock(c.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(a.get(), LOCK_SH | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, ReleasedAtTheLastClose) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  FileDescriptor dup(::dup(a.get()));
  a.reset();
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  dup.reset();
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

// A lock is the file's, not the path's: a rename keeps it, and a second
// name (a hard link) reaches it.
TEST_F(FlockTest, OnTheFileNotThePath) {
  FileDescriptor a = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  ASSERT_THAT(link(path_.c_str(), (dir_ / "g").c_str()), SyscallSucceeds());
  FileDescriptor g = OpenOrFail((dir_ / "g").c_str(), O_RDONLY);
  EXPECT_THAT(flock(g.get(), LOCK_SH | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
  MakeFile(dir_ / "other", "");
  FileDescriptor other = OpenOrFail((dir_ / "other").c_str(), O_RDONLY);
  EXPECT_THAT(flock(other.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

// fork shares the description, and with it the lock.
TEST_F(FlockTest, ForkSharesTheDescription) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) {
    if (flock(a.get(), LOCK_EX | LOCK_NB) != 0) _exit(1);  // held already
    _exit(flock(a.get(), LOCK_UN) == 0 ? 0 : 2);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(flock(b.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
}

TEST_F(FlockTest, Errors) {
  FileDescriptor a = Open();
  // The operation is checked first (Linux 6.x), then the descriptor.
  EXPECT_THAT(flock(-1, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(-1, LOCK_SH), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(flock(a.get(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(a.get(), LOCK_SH | LOCK_EX), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(flock(a.get(), LOCK_NB), SyscallFailsWithErrno(EINVAL));
  FileDescriptor path = OpenOrFail(path_.c_str(), O_PATH);
  EXPECT_THAT(flock(path.get(), LOCK_SH), SyscallFailsWithErrno(EBADF));
  // Pipes take locks too.
  Pipe p = MakePipe();
  EXPECT_THAT(flock(p.r.get(), LOCK_EX | LOCK_NB), SyscallSucceeds());
  EXPECT_THAT(flock(p.w.get(), LOCK_EX | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
}

struct Waiter {
  int fd;
  std::atomic<int> result{-2};
  std::atomic<int> err{0};
};

void* FlockThread(void* arg) {
  auto* w = static_cast<Waiter*>(arg);
  int r = flock(w->fd, LOCK_EX);
  w->err = errno;
  w->result = r;
  return nullptr;
}

TEST_F(FlockTest, BlocksUntilReleased) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_SH), SyscallSucceeds());
  Waiter w{b.get()};
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, FlockThread, &w), 0);
  ASSERT_THAT(flock(a.get(), LOCK_UN), SyscallSucceeds());
  pthread_join(th, nullptr);
  EXPECT_EQ(w.result, 0);
  EXPECT_THAT(flock(a.get(), LOCK_SH | LOCK_NB), SyscallFailsWithErrno(EWOULDBLOCK));
}

TEST_F(FlockTest, SignalInterruptsAWait) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(flock(a.get(), LOCK_EX), SyscallSucceeds());
  ScopedSignalHandler handler(SIGUSR1);
  Waiter w{b.get()};
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, FlockThread, &w), 0);
  // A signal before the thread blocks only runs the handler: keep sending
  // until one finds it waiting.
  while (w.result == -2) {
    pthread_kill(th, SIGUSR1);
    sched_yield();
  }
  pthread_join(th, nullptr);
  EXPECT_EQ(w.result, -1);
  EXPECT_EQ(w.err, EINTR);
}

}  // namespace
}  // namespace syscall_test
