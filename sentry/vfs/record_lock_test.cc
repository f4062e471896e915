// RecordLockTable: conflicts, split/merge of one owner's ranges, F_GETLK's
// order, deadlock detection between waiters, releases, the ENOLCK cap.
#include "sentry/vfs/record_lock.h"

#include <fcntl.h>

#include <string>

#include "gtest/gtest.h"

namespace vfs {
namespace {

using Key = RecordLockTable::Key;

constexpr Key kFile{1, 2};
constexpr Key kOther{1, 3};
constexpr int64_t kMax = kLockOffsetMax;

class RecordLockTest : public ::testing::Test {
 protected:
  // Owners: addresses of these, as the sentry uses fd tables and
  // descriptions.
  int a_ = 0, b_ = 0, c_ = 0;
  LockOwner A{&a_, false, 10}, B{&b_, false, 20}, C{&c_, false, 30};
  RecordLockTable table_;  // not the sentry's: a fresh one per test

  ~RecordLockTest() override {
    for (const LockOwner* o : {&A, &B, &C}) table_.ReleaseOwner(o->id);
  }

  base::Result<void> Set(const LockOwner& o, short type, int64_t start,
                         int64_t end, Key key = kFile,
                         const void* waiter = nullptr) {
    return table_.TrySet(key, o, LockRange{type, start, end}, waiter);
  }
  // What `o` finds of the others' locks from 0 on: "W0-9/10 R20-EOF/20".
  std::string Seen(const LockOwner& o, Key key = kFile) {
    std::string out;
    int64_t from = 0;
    for (;;) {
      auto h = table_.Test(key, o, LockRange{F_WRLCK, from, kMax});
      if (!h) return out;
      if (!out.empty()) out += " ";
      out += (h->range.type == F_RDLCK ? "R" : "W") +
             std::to_string(h->range.start) + "-" +
             (h->range.end == kMax ? "EOF" : std::to_string(h->range.end)) +
             "/" + std::to_string(h->pid);
      if (h->range.end == kMax) return out;
      from = h->range.end + 1;
    }
  }
};

TEST_F(RecordLockTest, ConflictsOnlyBetweenOwners) {
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 9));
  EXPECT_TRUE(Set(A, F_RDLCK, 5, 5));  // its own: no conflict
  EXPECT_EQ(Set(B, F_RDLCK, 9, 20).error().value, EAGAIN);
  EXPECT_TRUE(Set(B, F_RDLCK, 5, 5));  // A's is a read lock there now
  EXPECT_EQ(Set(C, F_WRLCK, 5, 5).error().value, EAGAIN);
  EXPECT_TRUE(Set(C, F_WRLCK, 10, kMax));
  EXPECT_TRUE(Set(C, F_WRLCK, 0, 0, kOther));  // another file
  EXPECT_EQ(Seen(C), "W0-4/10 R5-5/10 W6-9/10");
  EXPECT_EQ(Seen(A), "R5-5/20 W10-EOF/30");
}

TEST_F(RecordLockTest, SplitMergeUpgradeDowngrade) {
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 99));
  ASSERT_TRUE(Set(A, F_UNLCK, 40, 59));
  EXPECT_EQ(Seen(B), "W0-39/10 W60-99/10");
  ASSERT_TRUE(Set(A, F_RDLCK, 30, 69));
  EXPECT_EQ(Seen(B), "W0-29/10 R30-69/10 W70-99/10");
  ASSERT_TRUE(Set(A, F_WRLCK, 30, 69));
  EXPECT_EQ(Seen(B), "W0-99/10");
  ASSERT_TRUE(Set(A, F_RDLCK, 100, 109));
  ASSERT_TRUE(Set(A, F_RDLCK, 120, 129));
  ASSERT_TRUE(Set(A, F_RDLCK, 110, 119));  // fills the gap: one lock
  EXPECT_EQ(Seen(B), "W0-99/10 R100-129/10");
  ASSERT_TRUE(Set(A, F_UNLCK, 0, kMax));
  EXPECT_EQ(Seen(B), "");
  // Ranges at the very end.
  ASSERT_TRUE(Set(A, F_WRLCK, kMax, kMax));
  ASSERT_TRUE(Set(A, F_WRLCK, kMax - 1, kMax - 1));
  EXPECT_EQ(Seen(B), "W" + std::to_string(kMax - 1) + "-EOF/10");
  ASSERT_TRUE(Set(A, F_UNLCK, kMax, kMax));
  EXPECT_EQ(Seen(B), "W" + std::to_string(kMax - 1) + "-" +
                         std::to_string(kMax - 1) + "/10");
}

