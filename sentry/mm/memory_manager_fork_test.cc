#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "sentry/mm/test_fixture.h"

namespace mm::testing {
namespace {

// A forked child attached to its own fake stub.
struct Child {
  std::unique_ptr<MemoryManager> mm;
  FakePlatform platform;
  int StubProt(uint64_t addr) {
    uint64_t off;
    int prot;
    return platform.stub().Lookup(addr, &off, &prot) ? prot : -1;
  }
  uint8_t Read(uint64_t addr) {
    uint8_t b = 0;
    EXPECT_TRUE(mm->CopyIn(addr, &b, 1).has_value());
    return b;
  }
};

using Fault = MemoryManager::Fault;

class ForkTest : public MmTest {
 protected:
  std::unique_ptr<Child> Fork() {
    auto c = std::make_unique<Child>();
    c->mm = *mm_->Fork();
    EXPECT_TRUE(c->mm->Attach(c->platform).has_value());
    return c;
  }
};

TEST_F(ForkTest, PrivateMemoryIsSharedCopyOnWriteSharedIsShared) {
  uint64_t priv = *mm_->Mmap(Anon(4 * P));
  MmapOpts shared_opts = Anon(2 * P);
  shared_opts.shared = true;
  uint64_t shared = *mm_->Mmap(shared_opts);
  Fill(priv, 4 * P, 0x11);
  Fill(shared, 2 * P, 0x22);

  auto child = Fork();
  // Nothing is copied at fork; both stubs map private memory read-only.
  EXPECT_EQ(file_->allocated(), 6 * P);
  EXPECT_EQ(child->StubProt(priv), PROT_READ);
  EXPECT_TRUE(mm_->IsCopyOnWrite(priv));
  EXPECT_TRUE(child->mm->IsCopyOnWrite(priv));
  EXPECT_FALSE(child->mm->IsCopyOnWrite(shared));
  EXPECT_EQ(child->StubProt(shared), RW);

  // Private: the sentry's write into the child copies the page it writes,
  // and each side's writes stay its own.
  uint8_t b = 0x33;
  ASSERT_TRUE(child->mm->CopyOut(priv, &b, 1).has_value());
  EXPECT_EQ(file_->allocated(), 7 * P);
  EXPECT_EQ(child->StubProt(priv), RW);
  EXPECT_EQ(Read(priv, 1)[0], 0x11);
  EXPECT_EQ(child->Read(priv + P), 0x11);
  // The parent is the pages' only owner now: it writes them in place.
  Fill(priv, 1, 0x44);
  EXPECT_EQ(file_->allocated(), 7 * P);
  EXPECT_FALSE(mm_->IsCopyOnWrite(priv));
  EXPECT_EQ(child->Read(priv), 0x33);

  // Shared: writes are seen by both.
  ASSERT_TRUE(child->mm->CopyOut(shared, &b, 1).has_value());
  EXPECT_EQ(Read(shared, 1)[0], 0x33);
  child.reset();
  EXPECT_EQ(file_->allocated(), 6 * P);
  EXPECT_EQ(Read(shared, 1)[0], 0x33);  // the parent still has it
}

TEST_F(ForkTest, ForkCopiesNothingUpFront) {
  // The case: 256 MiB touched, then fork.
  constexpr uint64_t kLen = uint64_t{256} << 20;
  uint64_t big = *mm_->Mmap(Anon(kLen));
  auto blocks = IoBlocksOf(*mm_, big, kLen, Access::kWrite);
  ASSERT_TRUE(blocks.has_value());
  for (const iovec& v : *blocks) memset(v.iov_base, 0x5a, v.iov_len);
  const uint64_t before = file_->allocated();
  auto child = Fork();
  EXPECT_EQ(file_->allocated(), before);
  // A write fault copies one 64 KiB chunk, not the mapping.
  uint64_t changes;
  EXPECT_EQ(child->mm->HandleFault(big + 100 * P + 7, kNoStackLimit, &changes),
            Fault::kResolved);
  EXPECT_EQ(file_->allocated(), before + 16 * P);
  EXPECT_FALSE(child->mm->IsCopyOnWrite(big + 96 * P));
  EXPECT_FALSE(child->mm->IsCopyOnWrite(big + 111 * P));
  EXPECT_TRUE(child->mm->IsCopyOnWrite(big + 95 * P));
  EXPECT_TRUE(child->mm->IsCopyOnWrite(big + 112 * P));
  EXPECT_EQ(child->StubProt(big + 100 * P), RW);
  EXPECT_EQ(child->StubProt(big + 112 * P), PROT_READ);
  EXPECT_EQ(child->Read(big + 100 * P), 0x5a);
  child.reset();
  EXPECT_EQ(file_->allocated(), before);
}

TEST_F(ForkTest, FaultsThatAreNotCopyOnWriteAreTheAppsError) {
  uint64_t ro = *mm_->Mmap(Anon(P, PROT_READ));
  uint64_t rw = *mm_->Mmap(Anon(P));
  uint64_t none = *mm_->Mmap(Anon(P, PROT_NONE));
  auto fault = [](MemoryManager& mm, uint64_t addr) {
    uint64_t changes;
    return mm.HandleFault(addr, kNoStackLimit, &changes);
  };
  // Accessible and not copy-on-write: a fault there is stale or real.
  EXPECT_EQ(fault(*mm_, rw), Fault::kMaybeStale);
  EXPECT_EQ(fault(*mm_, ro), Fault::kMaybeStale);
  EXPECT_EQ(fault(*mm_, none), Fault::kAppError);
  EXPECT_EQ(fault(*mm_, 0x10000), Fault::kAppError);  // unmapped
  auto child = Fork();
  // A write to read-only memory, copy-on-write or not.
  EXPECT_EQ(fault(*child->mm, ro), Fault::kAppError);
  EXPECT_TRUE(child->mm->IsCopyOnWrite(ro));
  EXPECT_EQ(fault(*child->mm, rw), Fault::kResolved);
  // Another thread faulting on the same page: resolved already. Faulting
  // again with nothing changed in between is the app's error; after a
  // change (another fork re-protected the page, say) it may be stale again.
  uint64_t first, second, third;
  EXPECT_EQ(child->mm->HandleFault(rw, kNoStackLimit, &first),
            Fault::kMaybeStale);
  EXPECT_EQ(child->mm->HandleFault(rw, kNoStackLimit, &second),
            Fault::kMaybeStale);
  EXPECT_EQ(first, second);
  auto grandchild = std::make_unique<Child>();
  grandchild->mm = *child->mm->Fork();
  EXPECT_EQ(child->mm->HandleFault(rw, kNoStackLimit, &third),
            Fault::kResolved);
  EXPECT_NE(third, second);
}

TEST_F(ForkTest, SentryWritesNeverReachTheOtherSide) {
  uint64_t rw = *mm_->Mmap(Anon(2 * P));
  uint64_t ro = *mm_->Mmap(Anon(P, PROT_READ));
  Fill(rw, 2 * P, 0x11);
  auto child = Fork();
  // The blocks of a read(2) into the child's buffer break copy-on-write.
  auto blocks = *IoBlocksOf(*child->mm, rw + 10, 100, Access::kWrite);
  ASSERT_EQ(blocks.size(), 1u);
  memset(blocks[0].iov_base, 0x77, blocks[0].iov_len);
  EXPECT_EQ(child->Read(rw + 10), 0x77);
  EXPECT_EQ(Read(rw + 10, 1)[0], 0x11);
  // A write the VMA refuses copies nothing.
  const uint64_t before = file_->allocated();
  uint8_t b = 1;
  EXPECT_FALSE(child->mm->CopyOut(ro, &b, 1).has_value());
  EXPECT_EQ(file_->allocated(), before);
}

TEST_F(ForkTest, DontneedInTheChildLeavesTheParentsData) {
  uint64_t a = *mm_->Mmap(Anon(4 * P));
  Fill(a, 4 * P, 0x11);
  auto child = Fork();
  ASSERT_TRUE(child->mm->Madvise(a + P, 2 * P, MADV_DONTNEED).has_value());
  EXPECT_EQ(child->Read(a), 0x11);
  EXPECT_EQ(child->Read(a + P), 0);
  EXPECT_EQ(child->Read(a + 2 * P), 0);
  EXPECT_EQ(child->Read(a + 3 * P), 0x11);
  EXPECT_EQ(child->StubProt(a + P), RW);
  EXPECT_EQ(Read(a + P, 1)[0], 0x11);
  // And the other way round.
  ASSERT_TRUE(mm_->Madvise(a, 4 * P, MADV_DONTNEED).has_value());
  EXPECT_EQ(Read(a, 1)[0], 0);
  EXPECT_EQ(child->Read(a), 0x11);
}

TEST_F(ForkTest, MprotectAndMremapKeepCopyOnWrite) {
  uint64_t a = *mm_->Mmap(Anon(4 * P));
  Fill(a, 4 * P, 0x11);
  auto child = Fork();
  ASSERT_TRUE(mm_->Mprotect(a, 4 * P, PROT_READ).has_value());
  ASSERT_TRUE(mm_->Mprotect(a, 4 * P, RW).has_value());
  // Still shared with the child: the stub must not allow writes (the
  // fixture checks the parent's stub at teardown).
  EXPECT_TRUE(mm_->IsCopyOnWrite(a));
  uint64_t moved = *mm_->Mremap(a, 4 * P, 8 * P, MREMAP_MAYMOVE, 0);
  EXPECT_TRUE(mm_->IsCopyOnWrite(moved));
  EXPECT_FALSE(mm_->IsCopyOnWrite(moved + 4 * P));  // fresh growth
  Fill(moved, 1, 0x22);
  EXPECT_EQ(child->Read(a), 0x11);
}

TEST_F(ForkTest, ThreeGenerationsStayApart) {
  uint64_t a = *mm_->Mmap(Anon(P));
  Fill(a, 1, 1);
  auto child = Fork();
  auto grandchild = std::make_unique<Child>();
  grandchild->mm = *child->mm->Fork();
  ASSERT_TRUE(grandchild->mm->Attach(grandchild->platform).has_value());
  uint8_t two = 2, three = 3;
  ASSERT_TRUE(child->mm->CopyOut(a, &two, 1).has_value());
  ASSERT_TRUE(grandchild->mm->CopyOut(a, &three, 1).has_value());
  EXPECT_EQ(Read(a, 1)[0], 1);
  EXPECT_EQ(child->Read(a), 2);
  EXPECT_EQ(grandchild->Read(a), 3);
  child.reset();
  grandchild.reset();
  EXPECT_EQ(file_->allocated(), P);
}

TEST_F(ForkTest, UnattachedChildCanBeWritten) {
  // CLONE_CHILD_SETTID writes into the child before its stub exists.
  uint64_t a = *mm_->Mmap(Anon(P));
  auto child = *mm_->Fork();
  int32_t tid = 42;
  ASSERT_TRUE(child->CopyOutObj(UserPtr<int32_t>(a), tid).has_value());
  FakePlatform platform;
  ASSERT_TRUE(child->Attach(platform).has_value());
  uint64_t off;
  int prot;
  ASSERT_TRUE(platform.stub().Lookup(a, &off, &prot));
  EXPECT_EQ(prot, RW);
  EXPECT_EQ(Read(a, 4), std::vector<uint8_t>(4, 0));
}

TEST_F(ForkTest, UntouchedMemoryIsNotCopied) {
  uint64_t big = *mm_->Mmap(Anon(1024 * P));
  Fill(big + 10 * P, P, 0x44);
  auto child = Fork();
  EXPECT_EQ(child->Read(big + 10 * P), 0x44);
  EXPECT_EQ(child->Read(big + 500 * P), 0);
  // Breaking copy-on-write for the whole range copies only the page that
  // holds data: the rest of the copy stays holes.
  auto blocks = *IoBlocksOf(*child->mm, big, 1024 * P, Access::kWrite);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_FALSE(child->mm->IsCopyOnWrite(big));
  EXPECT_EQ(child->Read(big + 10 * P), 0x44);
  const off_t copy = static_cast<uint8_t*>(blocks[0].iov_base) - file_->base();
  EXPECT_EQ(lseek(file_->fd(), copy, SEEK_DATA), copy + off_t{10 * P});
  EXPECT_EQ(lseek(file_->fd(), copy + off_t{10 * P}, SEEK_HOLE),
            copy + off_t{11 * P});
}

TEST_F(ForkTest, BrkIsInherited) {
  mm_->SetBrkBase(0x10000000);
  uint64_t b = mm_->Brk(0x10000000 + 3 * P);
  auto child = Fork();
  EXPECT_EQ(child->mm->Brk(0), b);
}

TEST_F(ForkTest, DontForkAndWipeOnFork) {
  uint64_t a = *mm_->Mmap(Anon(4 * P));
  Fill(a, 4 * P, 0x55);
  ASSERT_TRUE(mm_->Madvise(a + P, P, MADV_DONTFORK).has_value());
  ASSERT_TRUE(mm_->Madvise(a + 2 * P, P, MADV_WIPEONFORK).has_value());
  // The flags stay with their pages when the VMAs split again.
  ASSERT_TRUE(mm_->Mprotect(a, 4 * P, PROT_READ).has_value());
  ASSERT_TRUE(mm_->Mprotect(a, 4 * P, RW).has_value());
  auto child = Fork();
  // Only the pages that are shared are copy-on-write, on both sides.
  EXPECT_TRUE(mm_->IsCopyOnWrite(a));
  EXPECT_FALSE(mm_->IsCopyOnWrite(a + P));
  EXPECT_FALSE(mm_->IsCopyOnWrite(a + 2 * P));
  EXPECT_EQ(child->Read(a), 0x55);
  uint8_t b;
  EXPECT_EQ(child->mm->CopyIn(a + P, &b, 1).error(), base::Errno(EFAULT));
  EXPECT_EQ(child->StubProt(a + P), -1);
  EXPECT_EQ(child->Read(a + 2 * P), 0);
  EXPECT_EQ(child->StubProt(a + 2 * P), RW);
  EXPECT_EQ(child->Read(a + 3 * P), 0x55);
  // 4 pages of the parent, one fresh page of the child.
  EXPECT_EQ(file_->allocated(), 5 * P);
  // WIPEONFORK stays in the child, DONTFORK has nothing left to apply to.
  auto grandchild = std::make_unique<Child>();
  grandchild->mm = *child->mm->Fork();
  ASSERT_TRUE(grandchild->mm->Attach(grandchild->platform).has_value());
  uint8_t w = 0x66;
  ASSERT_TRUE(child->mm->CopyOut(a + 2 * P, &w, 1).has_value());
  EXPECT_EQ(grandchild->Read(a + 2 * P), 0);
  EXPECT_EQ(Read(a, 4 * P), std::vector<uint8_t>(4 * P, 0x55));
  // DOFORK and KEEPONFORK undo them.
  ASSERT_TRUE(mm_->Madvise(a, 4 * P, MADV_DOFORK).has_value());
  ASSERT_TRUE(mm_->Madvise(a, 4 * P, MADV_KEEPONFORK).has_value());
  auto again = Fork();
  EXPECT_EQ(again->Read(a + P), 0x55);
  EXPECT_EQ(again->Read(a + 2 * P), 0x55);
}

TEST_F(ForkTest, WipeOnForkNeedsPrivateAnonymousMemory) {
  MmapOpts o = Anon(P);
  o.shared = true;
  uint64_t a = *mm_->Mmap(o);
  EXPECT_EQ(mm_->Madvise(a, P, MADV_WIPEONFORK).error(), base::Errno(EINVAL));
  EXPECT_TRUE(mm_->Madvise(a, P, MADV_DONTFORK).has_value());
}

}  // namespace
}  // namespace mm::testing

