// MAP_SHARED mappings of files that lend their memory-file pages
// (Mappable::PinPages): the mapping and the file are the same bytes.
#include <sys/mman.h>

#include <cstring>

#include "sentry/mm/mappable.h"
#include "sentry/mm/test_fixture.h"

namespace mm::testing {
namespace {

using base::Errno;

// A file of `pages` pages in the memory file, allocated one at a time and
// in reverse order, so that no two neighbours are contiguous there: each
// page is a run of its own.
class PageFile : public Mappable {
 public:
  PageFile(MemoryFile& mf, size_t pages) : mf_(mf) {
    for (size_t i = 0; i < pages; ++i) {
      offsets_.push_back(*mf_.Allocate(P));
      if (i % 2 == 1) std::swap(offsets_[i], offsets_[i - 1]);
    }
  }
  ~PageFile() override {
    for (uint64_t o : offsets_) mf_.Free(o, P);
  }
  uint8_t* page(size_t i) { return mf_.base() + offsets_[i]; }

  base::Result<void> ReadInto(uint64_t pos, uint8_t* dst,
                              uint64_t len) override {
    ADD_FAILURE() << "a shared mapping of a page-lending file reads nothing";
    return base::Err(EIO);
  }
  std::optional<uint64_t> Size() override { return offsets_.size() * P; }
  dev_t dev() override { return 7; }
  ino_t ino() override { return 9; }
  bool SharesPages() const override { return true; }
  base::Result<std::vector<BackingRun>> PinPages(uint64_t offset,
                                                 uint64_t len) override {
    ++pins;
    if (fail) return base::Err(ENOMEM);
    std::vector<BackingRun> runs;
    for (uint64_t at = offset; at < offset + len; at += P) {
      const uint64_t o = offsets_.at(at / P);
      if (!runs.empty() && runs.back().offset + runs.back().len == o)
        runs.back().len += P;
      else
        runs.push_back({o, P});
    }
    for (const BackingRun& r : runs) mf_.IncRef(r.offset, r.len);
    return runs;
  }

  int pins = 0;
  bool fail = false;

 private:
  MemoryFile& mf_;
  std::vector<uint64_t> offsets_;
};

class SharedFileTest : public MmTest {
 protected:
  MmapOpts Shared(std::shared_ptr<Mappable> f, uint64_t len, uint64_t offset) {
    MmapOpts o;
    o.file = std::move(f);
    o.length = len;
    o.prot = RW;
    o.shared = true;
    o.offset = offset;
    o.name = "/tmp/f";
    return o;
  }
  // The file must outlive mm_ (it frees its pages when destroyed), so it
  // is dropped in TearDown after the manager.
  void TearDown() override {
    ExpectStubMatchesVmas();
    mm_.reset();
    file4_.reset();
    EXPECT_EQ(file_->allocated(), 0u);
  }
  std::shared_ptr<PageFile> file4_;
};

TEST_F(SharedFileTest, MapsTheFilesOwnPages) {
  file4_ = std::make_shared<PageFile>(*file_, 4);
  std::memcpy(file4_->page(1), "file", 4);
  uint64_t a = *mm_->Mmap(Shared(file4_, 3 * P, P));
  char buf[4];
  ASSERT_TRUE(mm_->CopyIn(a, buf, 4));
  EXPECT_EQ(std::string(buf, 4), "file");
  // A store through the mapping is in the file's page.
  ASSERT_TRUE(mm_->CopyOut(a + 2 * P + 5, "map", 3));
  EXPECT_EQ(std::memcmp(file4_->page(3) + 5, "map", 3), 0);
  // No memory of its own: the file's four pages are all there is.
  EXPECT_EQ(file_->allocated(), 4 * P);
  // One VMA per page internally, one as /proc/self/maps shows it.
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].offset, P);
  EXPECT_EQ(vmas[0].end - vmas[0].start, 3 * P);
  EXPECT_TRUE(vmas[0].shared);
}

TEST_F(SharedFileTest, UnmapDropsOnlyTheMappingsReferences) {
  file4_ = std::make_shared<PageFile>(*file_, 4);
  uint64_t a = *mm_->Mmap(Shared(file4_, 4 * P, 0));
  ASSERT_TRUE(mm_->Munmap(a + P, 2 * P));
  ASSERT_TRUE(mm_->CopyOut(a + 3 * P, "x", 1));
  EXPECT_EQ(file4_->page(3)[0], 'x');
  ASSERT_TRUE(mm_->Munmap(a, 4 * P));
  EXPECT_EQ(file_->allocated(), 4 * P);  // still the file's
  std::memcpy(file4_->page(0), "ok", 2);
}

TEST_F(SharedFileTest, ForkSharesThePages) {
  file4_ = std::make_shared<PageFile>(*file_, 2);
  uint64_t a = *mm_->Mmap(Shared(file4_, 2 * P, 0));
  auto child = *mm_->Fork();
  ASSERT_TRUE(child->Attach(platform_));
  ASSERT_TRUE(child->CopyOut(a + P, "kid", 3));
  char buf[3];
  ASSERT_TRUE(mm_->CopyIn(a + P, buf, 3));
  EXPECT_EQ(std::string(buf, 3), "kid");
  EXPECT_EQ(std::memcmp(file4_->page(1), "kid", 3), 0);
  child.reset();
}

TEST_F(SharedFileTest, PinFailureFailsTheMmap) {
  file4_ = std::make_shared<PageFile>(*file_, 2);
  file4_->fail = true;
  EXPECT_EQ(mm_->Mmap(Shared(file4_, 2 * P, 0)).error(), Errno(ENOMEM));
  EXPECT_TRUE(mm_->Vmas().empty());
}

TEST_F(SharedFileTest, PagesPastTheEndAreNotPinned) {
  file4_ = std::make_shared<PageFile>(*file_, 2);
  uint64_t a = *mm_->Mmap(Shared(file4_, 4 * P, 0));
  EXPECT_FALSE(mm_->IsBeyondEof(a + P));
  EXPECT_TRUE(mm_->IsBeyondEof(a + 2 * P));
  EXPECT_EQ(file_->allocated(), 2 * P);
}

TEST_F(SharedFileTest, MremapGrowthPinsTheNewPages) {
  file4_ = std::make_shared<PageFile>(*file_, 4);
  uint64_t a = *mm_->Mmap(Shared(file4_, P, 0));
  uint64_t b = *mm_->Mremap(a, P, 3 * P, MREMAP_MAYMOVE, 0);
  ASSERT_TRUE(mm_->CopyOut(b + 2 * P, "g", 1));
  EXPECT_EQ(file4_->page(2)[0], 'g');
  EXPECT_EQ(file_->allocated(), 4 * P);
}

TEST_F(SharedFileTest, MsyncChecksTheRange) {
  file4_ = std::make_shared<PageFile>(*file_, 2);
  uint64_t a = *mm_->Mmap(Shared(file4_, 2 * P, 0));
  EXPECT_TRUE(mm_->Msync(a, 2 * P, false));
  EXPECT_EQ(mm_->Msync(a, 3 * P, false).error(), Errno(ENOMEM));
  ASSERT_TRUE(mm_->Mlock(a, P, {}));
  EXPECT_EQ(mm_->Msync(a, P, true).error(), Errno(EBUSY));
  EXPECT_TRUE(mm_->Msync(a, P, false));
}

}  // namespace
}  // namespace mm::testing
