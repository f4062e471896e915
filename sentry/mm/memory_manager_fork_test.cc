#include <sys/mman.h>

#include "sentry/mm/test_fixture.h"

namespace mm::testing {
namespace {

class ForkTest : public MmTest {};

TEST_F(ForkTest, PrivateMemoryIsCopiedSharedIsShared) {
  uint64_t priv = *mm_->Mmap(Anon(4 * P));
  MmapOpts shared_opts = Anon(2 * P);
  shared_opts.shared = true;
  uint64_t shared = *mm_->Mmap(shared_opts);
  Fill(priv, 4 * P, 0x11);
  Fill(shared, 2 * P, 0x22);

  auto child = *mm_->Fork();
  FakePlatform child_platform;
  ASSERT_TRUE(child->Attach(child_platform).has_value());
  // The child's stub maps every VMA.
  uint64_t off;
  int prot;
  EXPECT_TRUE(child_platform.stub().Lookup(priv, &off, &prot));
  EXPECT_EQ(prot, RW);

  // Private: each side's writes stay its own.
  uint8_t b = 0x33;
  ASSERT_TRUE(child->CopyOut(priv, &b, 1).has_value());
  EXPECT_EQ(Read(priv, 1)[0], 0x11);
  // Shared: writes are seen by both.
  ASSERT_TRUE(child->CopyOut(shared, &b, 1).has_value());
  EXPECT_EQ(Read(shared, 1)[0], 0x33);

  // Only the touched private pages were copied: 4 private pages each, the
  // 2 shared pages once.
  EXPECT_EQ(file_->allocated(), 10 * P);
  child.reset();
  EXPECT_EQ(file_->allocated(), 6 * P);
  EXPECT_EQ(Read(shared, 1)[0], 0x33);  // the parent still has it
}

TEST_F(ForkTest, UntouchedMemoryIsNotCopied) {
  uint64_t big = *mm_->Mmap(Anon(1024 * P));
  Fill(big + 10 * P, P, 0x44);
  auto child = *mm_->Fork();
  std::vector<uint8_t> v(1);
  ASSERT_TRUE(child->CopyIn(big + 10 * P, v.data(), 1).has_value());
  EXPECT_EQ(v[0], 0x44);
  ASSERT_TRUE(child->CopyIn(big + 500 * P, v.data(), 1).has_value());
  EXPECT_EQ(v[0], 0);
  // The file's holes stay holes in the copy (the backing range is reserved,
  // but only the touched page holds memory).
  child.reset();
}

TEST_F(ForkTest, BrkIsInherited) {
  mm_->SetBrkBase(0x10000000);
  uint64_t b = mm_->Brk(0x10000000 + 3 * P);
  auto child = *mm_->Fork();
  EXPECT_EQ(child->Brk(0), b);
}

}  // namespace
}  // namespace mm::testing
