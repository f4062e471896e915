// brk via syscall(SYS_brk): query, grow/write/shrink, exact unaligned break,
// and refusals (below the heap start, into a mapping, out of range).
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test_util.h"

namespace syscall_test {
namespace {

// Each test restores the original break before asserting anything: malloc
// owns the heap below it and nothing may allocate while it is moved.

const uintptr_t kPage = PageSize();

// Raw brk: returns the new break, or the unchanged one on failure.
uintptr_t Brk(uintptr_t addr) {
  return static_cast<uintptr_t>(syscall(SYS_brk, addr));
}

uintptr_t PageUp(uintptr_t a) { return (a + kPage - 1) & ~(kPage - 1); }

bool IsUnmapped(uintptr_t addr, size_t len) {
  void* want = reinterpret_cast<void*>(addr);
  void* p = mmap(want, len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, len);
  return p == want;
}

TEST(BrkTest, QueryIsStable) {
  const uintptr_t start = Brk(0);
  EXPECT_NE(start, 0u);
  EXPECT_EQ(Brk(0), start);
  EXPECT_EQ(Brk(start), start);  // Setting the current break is a no-op.
  EXPECT_EQ(Brk(0), start);
}

TEST(BrkTest, GrowWriteAndShrink) {
  const uintptr_t start = Brk(0);
  const uintptr_t first_new_page = PageUp(start);
  const uintptr_t want = first_new_page + 4 * kPage;
  const uintptr_t grown = Brk(want);
  bool was_zero = true;
  bool kept_write = false;
  if (grown == want) {
    volatile char* mem = reinterpret_cast<volatile char*>(first_new_page);
    for (uintptr_t i = 0; i < 4 * kPage; ++i) was_zero &= mem[i] == 0;
    mem[0] = 'a';
    mem[4 * kPage - 1] = 'b';
    kept_write = mem[0] == 'a' && mem[4 * kPage - 1] == 'b';
  }
  const uintptr_t shrunk = Brk(start);
  EXPECT_EQ(grown, want);
  EXPECT_TRUE(was_zero) << "new heap pages must be zero-filled";
  EXPECT_TRUE(kept_write);
  EXPECT_EQ(shrunk, start);
  EXPECT_EQ(Brk(0), start);
  EXPECT_TRUE(IsUnmapped(first_new_page, 4 * kPage))
      << "shrinking must unmap the released pages";
}

TEST(BrkTest, UnalignedBreakIsKeptExactly) {
  const uintptr_t start = Brk(0);
  const uintptr_t plus = Brk(start + 1);
  const uintptr_t query = Brk(0);
  const uintptr_t restored = Brk(start);
  EXPECT_EQ(plus, start + 1);
  EXPECT_EQ(query, start + 1);
  EXPECT_EQ(restored, start);
}

TEST(BrkTest, BelowHeapStartFailsReturningCurrent) {
  const uintptr_t start = Brk(0);
  const uintptr_t low = Brk(kPage);
  const uintptr_t after = Brk(0);
  if (after != start) Brk(start);
  EXPECT_EQ(low, start);
  EXPECT_EQ(after, start);
}

TEST(BrkTest, OutsideUserAddressSpaceFails) {
  const uintptr_t start = Brk(0);
  const uintptr_t huge = Brk(uintptr_t{0xffff800000000000});
  const uintptr_t after = Brk(0);
  if (after != start) Brk(start);
  EXPECT_EQ(huge, start);
  EXPECT_EQ(after, start);
}

TEST(BrkTest, CannotGrowIntoAnExistingMapping) {
  const uintptr_t start = Brk(0);
  const uintptr_t block = PageUp(start) + 16 * kPage;
  void* want = reinterpret_cast<void*>(block);
  void* p = mmap(want, kPage, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != want) {
    if (p != MAP_FAILED) munmap(p, kPage);
    GTEST_SKIP() << "address after the heap is not free";
  }
  const uintptr_t result = Brk(block + kPage);
  const uintptr_t after = Brk(0);
  if (after != start) Brk(start);
  munmap(p, kPage);
  EXPECT_EQ(result, start);
  EXPECT_EQ(after, start);
}

}  // namespace
}  // namespace syscall_test
