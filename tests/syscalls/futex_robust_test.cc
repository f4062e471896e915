// Robust futex lists (set_robust_list(2)) walked at thread exit and execve,
// pthread robust mutexes (EOWNERDEAD within and across processes), and
// the CLONE_CHILD_CLEARTID wakeup of set_tid_address(2).
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstddef>
#include <vector>

#include "futex_util.h"
#include "test_util.h"

namespace futex_test {
namespace {

using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

// A robust list entry: the link, then the futex word (futex_offset 8).
struct Entry {
  Entry* next;
  Word word;
};
constexpr long kOffset = offsetof(Entry, word) - offsetof(Entry, next);

// Runs `body(tid)` on a new thread that then registers `head` as its robust
// list and ends with a raw exit(2), so that only the kernel sees the list.
// Returns once the thread is gone (pthread_join: CLONE_CHILD_CLEARTID).
template <class F>
void RunAndExitWithList(robust_list_head* head, F body) {
  std::thread t([&] {
    body(static_cast<uint32_t>(gettid()));
    syscall(SYS_set_robust_list, head, sizeof(*head));
    syscall(SYS_exit, 0);
  });
  t.join();
}

void Link(robust_list_head* head, std::vector<Entry*> entries) {
  head->list.next = reinterpret_cast<robust_list*>(head);
  head->futex_offset = kOffset;
  head->list_op_pending = nullptr;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    (*it)->next = reinterpret_cast<Entry*>(head->list.next);
    head->list.next = reinterpret_cast<robust_list*>(*it);
  }
}

TEST(FutexRobustTest, OwnedEntriesGetOwnerDiedAndWakeAWaiter) {
  Entry owned{}, contended{}, foreign{}, free_entry{}, pending{};
  robust_list_head head;
  Link(&head, {&owned, &contended, &foreign, &free_entry});
  head.list_op_pending = reinterpret_cast<robust_list*>(&pending);
  std::unique_ptr<WaiterThread> waiter;
  RunAndExitWithList(&head, [&](uint32_t tid) {
    owned.word = tid;
    contended.word = tid | FUTEX_WAITERS;
    foreign.word = (tid + 1) & FUTEX_TID_MASK;
    free_entry.word = 0;
    pending.word = tid;
    // Robust futexes are woken as shared futexes.
    waiter = std::make_unique<WaiterThread>(&contended.word,
                                            contended.word.load(), false);
    AwaitWaiters(&contended.word, 1, false);
  });
  EXPECT_EQ(owned.word.load(), uint32_t{FUTEX_OWNER_DIED});
  EXPECT_EQ(contended.word.load(), FUTEX_OWNER_DIED | FUTEX_WAITERS);
  EXPECT_NE(foreign.word.load() & FUTEX_TID_MASK, 0u);
  EXPECT_EQ(foreign.word.load() & FUTEX_OWNER_DIED, 0u);
  EXPECT_EQ(free_entry.word.load(), 0u);
  EXPECT_EQ(pending.word.load(), uint32_t{FUTEX_OWNER_DIED});
  EXPECT_EQ(waiter->Join(), 0);  // only the exit could wake it
}

TEST(FutexRobustTest, UnownedPendingEntryIsOnlyWoken) {
  Entry pending{};
  robust_list_head head;
  Link(&head, {});
  head.list_op_pending = reinterpret_cast<robust_list*>(&pending);
  std::unique_ptr<WaiterThread> waiter;
  RunAndExitWithList(&head, [&](uint32_t) {
    waiter = std::make_unique<WaiterThread>(&pending.word, 0, false);
    AwaitWaiters(&pending.word, 1, false);
  });
  EXPECT_EQ(pending.word.load(), 0u);
  EXPECT_EQ(waiter->Join(), 0);
}

TEST(FutexRobustTest, CyclicListEnds) {
  Entry e{};
  robust_list_head head;
  Link(&head, {&e});
  e.next = &e;  // a cycle that never returns to the head
  RunAndExitWithList(&head, [&](uint32_t tid) { e.word = tid; });
  EXPECT_EQ(e.word.load(), uint32_t{FUTEX_OWNER_DIED});
}

TEST(FutexRobustTest, AtMostRobustListLimitEntries) {
  std::vector<Entry> entries(ROBUST_LIST_LIMIT + 2);
  std::vector<Entry*> order;
  for (Entry& e : entries) order.push_back(&e);
  robust_list_head head;
  Link(&head, order);
  RunAndExitWithList(&head, [&](uint32_t tid) {
    for (Entry& e : entries) e.word = tid;
  });
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool handled = i < ROBUST_LIST_LIMIT;
    EXPECT_EQ((entries[i].word.load() & FUTEX_OWNER_DIED) != 0, handled) << i;
  }
}

