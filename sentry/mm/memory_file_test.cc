#include "sentry/mm/memory_file.h"

#include <sys/stat.h>

#include <cstring>

#include "gtest/gtest.h"

namespace mm {
namespace {

constexpr uint64_t P = kPageSize;

TEST(MemoryFileTest, CreateRejectsBadSizes) {
  EXPECT_EQ(MemoryFile::Create(0).error(), base::Errno(EINVAL));
  EXPECT_EQ(MemoryFile::Create(P + 1).error(), base::Errno(EINVAL));
}

TEST(MemoryFileTest, AllocatesZeroedPagesFromTheBottom) {
  auto mf = *MemoryFile::Create(64 * P);
  EXPECT_GE(mf->fd(), 0);
  EXPECT_EQ(*mf->Allocate(2 * P), 0u);
  EXPECT_EQ(*mf->Allocate(P), 2 * P);
  EXPECT_EQ(mf->allocated(), 3 * P);
  for (uint64_t i = 0; i < 3 * P; ++i) ASSERT_EQ(mf->base()[i], 0);
}

TEST(MemoryFileTest, FreedRangeIsReusedAndZero) {
  auto mf = *MemoryFile::Create(64 * P);
  uint64_t a = *mf->Allocate(2 * P);
  uint64_t b = *mf->Allocate(P);  // keeps `a` below top_
  memset(mf->base() + a, 0xab, 2 * P);
  mf->Free(a, 2 * P);
  EXPECT_EQ(mf->allocated(), P);
  // First fit: the hole at `a` serves a smaller request.
  EXPECT_EQ(*mf->Allocate(P), a);
  EXPECT_EQ(mf->base()[a], 0);
  EXPECT_EQ(*mf->Allocate(P), a + P);
  EXPECT_EQ(*mf->Allocate(P), b + P);  // now the bump pointer
}

TEST(MemoryFileTest, SharedPagesLiveUntilTheLastFree) {
  auto mf = *MemoryFile::Create(64 * P);
  uint64_t a = *mf->Allocate(4 * P);
  memset(mf->base() + a, 0x5a, 4 * P);
  // Pages 1 and 2 get a second owner (a shared mapping after fork).
  mf->IncRef(a + P, 2 * P);
  mf->Free(a, 4 * P);  // the first owner unmaps everything
  EXPECT_EQ(mf->allocated(), 2 * P);
  EXPECT_EQ(mf->base()[a + P], 0x5a);  // still the second owner's data
  EXPECT_EQ(mf->base()[a + 2 * P + P - 1], 0x5a);
  // The second owner frees in two steps, across the segment.
  mf->Free(a + P, P);
  EXPECT_EQ(mf->allocated(), P);
  mf->IncRef(a + 2 * P, P);  // a third owner of the last page
  mf->Free(a + 2 * P, P);
  EXPECT_EQ(mf->allocated(), P);
  mf->Free(a + 2 * P, P);
  EXPECT_EQ(mf->allocated(), 0u);
  EXPECT_EQ(*mf->Allocate(4 * P), a);
  EXPECT_EQ(mf->base()[a + P], 0);
}

TEST(MemoryFileTest, NeighboursMergeAndTopShrinks) {
  auto mf = *MemoryFile::Create(64 * P);
  uint64_t a = *mf->Allocate(P);
  uint64_t b = *mf->Allocate(P);
  uint64_t c = *mf->Allocate(P);
  uint64_t d = *mf->Allocate(P);
  mf->Free(a, P);
  mf->Free(c, P);
  mf->Free(b, P);  // merges a, b, c into one hole
  EXPECT_EQ(*mf->Allocate(3 * P), a);
  mf->Free(a, 3 * P);
  // Freeing the last range lowers the top to the merged hole's start.
  mf->Free(d, P);
  EXPECT_EQ(mf->allocated(), 0u);
  EXPECT_EQ(*mf->Allocate(4 * P), 0u);
}

TEST(MemoryFileTest, FreesPartOfAnAllocation) {
  auto mf = *MemoryFile::Create(64 * P);
  uint64_t a = *mf->Allocate(4 * P);
  ASSERT_TRUE(mf->Allocate(P).has_value());
  mf->Free(a + P, 2 * P);
  EXPECT_EQ(mf->allocated(), 3 * P);
  EXPECT_EQ(*mf->Allocate(2 * P), a + P);
}

// Host blocks the memory file holds (shmem counts what is resident).
uint64_t HostBytes(const MemoryFile& mf) {
  struct stat st;
  EXPECT_EQ(fstat(mf.fd(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(MemoryFileTest, SmallFreesAreKeptThenZeroedOnReuse) {
  auto mf = *MemoryFile::Create(1024 * P);
  uint64_t a = *mf->Allocate(2 * P);
  memset(mf->base() + a, 0xcd, 2 * P);
  mf->Free(a, 2 * P);  // the top shrinks over it: kept, not punched
  EXPECT_EQ(mf->allocated(), 0u);
  EXPECT_EQ(HostBytes(*mf), 2 * P);
  // Reused by the bump allocator: zero, as a punched page would read.
  EXPECT_EQ(*mf->Allocate(P), a);
  EXPECT_EQ(mf->base()[a], 0);
  EXPECT_EQ(mf->base()[a + P - 1], 0);
  EXPECT_EQ(mf->base()[a + P], 0xcd);  // still kept, not handed out
  EXPECT_EQ(*mf->Allocate(3 * P), a + P);
  for (uint64_t i = a; i < a + 4 * P; ++i) ASSERT_EQ(mf->base()[i], 0);
}

TEST(MemoryFileTest, LargeFreesAndTooManyKeptAreGivenBack) {
  auto mf = *MemoryFile::Create(1024 * P);
  const uint64_t big = MemoryFile::kKeepMax + P;
  uint64_t a = *mf->Allocate(big);
  memset(mf->base() + a, 1, big);
  mf->Free(a, big);
  EXPECT_EQ(HostBytes(*mf), 0u);
  // Small frees are kept up to kKeepTotal; the next one punches them all.
  const uint64_t n = MemoryFile::kKeepTotal / P + 1;
  uint64_t b = *mf->Allocate(n * P);
  uint64_t guard = *mf->Allocate(P);  // keeps b below the top
  memset(mf->base() + b, 1, n * P + P);
  for (uint64_t i = 0; i + 1 < n; ++i) mf->Free(b + i * P, P);
  EXPECT_EQ(HostBytes(*mf), (n + 1) * P);
  mf->Free(b + (n - 1) * P, P);
  EXPECT_EQ(HostBytes(*mf), 2 * P);  // the last one (kept) and the guard
  mf->Free(guard, P);
  EXPECT_EQ(*mf->Allocate(n * P + P), b);
  for (uint64_t i = b; i < b + n * P + P; ++i) ASSERT_EQ(mf->base()[i], 0);
}

TEST(MemoryFileTest, ExhaustionIsEnomem) {
  auto mf = *MemoryFile::Create(4 * P);
  EXPECT_EQ(*mf->Allocate(3 * P), 0u);
  EXPECT_EQ(mf->Allocate(2 * P).error(), base::Errno(ENOMEM));
  EXPECT_EQ(*mf->Allocate(P), 3 * P);
  EXPECT_EQ(mf->Allocate(P).error(), base::Errno(ENOMEM));
}

}  // namespace
}  // namespace mm
