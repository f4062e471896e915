// fcntl(2) open file description locks (F_OFD_SETLK, F_OFD_SETLKW,
// F_OFD_GETLK): owned by the description, so shared by dup and fork,
// conflicting between two opens in one process and with POSIX locks,
// released at the last close only; l_pid rules and -1 in F_GETLK.
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "fcntl_lock_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

class OfdLockTest : public LockFileTest {
 protected:
  // What a new description of the file sees (from a child process).
  std::string Seen() {
    return ReportFromChild([&] {
      FileDescriptor fresh = Open(O_RDONLY);
      return LocksFrom(fresh.get(), F_OFD_GETLK, -1);
    });
  }
};

TEST_F(OfdLockTest, Errors) {
  FileDescriptor rw = Open(), ro = Open(O_RDONLY);
  struct flock fl = Flock(F_WRLCK, 0, 1);
  fl.l_pid = 1;
  EXPECT_THAT(fcntl(rw.get(), F_OFD_SETLK, &fl), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(rw.get(), F_OFD_SETLKW, &fl),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(fcntl(rw.get(), F_OFD_GETLK, &fl), SyscallFailsWithErrno(EINVAL));
  // Access is checked before l_pid.
  EXPECT_THAT(fcntl(ro.get(), F_OFD_SETLK, &fl), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Lock(rw.get(), F_OFD_SETLK, 7, 0, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_OFD_GETLK, 7, 0, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_OFD_SETLK, F_RDLCK, 0, 1, 5),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_OFD_SETLK, F_RDLCK, 1, -2),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(OfdLockTest, OwnedByTheDescription) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  // Another description conflicts, in this process too; a dup does not.
  EXPECT_THAT(Lock(b.get(), F_OFD_SETLK, F_RDLCK, 5, 1),
              SyscallFailsWithErrno(EAGAIN));
  FileDescriptor d(dup(a.get()));
  EXPECT_THAT(Lock(d.get(), F_OFD_SETLK, F_WRLCK, 10, 5), SyscallSucceeds());
  // POSIX locks of this process conflict with them both ways.
  EXPECT_THAT(Lock(a.get(), F_SETLK, F_RDLCK, 0, 1),
              SyscallFailsWithErrno(EAGAIN));
  ASSERT_THAT(Lock(b.get(), F_SETLK, F_RDLCK, 20, 1), SyscallSucceeds());
  EXPECT_THAT(Lock(a.get(), F_OFD_SETLK, F_WRLCK, 20, 1),
              SyscallFailsWithErrno(EAGAIN));
  // F_OFD_GETLK reports l_pid -1 for an OFD lock, the pid for a POSIX one.
  struct flock fl = Flock(F_WRLCK, 0, 0);
  ASSERT_THAT(fcntl(b.get(), F_OFD_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_WRLCK);
  EXPECT_EQ(fl.l_start, 0);
  EXPECT_EQ(fl.l_len, 15);  // merged with the dup's
  EXPECT_EQ(fl.l_pid, -1);
  fl = Flock(F_WRLCK, 15, 0);
  ASSERT_THAT(fcntl(a.get(), F_OFD_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_RDLCK);
  EXPECT_EQ(fl.l_start, 20);
  EXPECT_EQ(fl.l_pid, getpid());
  // And F_GETLK sees the OFD lock as -1 as well.
  fl = Flock(F_RDLCK, 0, 1);
  ASSERT_THAT(fcntl(b.get(), F_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_WRLCK);
  EXPECT_EQ(fl.l_pid, -1);
}

// F_OFD_GETLK with F_UNLCK reports the description's own locks (Linux
// 6.x); for another description, nothing.
TEST_F(OfdLockTest, GetlkOfUnlockFindsOwnLocks) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_RDLCK, 4, 4), SyscallSucceeds());
  struct flock fl = Flock(F_UNLCK, 0, 0);
  ASSERT_THAT(fcntl(a.get(), F_OFD_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_RDLCK);
  EXPECT_EQ(fl.l_start, 4);
  EXPECT_EQ(fl.l_len, 4);
  EXPECT_EQ(fl.l_pid, -1);
  fl = Flock(F_UNLCK, 0, 0);
  ASSERT_THAT(fcntl(b.get(), F_OFD_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_UNLCK);
}

TEST_F(OfdLockTest, SharedAcrossFork) {
  FileDescriptor a = Open();
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  // The child's description is ours: its lock is the same owner's, and
  // its exit does not release anything.
  EXPECT_EQ(ErrnoInChild(a.get(), F_OFD_SETLK, F_WRLCK, 5, 10), 0);
  EXPECT_EQ(Seen(), "W0-14");
  // Nor does a POSIX close elsewhere: only the last close of it does.
  Open().reset();
  FileDescriptor(dup(a.get())).reset();
  EXPECT_EQ(Seen(), "W0-14");
  // The child may unlock it for us.
  EXPECT_EQ(ErrnoInChild(a.get(), F_OFD_SETLK, F_UNLCK, 0, 5), 0);
  EXPECT_EQ(Seen(), "W5-14");
}

TEST_F(OfdLockTest, ReleasedAtTheLastClose) {
  FileDescriptor a = Open();
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_WRLCK, 0, 0), SyscallSucceeds());
  FileDescriptor d(dup(a.get()));
  a.reset();
  EXPECT_EQ(Seen(), "W0-EOF");
  d.reset();
  EXPECT_EQ(Seen(), "");
}

struct OfdWaiter {
  int fd;
  std::atomic<pid_t> tid{0};
  std::atomic<int> result{-2};
};

void* OfdWait(void* arg) {
  auto* w = static_cast<OfdWaiter*>(arg);
  w->tid = static_cast<pid_t>(syscall(SYS_gettid));
  w->result = Lock(w->fd, F_OFD_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : errno;
  return nullptr;
}

// Two descriptions in one process: a thread waits for the other's lock.
TEST_F(OfdLockTest, SetlkwWaitsForAnotherDescription) {
  FileDescriptor a = Open(), b = Open();
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_RDLCK, 0, 0), SyscallSucceeds());
  OfdWaiter w{b.get()};
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, OfdWait, &w), 0);
  while (w.tid == 0) sched_yield();
  // Sleeping in F_OFD_SETLKW (or already done, which would be wrong).
  while (w.result == -2 && ProcState(getpid(), w.tid) != 'S') sched_yield();
  EXPECT_EQ(w.result, -2);
  ASSERT_THAT(Lock(a.get(), F_OFD_SETLK, F_UNLCK, 0, 0), SyscallSucceeds());
  ASSERT_EQ(pthread_join(th, nullptr), 0);
  EXPECT_EQ(w.result, 0);
  EXPECT_THAT(Lock(a.get(), F_OFD_SETLK, F_RDLCK, 0, 1),
              SyscallFailsWithErrno(EAGAIN));
}

}  // namespace
}  // namespace syscall_test
