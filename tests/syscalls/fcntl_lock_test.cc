// fcntl(2) POSIX record locks: F_SETLK/F_GETLK argument rules and errors,
// conflicts between processes, what F_GETLK reports, ranges split, merged,
// upgraded and downgraded, release by closing any fd of the file, fork,
// threads, exit, and files of every kind (/tmp, the root, pipes).
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "fcntl_lock_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {
namespace {

using FcntlLockTest = LockFileTest;

TEST_F(FcntlLockTest, Errors) {
  FileDescriptor rw = Open(), ro = Open(O_RDONLY), wo = Open(O_WRONLY);
  EXPECT_THAT(Lock(-1, F_SETLK, F_RDLCK, 0, 1), SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, 7, 0, 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_GETLK, F_UNLCK, 0, 1),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, 0, 1, 3),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, -1, 1),
              SyscallFailsWithErrno(EINVAL));
  // A negative length reaches back from l_start, but not before 0.
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, 5, -6),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, LLONG_MAX, LLONG_MIN),
              SyscallFailsWithErrno(EINVAL));
  // Past the largest offset: EOVERFLOW, checked before the type.
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, LLONG_MAX, 2),
              SyscallFailsWithErrno(EOVERFLOW));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, 7, LLONG_MAX, 2),
              SyscallFailsWithErrno(EOVERFLOW));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, LLONG_MAX, 1, SEEK_END),
              SyscallFailsWithErrno(EOVERFLOW));
  ASSERT_THAT(lseek(rw.get(), 100, SEEK_SET), SyscallSucceeds());
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, LLONG_MAX - 50, 1, SEEK_CUR),
              SyscallFailsWithErrno(EOVERFLOW));
  EXPECT_THAT(Lock(rw.get(), F_SETLK, F_RDLCK, -101, 1, SEEK_CUR),
              SyscallFailsWithErrno(EINVAL));
  // F_GETLK checks the type before the range.
  EXPECT_THAT(Lock(rw.get(), F_GETLK, 7, LLONG_MAX, 2),
              SyscallFailsWithErrno(EINVAL));
  // A read lock needs read access, a write lock write access; unlocking
  // and asking need neither.
  EXPECT_THAT(Lock(wo.get(), F_SETLK, F_RDLCK, 0, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Lock(ro.get(), F_SETLK, F_WRLCK, 0, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Lock(ro.get(), F_SETLK, F_UNLCK, 0, 1), SyscallSucceeds());
  EXPECT_THAT(Lock(wo.get(), F_GETLK, F_RDLCK, 0, 1), SyscallSucceeds());
  EXPECT_THAT(Lock(ro.get(), F_GETLK, F_WRLCK, 0, 1), SyscallSucceeds());
  FileDescriptor path = Open(O_PATH);
  EXPECT_THAT(Lock(path.get(), F_GETLK, F_RDLCK, 0, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Lock(path.get(), F_SETLK, F_UNLCK, 0, 1),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(fcntl(rw.get(), F_GETLK, BadAddress<struct flock>()),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(fcntl(rw.get(), F_SETLKW, BadAddress<struct flock>()),
              SyscallFailsWithErrno(EFAULT));
  // The last byte there is can be locked: it runs to the end.
  ASSERT_THAT(Lock(rw.get(), F_SETLK, F_WRLCK, LLONG_MAX, 1),
              SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(rw.get()),
            "W" + std::to_string(LLONG_MAX) + "-EOF");
}

TEST_F(FcntlLockTest, GetlkWithoutConflictOnlyChangesTheType) {
  FileDescriptor fd = Open();
  // The caller's own locks never conflict with it.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  struct flock fl = Flock(F_WRLCK, 4, 3, SEEK_CUR);
  fl.l_pid = 1234;
  ASSERT_THAT(fcntl(fd.get(), F_GETLK, &fl), SyscallSucceeds());
  EXPECT_EQ(fl.l_type, F_UNLCK);
  EXPECT_EQ(fl.l_whence, SEEK_CUR);
  EXPECT_EQ(fl.l_start, 4);
  EXPECT_EQ(fl.l_len, 3);
  EXPECT_EQ(fl.l_pid, 1234);
}

TEST_F(FcntlLockTest, ConflictsBetweenProcesses) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_RDLCK, 9, 1), EAGAIN);
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_WRLCK, 5, 0), EAGAIN);
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_WRLCK, 10, 5), 0);
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_UNLCK, 0, 0), 0);  // not theirs
  // What the child's F_GETLK reports: the lock, from SEEK_SET, and us.
  const std::string seen = ReportFromChild([&] {
    struct flock fl = Flock(F_RDLCK, -4, 2, SEEK_END);  // bytes 0 and 1
    if (fcntl(fd.get(), F_GETLK, &fl) != 0) return std::string("error");
    return std::to_string(fl.l_type) + " " + std::to_string(fl.l_whence) + " " +
           std::to_string(fl.l_start) + " " + std::to_string(fl.l_len) + " " +
           std::to_string(fl.l_pid == getppid());
  });
  EXPECT_EQ(seen, std::to_string(F_WRLCK) + " 0 0 10 1");
  // Read locks of two processes coexist; either one blocks a writer.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 0, 10), SyscallSucceeds());
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_RDLCK, 0, 10), 0);
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_WRLCK, 3, 1), EAGAIN);
  EXPECT_EQ(LocksSeenByChild(fd.get()), "R0-9");
  // Unlocked, anything goes.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 0), SyscallSucceeds());
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_WRLCK, 0, 0), 0);
  EXPECT_EQ(LocksSeenByChild(fd.get()), "");
}

