// RLIMIT_AS, RLIMIT_DATA and RLIMIT_MEMLOCK as the memory manager applies
// them, and the mlock family's accounting.
#include <sys/mman.h>

#include "sentry/mm/test_fixture.h"

namespace mm::testing {
namespace {

using base::Errno;

constexpr uint64_t A = 0x10000000;

class LimitsTest : public MmTest {
 protected:
  MmapOpts With(MmapOpts o, const Limits& l) {
    o.limits = l;
    return o;
  }
};

TEST_F(LimitsTest, AddressSpaceCountsEverything) {
  const Limits l{.as = 8 * P};
  ASSERT_TRUE(mm_->Mmap(With(Anon(4 * P, PROT_NONE, A, true), l)));
  EXPECT_EQ(mm_->Mmap(With(Anon(5 * P), l)).error(), Errno(ENOMEM));
  MmapOpts shared = Anon(4 * P);
  shared.shared = true;
  ASSERT_TRUE(mm_->Mmap(With(shared, l)));
  EXPECT_EQ(mm_->Mmap(With(Anon(P, PROT_READ), l)).error(), Errno(ENOMEM));
  // MAP_FIXED over existing pages counts only what it adds.
  EXPECT_TRUE(mm_->Mmap(With(Anon(4 * P, RW, A, true), l)));
  EXPECT_EQ(mm_->Mmap(With(Anon(5 * P, RW, A, true), l)).error(),
            Errno(ENOMEM));
  // mremap growth too, and DONTUNMAP's second copy.
  EXPECT_EQ(mm_->Mremap(A, 4 * P, 5 * P, MREMAP_MAYMOVE, 0, l).error(),
            Errno(ENOMEM));
  EXPECT_EQ(
      mm_->Mremap(A, P, P, MREMAP_MAYMOVE | 4 /*DONTUNMAP*/, 0, l).error(),
      Errno(ENOMEM));
  EXPECT_TRUE(mm_->Mremap(A, 4 * P, 2 * P, 0, 0, l));
  EXPECT_TRUE(mm_->Mremap(A, 2 * P, 4 * P, 0, 0, l));
}

TEST_F(LimitsTest, DataCountsPrivateWritableMemory) {
  const Limits l{.data = 4 * P, .data_max = 4 * P};
  ASSERT_TRUE(mm_->Mmap(With(Anon(4 * P, RW, A, true), l)));
  EXPECT_EQ(mm_->Mmap(With(Anon(P), l)).error(), Errno(ENOMEM));
  uint64_t ro = *mm_->Mmap(With(Anon(2 * P, PROT_READ), l));
  MmapOpts stack = Anon(2 * P);
  stack.grows_down = true;
  EXPECT_TRUE(mm_->Mmap(With(stack, l)));
  EXPECT_EQ(mm_->Mprotect(ro, 2 * P, RW, l).error(), Errno(ENOMEM));
  ASSERT_TRUE(mm_->Munmap(A, P));
  EXPECT_TRUE(mm_->Mprotect(ro, P, RW, l));
  // RLIMIT_DATA 0 means the hard limit (Linux's Valgrind workaround).
  const Limits zero{.data = 0, .data_max = 8 * P};
  EXPECT_TRUE(mm_->Mmap(With(Anon(P), zero)));
}

TEST_F(LimitsTest, BrkIsData) {
  mm_->SetBrkBase(A);
  const Limits l{.data = 4 * P, .data_max = 4 * P};
  EXPECT_EQ(mm_->Brk(A + 5 * P, l), A);
  EXPECT_EQ(mm_->Brk(A + 3 * P, l), A + 3 * P);
  const Limits as{.as = 4 * P};
  EXPECT_EQ(mm_->Brk(A + 5 * P, as), A + 3 * P);
  EXPECT_EQ(mm_->Brk(A + 4 * P, as), A + 4 * P);
}

TEST_F(LimitsTest, MlockAccounting) {
  const Limits l{.memlock = 4 * P, .ipc_lock = false};
  ASSERT_TRUE(mm_->Mmap(Anon(8 * P, RW, A, true)));
  EXPECT_TRUE(mm_->Mlock(A + 10, 2 * P, l));  // three pages touched
  EXPECT_EQ(mm_->LockedBytes(), 3 * P);
  EXPECT_TRUE(mm_->Mlock(A, 4 * P, l));  // three of them again
  EXPECT_EQ(mm_->LockedBytes(), 4 * P);
  EXPECT_EQ(mm_->Mlock(A + 4 * P, P, l).error(), Errno(ENOMEM));
  // CAP_IPC_LOCK goes beyond.
  EXPECT_TRUE(mm_->Mlock(A + 4 * P, P, {.memlock = 4 * P}));
  EXPECT_EQ(mm_->LockedBytes(), 5 * P);
  MmapOpts locked = Anon(P);
  locked.locked = true;
  EXPECT_EQ(mm_->Mmap(With(locked, l)).error(), Errno(EAGAIN));
  EXPECT_EQ(mm_->Mmap(With(locked, {.memlock = 0, .ipc_lock = false})).error(),
            Errno(EPERM));
  // Locks are not inherited; munmap drops them.
  auto child = *mm_->Fork();
  EXPECT_EQ(child->LockedBytes(), 0u);
  ASSERT_TRUE(mm_->Munmap(A, P));
  EXPECT_EQ(mm_->LockedBytes(), 4 * P);
  EXPECT_TRUE(mm_->Munlock(A + P, 8 * P).error() == Errno(ENOMEM));
  EXPECT_TRUE(mm_->Munlock(A + P, 7 * P));
  EXPECT_EQ(mm_->LockedBytes(), 0u);
  // MCL_FUTURE locks what comes next; MCL_CURRENT needs room for all.
  EXPECT_EQ(mm_->Mlockall(MCL_CURRENT, l).error(), Errno(ENOMEM));
  EXPECT_TRUE(mm_->Mlockall(MCL_FUTURE, l));
  EXPECT_EQ(mm_->Mmap(With(Anon(5 * P), l)).error(), Errno(EAGAIN));
  ASSERT_TRUE(mm_->Mmap(With(Anon(2 * P), l)));
  EXPECT_EQ(mm_->LockedBytes(), 2 * P);
  mm_->Munlockall();
  EXPECT_EQ(mm_->LockedBytes(), 0u);
  EXPECT_EQ(mm_->Mlockall(0, l).error(), Errno(EINVAL));
}

}  // namespace
}  // namespace mm::testing
