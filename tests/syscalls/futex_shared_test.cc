// futex(2) across processes: shared futexes in MAP_SHARED memory match in
// a forked child; private futexes, and shared futexes in private memory,
// do not.
#include <signal.h>
#include <sys/wait.h>

#include "futex_util.h"
#include "test_util.h"

namespace futex_test {
namespace {

using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

// A forked child whose thread waits on `word` (private or shared futex).
// The child reports once its waiter is queued, then waits for the parent's
// go-ahead, wakes the waiter itself if it is still there, and exits 0 if
// the wait returned 0.
class ChildWaiter {
 public:
  ChildWaiter(Word* word, bool is_private) {
    int ready[2], go[2];
    if (pipe(ready) != 0 || pipe(go) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      WaiterThread waiter(word, word->load(), is_private);
      AwaitWaiters(word, 1, is_private);
      char c = 0;
      if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1) _exit(2);
      Futex(word, FUTEX_WAKE | Private(is_private), INT_MAX);
      _exit(waiter.Join() == 0 ? 0 : 1);
    }
    ready_ = ready[0];
    go_ = go[1];
    close(ready[1]);
    close(go[0]);
  }
  ~ChildWaiter() {
    close(ready_);
    close(go_);
  }
  bool started() const { return pid_ > 0; }
  // Returns once the child's waiter is queued.
  bool AwaitQueued() {
    char c;
    return read(ready_, &c, 1) == 1;
  }
  // Lets the child finish; returns its wait status.
  int Finish() {
    char c = 0;
    EXPECT_THAT(write(go_, &c, 1), SyscallSucceedsWithValue(1));
    int status = -1;
    EXPECT_THAT(waitpid(pid_, &status, 0), SyscallSucceedsWithValue(pid_));
    return status;
  }

 private:
  pid_t pid_ = -1;
  int ready_ = -1, go_ = -1;
};

TEST(FutexSharedTest, SharedFutexInSharedMemoryMatchesAcrossFork) {
  SharedPage page;
  ASSERT_TRUE(page.ok());
  Word* word = new (page.At<void>(64)) Word(0);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    // Queued in the child, woken by the parent.
    WaiterThread waiter(word, 0, false);
    AwaitWaiters(word, 1, false);
    word->store(1);  // tells the parent the waiter is queued
    _exit(waiter.Join() == 0 ? 0 : 1);
  }
  while (word->load() != 1) sched_yield();
  long woken = Futex(word, FUTEX_WAKE, INT_MAX);
  EXPECT_EQ(woken, 1);
  if (woken != 1) kill(pid, SIGKILL);  // its waiter would wait forever
  int status = -1;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(FutexSharedTest, ChildWakesParentThroughSharedMemory) {
  SharedPage page;
  ASSERT_TRUE(page.ok());
  Word* word = new (page.At<void>(128)) Word(0);
  WaiterThread waiter(word, 0, false);
  AwaitWaiters(word, 1, false);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) _exit(Futex(word, FUTEX_WAKE, 1) == 1 ? 0 : 1);
  int status = -1;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    Futex(word, FUTEX_WAKE, 1);
  EXPECT_EQ(waiter.Join(), 0);
}

TEST(FutexSharedTest, PrivateFutexInSharedMemoryDoesNotMatchAcrossFork) {
  SharedPage page;
  ASSERT_TRUE(page.ok());
  Word* word = new (page.At<void>(0)) Word(0);
  ChildWaiter child(word, /*is_private=*/true);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(child.AwaitQueued());
  EXPECT_EQ(Waiters(word, true), 0);
  EXPECT_THAT(Futex(word, FUTEX_WAKE_PRIVATE, INT_MAX),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(Futex(word, FUTEX_WAKE, INT_MAX), SyscallSucceedsWithValue(0));
  const int status = child.Finish();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Private memory is the child's own after fork (copy-on-write on Linux):
// even a shared futex there is named by its address space.
TEST(FutexSharedTest, SharedFutexInPrivateMemoryDoesNotMatchAcrossFork) {
  static Word word{0};
  ChildWaiter child(&word, /*is_private=*/false);
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(child.AwaitQueued());
  EXPECT_EQ(Waiters(&word, false), 0);
  EXPECT_THAT(Futex(&word, FUTEX_WAKE, INT_MAX), SyscallSucceedsWithValue(0));
  const int status = child.Finish();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace futex_test