TEST_F(FcntlLockTest, RangesSplitAndMerge) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 100), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 40, 20), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-39 W60-99");
  // A read lock in the middle of a write lock splits it (a downgrade).
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 10, 10), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-9 R10-19 W20-39 W60-99");
  // Adjacent and overlapping locks of one type merge; an upgrade replaces.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 10, 10), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 40, 20), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-99");
  // Reads next to each other merge too, not with writes.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 100, 10), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 110, 10), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 115, 20), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-99 R100-134");
  // One lock over all of them replaces them.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 0, 0), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "R0-EOF");
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 50, 0), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "R0-49");
}

TEST_F(FcntlLockTest, WhenceAndNegativeLengths) {
  FileDescriptor fd = Open();  // "data": 4 bytes
  ASSERT_THAT(lseek(fd.get(), 100, SEEK_SET), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, -50, 10, SEEK_CUR),
              SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0, SEEK_END),
              SyscallSucceeds());
  // The two write locks overlap: one lock. A read lock then splits it.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 30, -10), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W4-19 R20-29 W30-EOF");
  // A lock to the end covers what is appended later.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_UNLCK, 0, 0), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0, SEEK_END),
              SyscallSucceeds());
  ASSERT_THAT(pwrite(fd.get(), "more", 4, 4000), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_RDLCK, 1 << 20, 1), EAGAIN);
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_RDLCK, 0, 4), 0);
}

// Closing any fd of the file drops all of the process's locks on it,
// even one of another description, or a dup of one that stays open.
TEST_F(FcntlLockTest, CloseOfAnyFdReleases) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 20, 10), SyscallSucceeds());
  MakeFile(dir_ / "other", "");
  Open().reset();  // opened and closed: another description
  EXPECT_EQ(LocksSeenByChild(fd.get()), "");
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  OpenOrFail((dir_ / "other").c_str(), O_RDONLY).reset();  // another file
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-9");
  FileDescriptor(dup(fd.get())).reset();
  EXPECT_EQ(LocksSeenByChild(fd.get()), "");
  // dup2 over an fd of the file closes it too.
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  FileDescriptor second = Open(O_RDONLY);
  FileDescriptor null = OpenOrFail("/dev/null", O_RDONLY);
  ASSERT_THAT(dup2(null.get(), second.get()), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(fd.get()), "");
}

TEST_F(FcntlLockTest, ForkDoesNotInherit) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  const std::string child = ReportFromChild([&] {
    // Not the child's: it conflicts, and the child's unlock does nothing.
    std::string r =
        std::to_string(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 1) == 0 ? 0 : errno);
    Lock(fd.get(), F_SETLK, F_UNLCK, 0, 0);
    close(fd.get());  // nor does closing its fd
    return r;
  });
  EXPECT_EQ(child, std::to_string(EAGAIN));
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-9");
}