// F_GETLK answers with the first conflicting lock in Linux's order: each
// owner's locks together, owners in the order of their first lock.
TEST_F(RecordLockTest, TestReportsInOwnerOrder) {
  ASSERT_TRUE(Set(B, F_RDLCK, 50, 59));
  ASSERT_TRUE(Set(A, F_RDLCK, 0, 9));
  auto h = table_.Test(kFile, C, LockRange{F_WRLCK, 0, kMax});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->range.start, 50);
  EXPECT_EQ(h->pid, 20);
  // An F_UNLCK question finds the asker's own lock.
  h = table_.Test(kFile, A, LockRange{F_UNLCK, 0, kMax});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->range.start, 0);
  EXPECT_FALSE(table_.Test(kFile, C, LockRange{F_UNLCK, 0, kMax}));
}

TEST_F(RecordLockTest, Deadlocks) {
  int wa = 0, wb = 0, wc = 0;  // waiter tokens
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 0));
  ASSERT_TRUE(Set(B, F_WRLCK, 1, 1));
  ASSERT_TRUE(Set(C, F_WRLCK, 2, 2));
  // B waits for A, C for B: A asking for C's closes the cycle.
  EXPECT_EQ(Set(B, F_WRLCK, 0, 0, kFile, &wb).error().value, EAGAIN);
  EXPECT_EQ(Set(C, F_WRLCK, 1, 1, kFile, &wc).error().value, EAGAIN);
  EXPECT_EQ(Set(A, F_WRLCK, 2, 2, kFile, &wa).error().value, EDEADLK);
  EXPECT_EQ(Set(A, F_WRLCK, 1, 1, kFile, &wa).error().value, EDEADLK);
  // Without a waiter (F_SETLK) it is just busy.
  EXPECT_EQ(Set(A, F_WRLCK, 2, 2).error().value, EAGAIN);
  // B stops waiting: no cycle.
  table_.StopWaiting(&wb);
  EXPECT_EQ(Set(A, F_WRLCK, 2, 2, kFile, &wa).error().value, EAGAIN);
  table_.StopWaiting(&wa);
  // A waiter woken by a release is not waiting until it tries again.
  EXPECT_EQ(Set(B, F_WRLCK, 0, 0, kFile, &wb).error().value, EAGAIN);
  ASSERT_TRUE(Set(A, F_UNLCK, 0, 0));
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 0));
  EXPECT_EQ(Set(A, F_WRLCK, 1, 1, kFile, &wa).error().value, EAGAIN);
  table_.StopWaiting(&wa);
  table_.StopWaiting(&wb);
  table_.StopWaiting(&wc);
  // OFD owners are not followed.
  int d = 0;
  LockOwner D{&d, true, -1};
  ASSERT_TRUE(Set(D, F_WRLCK, 5, 5));
  EXPECT_EQ(Set(D, F_WRLCK, 0, 0, kFile, &wa).error().value, EAGAIN);
  EXPECT_EQ(Set(A, F_WRLCK, 5, 5, kFile, &wb).error().value, EAGAIN);
  table_.StopWaiting(&wa);
  table_.StopWaiting(&wb);
  table_.ReleaseOwner(&d);
}

TEST_F(RecordLockTest, Releases) {
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 9));
  ASSERT_TRUE(Set(A, F_WRLCK, 0, 9, kOther));
  ASSERT_TRUE(Set(B, F_RDLCK, 20, 29));
  table_.ReleaseFile(&a_, kFile);
  EXPECT_EQ(Seen(C), "R20-29/20");
  EXPECT_EQ(Seen(C, kOther), "W0-9/10");
  table_.ReleaseOwner(&a_);
  EXPECT_EQ(Seen(C, kOther), "");
  EXPECT_EQ(Seen(C), "R20-29/20");
}

TEST(RecordLockTableTest, FullTableIsEnolck) {
  RecordLockTable table(8);
  int a = 0, b = 0;
  const LockOwner A{&a, false, 1}, B{&b, false, 2};
  auto set = [&](const LockOwner& o, short type, int64_t start, int64_t end,
                 Key key = kFile) {
    return table.TrySet(key, o, LockRange{type, start, end}, nullptr);
  };
  // Every other byte: no merging.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(set(A, F_WRLCK, 2 * i, 2 * i)) << i;
  EXPECT_EQ(set(B, F_WRLCK, 0, 0, kOther).error().value, ENOLCK);
  // A merge frees one; a split needs one more.
  EXPECT_TRUE(set(A, F_WRLCK, 0, 2));
  EXPECT_TRUE(set(B, F_WRLCK, 0, 0, kOther));
  EXPECT_EQ(set(A, F_UNLCK, 1, 1).error().value, ENOLCK);
  EXPECT_TRUE(set(A, F_UNLCK, 0, kMax));
  table.ReleaseOwner(&b);
}

}  // namespace
}  // namespace vfs