TEST(FutexRobustTest, MisalignedWordStopsTheWalk) {
  // An entry at an address 2 mod 4 puts its word off alignment.
  alignas(8) char buf[sizeof(Entry) + 8] = {};
  auto* odd = reinterpret_cast<Entry*>(buf + 2);
  Entry after{}, pending{};
  robust_list_head head;
  Link(&head, {odd, &after});
  head.list_op_pending = reinterpret_cast<robust_list*>(&pending);
  RunAndExitWithList(&head, [&](uint32_t tid) {
    after.word = tid;
    pending.word = tid;
  });
  EXPECT_EQ(after.word.load() & FUTEX_OWNER_DIED, 0u);
  EXPECT_EQ(pending.word.load() & FUTEX_OWNER_DIED, 0u);
}

TEST(FutexRobustTest, ExecReleasesTheList) {
  if (access("/bin/true", X_OK) != 0) GTEST_SKIP() << "no /bin/true";
  SharedPage page;
  ASSERT_TRUE(page.ok());
  Entry* e = new (page.At<void>(0)) Entry{};
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    static robust_list_head head;
    Link(&head, {e});
    e->word = static_cast<uint32_t>(getpid());
    syscall(SYS_set_robust_list, &head, sizeof(head));
    // The new program registers a list of its own: only exec can release
    // this one.
    execl("/bin/true", "true", nullptr);
    _exit(127);
  }
  int status = -1;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(e->word.load(), uint32_t{FUTEX_OWNER_DIED});
}

// A robust mutex; pshared ones can live in shared memory.
void InitRobust(pthread_mutex_t* m, bool pshared) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (pshared) pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
}

// The owner ends once the next locker waits (FUTEX_WAITERS is set just
// before it sleeps): the death has to wake it, or it sees OWNER_DIED.
void AwaitContention(pthread_mutex_t* m) {
  auto* word = reinterpret_cast<Word*>(&m->__data.__lock);
  while (!(word->load() & FUTEX_WAITERS)) sched_yield();
}

void ExpectOwnerDead(pthread_mutex_t* m) {
  EXPECT_EQ(pthread_mutex_lock(m), EOWNERDEAD);
  EXPECT_EQ(pthread_mutex_consistent(m), 0);
  EXPECT_EQ(pthread_mutex_unlock(m), 0);
  EXPECT_EQ(pthread_mutex_lock(m), 0);
  EXPECT_EQ(pthread_mutex_unlock(m), 0);
}

TEST(FutexRobustTest, MutexOfAnExitedThreadIsOwnerDead) {
  pthread_mutex_t m;
  InitRobust(&m, false);
  std::atomic<bool> locked{false};
  std::thread owner([&] {
    pthread_mutex_lock(&m);
    locked = true;
    AwaitContention(&m);
    syscall(SYS_exit, 0);  // no unlock, no help from libc
  });
  while (!locked) sched_yield();
  ExpectOwnerDead(&m);
  owner.join();
}

TEST(FutexRobustTest, MutexOfAnExitedProcessIsOwnerDead) {
  SharedPage page;
  ASSERT_TRUE(page.ok());
  auto* m = page.At<pthread_mutex_t>(0);
  auto* locked = new (page.At<void>(256)) Word(0);
  InitRobust(m, true);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    pthread_mutex_lock(m);
    *locked = 1;
    AwaitContention(m);
    _exit(0);
  }
  while (*locked == 0) sched_yield();
  ExpectOwnerDead(m);
  int status = -1;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
}

TEST(FutexRobustTest, MutexOfAKilledProcessIsOwnerDead) {
  SharedPage page;
  ASSERT_TRUE(page.ok());
  auto* m = page.At<pthread_mutex_t>(0);
  auto* locked = new (page.At<void>(256)) Word(0);
  InitRobust(m, true);
  pid_t pid = fork();
  ASSERT_THAT(pid, SyscallSucceeds());
  if (pid == 0) {
    pthread_mutex_lock(m);
    *locked = 1;
    for (;;) pause();
  }
  while (*locked == 0) sched_yield();
  ASSERT_THAT(kill(pid, SIGKILL), SyscallSucceeds());
  int status = -1;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  ExpectOwnerDead(m);
}

// CLONE_CHILD_CLEARTID (pthread's, or set_tid_address's): at exit the tid
// word is zeroed and one shared-futex waiter woken.
TEST(FutexRobustTest, ClearChildTidWakesAWaiter) {
  static Word tid_word{0};
  std::atomic<bool> registered{false};
  std::thread t([&] {
    tid_word = static_cast<uint32_t>(gettid());
    syscall(SYS_set_tid_address, &tid_word);
    registered = true;
    // The waiter must be queued before we go.
    while (Waiters(&tid_word, false) < 1) sched_yield();
    syscall(SYS_exit, 0);
  });
  // pthread_join would wait for a word the kernel no longer clears.
  t.detach();
  while (!registered) sched_yield();
  const uint32_t tid = tid_word.load();
  EXPECT_THAT(Futex(&tid_word, FUTEX_WAIT, tid), SyscallSucceedsWithValue(0));
  EXPECT_EQ(tid_word.load(), 0u);
}

}  // namespace
}  // namespace futex_test
