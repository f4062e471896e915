// SysV semaphores: semget/semop/semtimedop/semctl, atomicity, blocking,
// signals, timeouts, IPC_RMID, SEM_UNDO at exit, permissions.
#include <sched.h>
#include <signal.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipc_util.h"
#include "test_util.h"

namespace syscall_test {
namespace {

constexpr int kSemStatAny = 20;

// A set removed at the end of the test.
class SemSet {
 public:
  explicit SemSet(int n, int mode = 0600, key_t key = IPC_PRIVATE)
      : id_(semget(key, n, IPC_CREAT | IPC_EXCL | mode)) {}
  ~SemSet() {
    if (id_ >= 0) semctl(id_, 0, IPC_RMID);
  }
  int id() const { return id_; }

 private:
  int id_;
};

int Op(int id, unsigned short num, short op, short flg = 0) {
  sembuf b{num, op, flg};
  return semop(id, &b, 1);
}

// Waits (without sleeping) until `n` tasks wait on semaphore `num` for
// an increase (GETNCNT) or for zero (GETZCNT).
void AwaitWaiters(int id, int num, int cmd, int n) {
  while (semctl(id, num, cmd) != n) sched_yield();
}

TEST(SemTest, Values) {
  SemSet set(3);
  ASSERT_GE(set.id(), 0) << strerror(errno);
  unsigned short vals[3] = {9, 9, 9};
  ASSERT_THAT(semctl(set.id(), 0, GETALL, vals), SyscallSucceeds());
  EXPECT_EQ(vals[0] + vals[1] + vals[2], 0);
  ASSERT_THAT(semctl(set.id(), 1, SETVAL, 5), SyscallSucceeds());
  EXPECT_THAT(semctl(set.id(), 1, GETVAL), SyscallSucceedsWithValue(5));
  EXPECT_THAT(semctl(set.id(), 1, GETPID), SyscallSucceedsWithValue(getpid()));
  unsigned short all[3] = {1, 2, 3};
  ASSERT_THAT(semctl(set.id(), 0, SETALL, all), SyscallSucceeds());
  ASSERT_THAT(semctl(set.id(), 0, GETALL, vals), SyscallSucceeds());
  EXPECT_EQ(vals[2], 3);
  EXPECT_THAT(semctl(set.id(), 3, GETVAL), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semctl(set.id(), 0, SETVAL, 32768), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(semctl(set.id(), 0, SETVAL, -1), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(semctl(set.id(), 0, GETALL, nullptr), SyscallFailsWithErrno(EFAULT));
  semid_ds ds{};
  ASSERT_THAT(semctl(set.id(), 0, IPC_STAT, &ds), SyscallSucceeds());
  EXPECT_EQ(ds.sem_nsems, 3u);
  EXPECT_EQ(ds.sem_perm.mode & 0777, 0600);
  EXPECT_EQ(ds.sem_otime, 0);  // no semop yet
  EXPECT_NE(ds.sem_ctime, 0);
  ds.sem_perm.mode = 0640;
  ASSERT_THAT(semctl(set.id(), 0, IPC_SET, &ds), SyscallSucceeds());
  ASSERT_THAT(semctl(set.id(), 0, IPC_STAT, &ds), SyscallSucceeds());
  EXPECT_EQ(ds.sem_perm.mode & 0777, 0640);
  EXPECT_THAT(semctl(set.id(), 0, 1234), SyscallFailsWithErrno(EINVAL));
}

TEST(SemTest, Keys) {
  const key_t key = RandomKey();
  SemSet set(2, 0600, key);
  ASSERT_GE(set.id(), 0);
  EXPECT_THAT(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(semget(key, 0, 0), SyscallSucceedsWithValue(set.id()));
  EXPECT_THAT(semget(key, 2, 0), SyscallSucceedsWithValue(set.id()));
  EXPECT_THAT(semget(key, 3, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semget(RandomKey(), 1, 0600), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(semget(IPC_PRIVATE, 0, 0600), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semget(IPC_PRIVATE, -1, 0600), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(semget(IPC_PRIVATE, 1 << 30, 0600), SyscallFailsWithErrno(EINVAL));
}

TEST(SemTest, OperationsAreAtomic) {
  SemSet set(2);
  ASSERT_GE(set.id(), 0);
  ASSERT_THAT(Op(set.id(), 0, 2), SyscallSucceeds());
  ASSERT_THAT(Op(set.id(), 0, -1), SyscallSucceeds());
  EXPECT_THAT(semctl(set.id(), 0, GETVAL), SyscallSucceedsWithValue(1));
  EXPECT_THAT(Op(set.id(), 0, -2, IPC_NOWAIT), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Op(set.id(), 0, 0, IPC_NOWAIT), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Op(set.id(), 1, 0), SyscallSucceeds());  // already zero
  // All or nothing: the increment of 0 is undone by 1's failure.
  sembuf two[2] = {{0, 5, 0}, {1, -1, IPC_NOWAIT}};
  EXPECT_THAT(semop(set.id(), two, 2), SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(semctl(set.id(), 0, GETVAL), SyscallSucceedsWithValue(1));
  // Operations see the earlier ones of the same call. (glibc's semop
  // makes semtimedop(2): this is semop(2) itself.)
  sembuf seq[2] = {{1, 1, 0}, {1, -1, IPC_NOWAIT}};
  EXPECT_THAT(syscall(SYS_semop, set.id(), seq, 2), SyscallSucceeds());
  EXPECT_THAT(syscall(SYS_semop, set.id(), two, 2),
              SyscallFailsWithErrno(EAGAIN));
  EXPECT_THAT(Op(set.id(), 0, 32767), SyscallFailsWithErrno(ERANGE));
  EXPECT_THAT(Op(set.id(), 2, 1), SyscallFailsWithErrno(EFBIG));
  EXPECT_THAT(semop(set.id(), two, 0), SyscallFailsWithErrno(EINVAL));
  std::vector<sembuf> many(501, sembuf{0, 0, IPC_NOWAIT});
  EXPECT_THAT(semop(set.id(), many.data(), many.size()),
              SyscallFailsWithErrno(E2BIG));
  EXPECT_THAT(semop(set.id(), nullptr, 1), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(Op(set.id() + 1, 0, 1), SyscallFailsWithErrno(EINVAL));
  semid_ds ds{};
  ASSERT_THAT(semctl(set.id(), 0, IPC_STAT, &ds), SyscallSucceeds());
  EXPECT_NE(ds.sem_otime, 0);
}

TEST(SemTest, BlockedDecrementWakesOnPost) {
  SemSet set(1);
  ASSERT_GE(set.id(), 0);
  const int id = set.id();
  pid_t pid = fork();
  if (pid == 0) _exit(Op(id, 0, -2) == 0 ? 0 : 1);
  AwaitWaiters(id, 0, GETNCNT, 1);
  EXPECT_THAT(semctl(id, 0, GETZCNT), SyscallSucceedsWithValue(0));
  ASSERT_THAT(Op(id, 0, 1), SyscallSucceeds());  // not enough yet
  ASSERT_THAT(Op(id, 0, 1), SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallSucceedsWithValue(0));
  EXPECT_THAT(semctl(id, 0, GETPID), SyscallSucceedsWithValue(pid));
}

TEST(SemTest, WaitForZero) {
  SemSet set(1);
  ASSERT_GE(set.id(), 0);
  const int id = set.id();
  ASSERT_THAT(semctl(id, 0, SETVAL, 3), SyscallSucceeds());
  pid_t pid = fork();
  if (pid == 0) _exit(Op(id, 0, 0) == 0 ? 0 : 1);
  AwaitWaiters(id, 0, GETZCNT, 1);
  ASSERT_THAT(semctl(id, 0, SETVAL, 0), SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
}

TEST(SemTest, RemoveWakesWaitersWithEidrm) {
  int id = semget(IPC_PRIVATE, 1, 0600);
  ASSERT_GE(id, 0);
  pid_t pid = fork();
  if (pid == 0) _exit(Op(id, 0, -1) == -1 && errno == EIDRM ? 0 : 1);
  AwaitWaiters(id, 0, GETNCNT, 1);
  ASSERT_THAT(semctl(id, 0, IPC_RMID), SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallFailsWithErrno(EINVAL));
}

void OnUsr1(int) {}

TEST(SemTest, SignalInterrupts) {
  SemSet set(1);
  ASSERT_GE(set.id(), 0);
  const int id = set.id();
  pid_t pid = fork();
  if (pid == 0) {
    struct sigaction sa {};
    sa.sa_handler = OnUsr1;
    sa.sa_flags = SA_RESTART;  // semop is never restarted
    sigaction(SIGUSR1, &sa, nullptr);
    _exit(Op(id, 0, -1) == -1 && errno == EINTR ? 0 : 1);
  }
  AwaitWaiters(id, 0, GETNCNT, 1);
  ASSERT_THAT(kill(pid, SIGUSR1), SyscallSucceeds());
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EXIT_OK(status);
}

TEST(SemTest, Timeout) {
  SemSet set(1);
  ASSERT_GE(set.id(), 0);
  sembuf b{0, -1, 0};
  timespec ts{0, 10 * 1000 * 1000};
  EXPECT_THAT(semtimedop(set.id(), &b, 1, &ts), SyscallFailsWithErrno(EAGAIN));
  timespec bad{0, 1000000000};
  EXPECT_THAT(semtimedop(set.id(), &b, 1, &bad), SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(semctl(set.id(), 0, SETVAL, 1), SyscallSucceeds());
  EXPECT_THAT(semtimedop(set.id(), &b, 1, &ts), SyscallSucceeds());
}

TEST(SemTest, UndoAtExit) {
  SemSet set(2);
  ASSERT_GE(set.id(), 0);
  const int id = set.id();
  ASSERT_THAT(semctl(id, 1, SETVAL, 5), SyscallSucceeds());
  int status = InChild([&] {
    if (Op(id, 0, 2, SEM_UNDO) != 0) return 1;
    if (Op(id, 1, -3, SEM_UNDO) != 0) return 2;
    if (Op(id, 1, 1) != 0) return 3;  // not undone
    return semctl(id, 0, GETVAL) == 2 ? 0 : 4;
  });
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallSucceedsWithValue(0));
  EXPECT_THAT(semctl(id, 1, GETVAL), SyscallSucceedsWithValue(6));
  // An undo that would go below zero stops at zero.
  status = InChild([&] {
    if (Op(id, 0, 1, SEM_UNDO) != 0) return 1;
    return Op(id, 0, -1) == 0 ? 0 : 2;
  });
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallSucceedsWithValue(0));
  // SETVAL forgets the adjustments.
  status = InChild([&] {
    if (Op(id, 0, 4, SEM_UNDO) != 0) return 1;
    return semctl(id, 0, SETVAL, 1) == 0 ? 0 : 2;
  });
  EXPECT_EXIT_OK(status);
  EXPECT_THAT(semctl(id, 0, GETVAL), SyscallSucceedsWithValue(1));
}

TEST(SemTest, Permissions) {
  SemSet none(1, 0);
  SemSet readable(1, 0444);
  ASSERT_GE(none.id(), 0);
  ASSERT_GE(readable.id(), 0);
  const int n = none.id(), r = readable.id();
  int status = AsNobody([&] {
    if (semctl(n, 0, GETVAL) != -1 || errno != EACCES) return 1;
    if (Op(n, 0, 0, IPC_NOWAIT) != -1 || errno != EACCES) return 2;
    semid_ds ds;
    if (semctl(n, 0, IPC_STAT, &ds) != -1 || errno != EACCES) return 3;
    if (semctl(n % 32768, 0, kSemStatAny, &ds) != n) return 4;
    if (semctl(r, 0, GETVAL) != 0) return 5;
    if (Op(r, 0, 0, IPC_NOWAIT) != 0) return 6;  // reading is enough
    if (Op(r, 0, 1) != -1 || errno != EACCES) return 7;
    if (semctl(r, 0, SETVAL, 1) != -1 || errno != EACCES) return 8;
    return 0;
  });
  EXPECT_EXIT_OK(status);
  if (geteuid() == 0) {
    status = AsNobody([&] {
      return semctl(r, 0, IPC_RMID) == -1 && errno == EPERM ? 0 : 1;
    });
    EXPECT_EXIT_OK(status);
  }
}

TEST(SemTest, Info) {
  SemSet set(4);
  ASSERT_GE(set.id(), 0);
  seminfo info{};
  int max = semctl(0, 0, IPC_INFO, &info);
  ASSERT_GE(max, 0);
  EXPECT_GE(info.semmsl, 250);
  EXPECT_GE(info.semopm, 32);
  EXPECT_EQ(info.semvmx, 32767);
  ASSERT_GE(semctl(0, 0, SEM_INFO, &info), 0);
  EXPECT_GE(info.semusz, 1);  // sets in use
  EXPECT_GE(info.semaem, 4);  // semaphores in use
  bool found = false;
  for (int i = 0; i <= max; i++) {
    semid_ds ds;
    if (semctl(i, 0, SEM_STAT, &ds) == set.id()) {
      found = true;
      EXPECT_EQ(ds.sem_nsems, 4u);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace syscall_test
