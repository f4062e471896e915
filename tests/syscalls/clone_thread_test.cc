// Threads: raw CLONE_THREAD (ids, not waitable, CLEARTID, a thread's or the
// leader's exit), and pthreads (many at once, raw exit, getppid).
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "clone_util.h"
#include "test_util.h"

namespace clone_test {
namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

// What glibc's pthread_create asks for (with CLONE_SETTLS), and the tid
// word kept by the kernel: set at clone, cleared and woken at exit.
constexpr unsigned long kThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;

struct Ids {
  std::atomic<long> pid{0}, tid{0}, ppid{0};
};

CHILD_FN int RecordIds(void* arg, uintptr_t) {
  auto* ids = static_cast<Ids*>(arg);
  ids->pid = Sys(SYS_getpid);
  ids->tid = Sys(SYS_gettid);
  ids->ppid = Sys(SYS_getppid);
  return 0;
}

TEST(ThreadTest, SharesThePidHasItsOwnTid) {
  Stack stack;
  Ids ids;
  std::atomic<int> tid{-1};
  long r = Clone(kThreadFlags, stack.top(), RecordIds, &ids, Int(&tid),
                 Int(&tid));
  ASSERT_THAT(r, SyscallSucceeds());
  AwaitTidClear(&tid);
  EXPECT_EQ(ids.pid.load(), getpid());
  EXPECT_EQ(ids.tid.load(), r);
  EXPECT_NE(r, getpid());
  EXPECT_EQ(ids.ppid.load(), getppid());
}

TEST(ThreadTest, IsNotWaitable) {
  Stack stack;
  std::atomic<int> go{0}, tid{-1};
  long r = Clone(kThreadFlags, stack.top(), WaitForGo, &go, Int(&tid),
                 Int(&tid));
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_THAT(waitpid(r, nullptr, __WALL | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  EXPECT_THAT(waitpid(-1, nullptr, __WALL | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  siginfo_t si;
  EXPECT_THAT(waitid(P_PID, r, &si, WEXITED | __WALL | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
  Go(&go);
  AwaitTidClear(&tid);
  EXPECT_THAT(waitpid(r, nullptr, __WALL | WNOHANG),
              SyscallFailsWithErrno(ECHILD));
}

// Exits once a task waits on the CLEARTID word `arg` (counted without
// waking anyone: a CMP_REQUEUE of all its waiters onto itself).
CHILD_FN int ExitWhenWaitedFor(void* arg, uintptr_t) {
  auto* word = static_cast<std::atomic<int>*>(arg);
  const long addr = reinterpret_cast<long>(word);
  while (Sys(SYS_futex, addr, FUTEX_CMP_REQUEUE, 0, INT_MAX, addr,
             word->load()) < 1)
    Sys(SYS_sched_yield);
  return 0;
}

TEST(ThreadTest, CleartidIsZeroedAndWokenAtExit) {
  Stack stack;
  std::atomic<int> tid{-1};
  long r = Clone(kThreadFlags, stack.top(), ExitWhenWaitedFor, &tid,
                 Int(&tid), Int(&tid));
  ASSERT_THAT(r, SyscallSucceeds());
  EXPECT_EQ(tid.load(), r);  // CLONE_PARENT_SETTID, before clone returned
  // The thread exits only once we sleep here: only its wake ends this.
  EXPECT_THAT(syscall(SYS_futex, &tid, FUTEX_WAIT, r, nullptr),
              SyscallSucceedsWithValue(0));
  EXPECT_EQ(tid.load(), 0);
}

int Exit9(void*, uintptr_t) { return 9; }

TEST(ThreadTest, ExitOfAThreadDoesNotEndTheProcess) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    const pid_t self = getpid();
    Stack stack;
    std::atomic<int> tid{-1};
    if (Clone(kThreadFlags, stack.top(), Exit9, nullptr, Int(&tid),
              Int(&tid)) < 0)
      _exit(1);
    AwaitTidClear(&tid);
    _exit(getpid() == self ? 0 : 2);
  }
  EXPECT_EQ(ExitCode(pid), 0);
}

std::atomic<int> g_leader_tid;

// Waits for the leader to be gone, then ends the process: 5 if it still
// has its pid.
CHILD_FN int AfterTheLeader(void* arg, uintptr_t) {
  AwaitTidClear(&g_leader_tid);
  Sys(SYS_exit_group,
      Sys(SYS_getpid) == reinterpret_cast<intptr_t>(arg) ? 5 : 6);
  return 7;
}

TEST(ThreadTest, ExitOfTheLeaderDoesNotEndTheProcess) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    const pid_t self = getpid();
    g_leader_tid = self;
    syscall(SYS_set_tid_address, &g_leader_tid);
    Stack stack;  // never unmapped: the process ends in exit_group
    if (Clone(kThreadFlags & ~(CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID),
              stack.top(), AfterTheLeader,
              reinterpret_cast<void*>(static_cast<intptr_t>(self))) < 0)
      _exit(1);
    Sys(SYS_exit, 0);
  }
  EXPECT_EQ(ExitCode(pid), 5);
}

// Waits for the leader to be gone, then ends only this thread, with 9.
CHILD_FN int ExitNineAfterTheLeader(void*, uintptr_t) {
  AwaitTidClear(&g_leader_tid);
  Sys(SYS_exit, 9);
  return 7;
}

CHILD_FN int ExitNine(void*, uintptr_t) { return 9; }

// Every thread ends with exit(2): Linux (since 5.19's
// synchronize_group_exit) reports the code of the thread that exited
// last, the leader or not.
TEST(ThreadTest, StatusIsTheCodeOfTheLastThreadToExit) {
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {  // the leader first
    g_leader_tid = getpid();
    syscall(SYS_set_tid_address, &g_leader_tid);
    Stack stack;  // never unmapped: the process ends with the thread
    if (Clone(kThreadFlags & ~(CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID),
              stack.top(), ExitNineAfterTheLeader) < 0)
      _exit(1);
    Sys(SYS_exit, 5);
  }
  EXPECT_EQ(ExitCode(pid), 9);
  pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {  // the other thread first
    Stack stack;
    std::atomic<int> tid{-1};
    if (Clone(kThreadFlags, stack.top(), ExitNine, nullptr, Int(&tid),
              Int(&tid)) < 0)
      _exit(1);
    AwaitTidClear(&tid);
    Sys(SYS_exit, 5);
  }
  EXPECT_EQ(ExitCode(pid), 5);
}

// Threads made by pthread_create (glibc 2.36: clone3 with CLONE_SETTLS).
pthread_t Start(void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t t{};
  EXPECT_EQ(pthread_create(&t, &attr, fn, arg), 0);
  pthread_attr_destroy(&attr);
  return t;
}

struct Counter {
  std::atomic<int> count{0};
  std::atomic<int> go{0};
};
struct Seen {
  Counter* counter;
  pid_t pid = 0, tid = 0;
};
constexpr int kIncrements = 1000;

void* Increment(void* arg) {
  auto* seen = static_cast<Seen*>(arg);
  seen->pid = getpid();
  seen->tid = gettid();
  // All start before any finishes: 64 threads live at once.
  WaitForGo(&seen->counter->go, 0);
  for (int i = 0; i < kIncrements; i++) seen->counter->count.fetch_add(1);
  return nullptr;
}

TEST(ThreadTest, SixtyFourPthreadsShareACounter) {
  constexpr int kThreads = 64;
  Counter counter;
  std::vector<Seen> seen(kThreads, Seen{&counter});
  std::vector<pthread_t> threads;
  for (auto& s : seen) threads.push_back(Start(Increment, &s));
  counter.go = 1;
  syscall(SYS_futex, &counter.go, FUTEX_WAKE, INT_MAX);
  for (pthread_t t : threads) EXPECT_EQ(pthread_join(t, nullptr), 0);
  EXPECT_EQ(counter.count.load(), kThreads * kIncrements);
  std::set<pid_t> tids = {getpid()};
  for (const auto& s : seen) {
    EXPECT_EQ(s.pid, getpid());
    tids.insert(s.tid);
  }
  EXPECT_EQ(tids.size(), kThreads + 1u);
}

void* RawExit(void*) {
  syscall(SYS_exit, 0);
  return nullptr;
}

void* WaitThenAnswer(void* arg) {
  WaitForGo(arg, 0);
  return reinterpret_cast<void*>(42);
}

TEST(ThreadTest, RawExitOfOneThreadLeavesTheOthersRunning) {
  std::atomic<int> go{0};
  pthread_t worker = Start(WaitThenAnswer, &go);
  pthread_t quitter = Start(RawExit, nullptr);
  // The kernel cleared the quitter's tid word: pthread_join sees it gone.
  EXPECT_EQ(pthread_join(quitter, nullptr), 0);
  Go(&go);
  void* answer = nullptr;
  EXPECT_EQ(pthread_join(worker, &answer), 0);
  EXPECT_EQ(answer, reinterpret_cast<void*>(42));
}

void* Getppid(void* arg) {
  *static_cast<pid_t*>(arg) = getppid();
  return nullptr;
}

TEST(ThreadTest, GetppidFromAThreadIsTheProcessParent) {
  const pid_t self = getpid();
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    pid_t seen = 0;
    pthread_t t{};
    if (pthread_create(&t, nullptr, Getppid, &seen) != 0) _exit(1);
    pthread_join(t, nullptr);
    _exit(seen == self && getppid() == self ? 0 : 2);
  }
  EXPECT_EQ(ExitCode(pid), 0);
}

}  // namespace
}  // namespace clone_test
