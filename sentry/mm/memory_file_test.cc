#include "sentry/mm/memory_file.h"

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

TEST(MemoryFileTest, ExhaustionIsEnomem) {
  auto mf = *MemoryFile::Create(4 * P);
  EXPECT_EQ(*mf->Allocate(3 * P), 0u);
  EXPECT_EQ(mf->Allocate(2 * P).error(), base::Errno(ENOMEM));
  EXPECT_EQ(*mf->Allocate(P), 3 * P);
  EXPECT_EQ(mf->Allocate(P).error(), base::Errno(ENOMEM));
}

}  // namespace
}  // namespace mm