TEST_F(FcntlLockTest, ExitReleases) {
  FileDescriptor fd = Open();
  LockChild child([&](int up, int down) {
    if (Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0) != 0) return 1;
    LockChild::Send(up);
    LockChild::Receive(down);
    return 0;
  });
  ASSERT_EQ(child.Hear(), 'r');
  EXPECT_EQ(LocksSeenByChild(fd.get(), child.pid()), "W0-EOF");
  EXPECT_THAT(Lock(fd.get(), F_SETLK, F_RDLCK, 0, 1),
              SyscallFailsWithErrno(EAGAIN));
  child.Tell();
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0), SyscallSucceeds());
}

void* LockInThread(void* arg) {
  const int fd = *static_cast<int*>(arg);
  return reinterpret_cast<void*>(static_cast<intptr_t>(
      Lock(fd, F_SETLK, F_WRLCK, 5, 10) == 0 ? 0 : errno));
}

// The process owns its locks: its threads share them.
TEST_F(FcntlLockTest, ThreadsShareTheLocks) {
  FileDescriptor fd = Open();
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), SyscallSucceeds());
  int raw = fd.get();
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, nullptr, LockInThread, &raw), 0);
  void* ret = nullptr;
  ASSERT_EQ(pthread_join(th, &ret), 0);
  EXPECT_EQ(reinterpret_cast<intptr_t>(ret), 0);
  EXPECT_EQ(LocksSeenByChild(fd.get()), "W0-14");
}

// flock(2) and record locks do not see each other.
TEST_F(FcntlLockTest, IndependentOfFlock) {
  FileDescriptor fd = Open();
  ASSERT_THAT(flock(fd.get(), LOCK_EX), SyscallSucceeds());
  EXPECT_EQ(ErrnoInChild(fd.get(), F_SETLK, F_WRLCK, 0, 0), 0);
  ASSERT_THAT(flock(fd.get(), LOCK_UN), SyscallSucceeds());
  ASSERT_THAT(Lock(fd.get(), F_SETLK, F_WRLCK, 0, 0), SyscallSucceeds());
  const std::string r = ReportFromChild([&] {
    FileDescriptor mine = OpenOrFail(path_.c_str(), O_RDONLY);
    return std::to_string(flock(mine.get(), LOCK_EX | LOCK_NB) == 0 ? 0
                                                                    : errno);
  });
  EXPECT_EQ(r, "0");
}

// The root (the sandbox's overlay) and pipes take locks as /tmp does.
TEST_F(FcntlLockTest, OtherFiles) {
  FileDescriptor root = OpenOrFail(kRegularFile, O_RDONLY);
  ASSERT_THAT(Lock(root.get(), F_SETLK, F_RDLCK, 0, 8), SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(root.get()), "R0-7");
  EXPECT_EQ(ErrnoInChild(root.get(), F_SETLK, F_RDLCK, 0, 8), 0);
  // Another open of the same file reaches the same locks.
  FileDescriptor again = OpenOrFail(kRegularFile, O_RDONLY);
  EXPECT_EQ(LocksSeenByChild(again.get()), "R0-7");

  Pipe p = MakePipe();
  ASSERT_THAT(Lock(p.w.get(), F_SETLK, F_WRLCK, 0, 0, SEEK_CUR),
              SyscallSucceeds());
  EXPECT_EQ(LocksSeenByChild(p.r.get()), "W0-EOF");
  EXPECT_THAT(Lock(p.r.get(), F_SETLK, F_WRLCK, 0, 0),
              SyscallFailsWithErrno(EBADF));

  FileDescriptor null = OpenOrFail("/dev/null", O_RDWR);
  ASSERT_THAT(Lock(null.get(), F_SETLK, F_RDLCK, 0, 1), SyscallSucceeds());
  ASSERT_THAT(Lock(null.get(), F_SETLK, F_UNLCK, 0, 1), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