namespace mm::testing {
namespace {

// platform::AppMemory::EditPrivateText, for systrap's syscall patching:
// private executable memory only, one page, copy-on-write broken first.
TEST_F(ForkTest, EditPrivateTextIsThisAddressSpacesAlone) {
  MmapOpts text_opts = Anon(2 * P);
  text_opts.prot = PROT_READ | PROT_EXEC;
  const uint64_t text = *mm_->Mmap(text_opts);
  MmapOpts shared_opts = Anon(P);
  shared_opts.prot = PROT_READ | PROT_EXEC;
  shared_opts.shared = true;
  const uint64_t shared = *mm_->Mmap(shared_opts);
  const uint64_t data = *mm_->Mmap(Anon(P));  // not executable
  auto put = [](uint8_t v) { return [v](uint8_t* p) { *p = v; }; };
  EXPECT_FALSE(mm_->EditPrivateText(shared, 1, put(1)));
  EXPECT_FALSE(mm_->EditPrivateText(data, 1, put(1)));
  EXPECT_FALSE(mm_->EditPrivateText(text + P - 2, 4, put(1)));  // two pages
  EXPECT_FALSE(mm_->EditPrivateText(text + 2 * P, 1, put(1)));  // unmapped

  auto child = Fork();
  ASSERT_TRUE(mm_->EditPrivateText(text + 5, 1, put(0x42)));
  EXPECT_EQ(Read(text + 5, 1)[0], 0x42);
  EXPECT_EQ(child->Read(text + 5), 0);  // the child's copy is untouched
  uint64_t off;
  int prot = 0;
  ASSERT_TRUE(stub().Lookup(text, &off, &prot));
  EXPECT_EQ(prot, PROT_READ | PROT_EXEC);
}

// The area is an ordinary VMA at exactly the address, or nothing.
TEST_F(ForkTest, MapPlatformAreaNeverReplaces) {
  EXPECT_TRUE(mm_->MapPlatformArea(0x60000, 0x10000, "[systrap]"));
  EXPECT_FALSE(mm_->MapPlatformArea(0x60000, 0x10000, "[systrap]"));
  EXPECT_TRUE(mm_->EditPrivateText(0x60000, 8, [](uint8_t* p) { p[0] = 1; }));
  auto child = Fork();
  EXPECT_EQ(child->Read(0x60000), 1);  // fork copies it
}

}  // namespace
}  // namespace mm::testing
