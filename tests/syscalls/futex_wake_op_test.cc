// futex(2) FUTEX_WAKE_OP: the atomic operation on the second word, the
// comparison that decides whether its waiters are woken, and errors.
#include <vector>

#include "futex_util.h"
#include "test_util.h"

namespace futex_test {
namespace {

using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;

long WakeOp(Word* w1, int nr_wake, int nr_wake2, Word* w2, uint32_t op,
            bool is_private = true) {
  return FutexVal2(w1, FUTEX_WAKE_OP | Private(is_private), nr_wake, nr_wake2,
                   w2, op);
}

struct OpCase {
  int op;
  int oparg;  // 12 bits, sign-extended; a shift count with OPARG_SHIFT
  uint32_t before, after;
};

TEST(FutexWakeOpTest, OperationsChangeTheSecondWord) {
  const OpCase cases[] = {
      {FUTEX_OP_SET, 5, 1, 5},
      {FUTEX_OP_ADD, 3, 1, 4},
      {FUTEX_OP_ADD, -1, 1, 0},
      {FUTEX_OP_OR, 6, 1, 7},
      {FUTEX_OP_ANDN, 3, 7, 4},
      {FUTEX_OP_XOR, 5, 6, 3},
      {FUTEX_OP_SET, -2048, 0, 0xfffff800},
      {FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, 0, 16},
      {FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, 1, 0x80000001},
      {FUTEX_OP_XOR | FUTEX_OP_OPARG_SHIFT, 0, 3, 2},
      // Linux takes an out-of-range shift modulo 32.
      {FUTEX_OP_ADD | FUTEX_OP_OPARG_SHIFT, 33, 1, 3},
  };
  for (const OpCase& c : cases) {
    Word w1{0}, w2{c.before};
    EXPECT_THAT(
        WakeOp(&w1, 1, 1, &w2, FUTEX_OP(c.op, c.oparg, FUTEX_OP_CMP_EQ, 0)),
        SyscallSucceedsWithValue(0));
    EXPECT_EQ(w2.load(), c.after) << "op " << c.op << " oparg " << c.oparg;
    EXPECT_EQ(w1.load(), 0u);
  }
}

struct CmpCase {
  int cmp;
  int cmparg;  // 12 bits, sign-extended
  uint32_t old;
  bool wakes;
};

TEST(FutexWakeOpTest, ComparisonOfTheOldValueDecidesTheSecondWake) {
  const CmpCase cases[] = {
      {FUTEX_OP_CMP_EQ, 5, 5, true},
      {FUTEX_OP_CMP_EQ, 5, 6, false},
      {FUTEX_OP_CMP_NE, 5, 6, true},
      {FUTEX_OP_CMP_NE, 5, 5, false},
      {FUTEX_OP_CMP_LT, 5, 4, true},
      {FUTEX_OP_CMP_LT, 5, 5, false},
      {FUTEX_OP_CMP_LE, 5, 5, true},
      {FUTEX_OP_CMP_LE, 5, 6, false},
      {FUTEX_OP_CMP_GT, 5, 6, true},
      {FUTEX_OP_CMP_GT, 5, 5, false},
      {FUTEX_OP_CMP_GE, 5, 5, true},
      {FUTEX_OP_CMP_GE, 5, 4, false},
      // Signed comparisons, sign-extended cmparg.
      {FUTEX_OP_CMP_LT, 0, 0x80000000, true},
      {FUTEX_OP_CMP_GT, 2047, 0x80000000, false},
      {FUTEX_OP_CMP_EQ, -1, 0xffffffff, true},
  };
  for (const CmpCase& c : cases) {
    Word w1{0}, w2{c.old};
    WaiterThread waiter(&w2, c.old, true);
    AwaitWaiters(&w2, 1, true);
    // ADD 0 leaves the word alone, so the waiter stays valid.
    EXPECT_THAT(
        WakeOp(&w1, 1, 1, &w2, FUTEX_OP(FUTEX_OP_ADD, 0, c.cmp, c.cmparg)),
        SyscallSucceedsWithValue(c.wakes ? 1 : 0))
        << "cmp " << c.cmp << " cmparg " << c.cmparg << " old " << c.old;
    if (!c.wakes)
      EXPECT_THAT(Futex(&w2, FUTEX_WAKE_PRIVATE, 1),
                  SyscallSucceedsWithValue(1));
    EXPECT_EQ(waiter.Join(), 0);
  }
}

TEST(FutexWakeOpTest, WakesUpToBothCounts) {
  for (bool is_private : {true, false}) {
    Word w1{0}, w2{0};
    std::vector<std::unique_ptr<WaiterThread>> waiters;
    for (Word* w : {&w1, &w1, &w2, &w2})
      waiters.push_back(std::make_unique<WaiterThread>(w, 0, is_private));
    AwaitWaiters(&w1, 2, is_private);
    AwaitWaiters(&w2, 2, is_private);
    EXPECT_THAT(
        WakeOp(&w1, 1, 1, &w2, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0),
               is_private),
        SyscallSucceedsWithValue(2));
    EXPECT_EQ(w2.load(), 1u);
    EXPECT_EQ(Waiters(&w1, is_private), 1);
    EXPECT_EQ(Waiters(&w2, is_private), 1);
    const int wake = FUTEX_WAKE | Private(is_private);
    EXPECT_THAT(Futex(&w1, wake, INT_MAX), SyscallSucceedsWithValue(1));
    EXPECT_THAT(Futex(&w2, wake, INT_MAX), SyscallSucceedsWithValue(1));
    for (auto& w : waiters) EXPECT_EQ(w->Join(), 0);
  }
}

TEST(FutexWakeOpTest, UnknownOpIsEnosysBeforeTheWrite) {
  Word w1{0}, w2{3};
  EXPECT_THAT(WakeOp(&w1, 1, 1, &w2, FUTEX_OP(5, 1, FUTEX_OP_CMP_EQ, 0)),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_EQ(w2.load(), 3u);
}

TEST(FutexWakeOpTest, UnknownComparisonIsEnosysAfterTheWrite) {
  Word w1{0}, w2{3};
  EXPECT_THAT(WakeOp(&w1, 1, 1, &w2, FUTEX_OP(FUTEX_OP_SET, 9, 6, 0)),
              SyscallFailsWithErrno(ENOSYS));
  EXPECT_EQ(w2.load(), 9u);
}

TEST(FutexWakeOpTest, SecondWordMustBeWritable) {
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(ro, MAP_FAILED);
  Word w1{0};
  const uint32_t op = FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0);
  for (bool is_private : {true, false}) {
    EXPECT_THAT(WakeOp(&w1, 1, 1, static_cast<Word*>(ro), op, is_private),
                SyscallFailsWithErrno(EFAULT));
    EXPECT_THAT(WakeOp(&w1, 1, 1, UnmappedWord(), op, is_private),
                SyscallFailsWithErrno(EFAULT));
  }
  EXPECT_EQ(*static_cast<uint32_t*>(ro), 0u);
  munmap(ro, 4096);
}

}  // namespace
}  // namespace futex_test
