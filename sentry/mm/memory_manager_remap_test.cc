// mremap, madvise and file mappings.
#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>

#include "sentry/mm/fake_file.h"
#include "sentry/mm/test_fixture.h"
#include "sentry/vfs/mappable.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

namespace mm::testing {
namespace {

using base::Errno;

constexpr uint64_t A = 0x10000000;

std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 1) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + seed);
  return v;
}

class RemapTest : public MmTest {
 protected:
  std::shared_ptr<VectorFile> MakeFile(size_t n, int flags = O_RDONLY) {
    return std::make_shared<VectorFile>(Pattern(n), flags);
  }
  MmapOpts FileMap(std::shared_ptr<VectorFile> f, uint64_t len, int prot,
                   uint64_t offset = 0, uint64_t addr = 0) {
    MmapOpts o;
    o.file = vfs::MappableOf(f);
    o.length = len;
    o.prot = prot;
    o.offset = offset;
    o.addr = addr;
    o.fixed = addr != 0;
    o.name = "/vector";
    return o;
  }
};

TEST_F(RemapTest, ShrinkInPlace) {
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, A, true)), A);
  EXPECT_EQ(*mm_->Mremap(A, 4 * P, P + 1, 0, 0), A);
  EXPECT_EQ(file_->allocated(), 2 * P);
  EXPECT_EQ(mm_->Vmas()[0].end, A + 2 * P);
  // Same size: nothing to do.
  EXPECT_EQ(*mm_->Mremap(A, 2 * P, 2 * P, 0, 0), A);
}

TEST_F(RemapTest, GrowInPlaceKeepsData) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A, true)), A);
  auto data = Pattern(2 * P);
  ASSERT_TRUE(mm_->CopyOut(A, data.data(), data.size()));
  EXPECT_EQ(*mm_->Mremap(A, 2 * P, 5 * P, 0, 0), A);
  EXPECT_EQ(Read(A, 2 * P), data);
  EXPECT_EQ(Read(A + 2 * P, 3 * P), std::vector<uint8_t>(3 * P, 0));
  EXPECT_EQ(file_->allocated(), 5 * P);
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].end, A + 5 * P);
}

TEST_F(RemapTest, GrowBlockedWithoutMaymoveIsEnomem) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A, true)), A);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A + 3 * P, true)), A + 3 * P);
  EXPECT_EQ(mm_->Mremap(A, 2 * P, 4 * P, 0, 0).error(), Errno(ENOMEM));
  // Growing a prefix of a VMA cannot happen in place either.
  EXPECT_EQ(mm_->Mremap(A, P, 2 * P, 0, 0).error(), Errno(ENOMEM));
}

TEST_F(RemapTest, MoveRemapsTheBackingWithoutCopying) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A, true)), A);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A + 2 * P, true)), A + 2 * P);
  const uint64_t old_offset = stub().calls[0].offset;
  auto data = Pattern(2 * P);
  ASSERT_TRUE(mm_->CopyOut(A, data.data(), data.size()));
  uint64_t b = *mm_->Mremap(A, 2 * P, 4 * P, MREMAP_MAYMOVE, 0);
  EXPECT_NE(b, A);
  EXPECT_EQ(Read(b, 2 * P), data);
  EXPECT_EQ(Read(b + 2 * P, 2 * P), std::vector<uint8_t>(2 * P, 0));
  uint8_t x;
  EXPECT_EQ(mm_->CopyIn(A, &x, 1).error(), Errno(EFAULT));
  EXPECT_EQ(file_->allocated(), 5 * P);
  // The stub saw: old backing at b, the old range unmapped, the growth.
  bool remapped = false, unmapped = false;
  for (const StubCall& c : stub().calls) {
    if (c == StubCall{StubCall::kMapFile, b, 2 * P, old_offset, RW})
      remapped = true;
    if (c == StubCall{StubCall::kUnmap, A, 2 * P, 0, 0}) unmapped = true;
  }
  EXPECT_TRUE(remapped);
  EXPECT_TRUE(unmapped);
}

TEST_F(RemapTest, MoveSpanningAdjacentCompatibleVmas) {
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A, true)), A);
  ASSERT_EQ(*mm_->Mremap(A, P, 3 * P, 0, 0), A);  // two VMAs now
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A + 3 * P, true)), A + 3 * P);
  auto data = Pattern(3 * P);
  ASSERT_TRUE(mm_->CopyOut(A, data.data(), data.size()));
  uint64_t b = *mm_->Mremap(A, 3 * P, 6 * P, MREMAP_MAYMOVE, 0);
  EXPECT_EQ(Read(b, 3 * P), data);
  EXPECT_EQ(file_->allocated(), 7 * P);
  // A range over VMAs Linux would not merge is EFAULT.
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_READ, A, true)), A);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A + P, true)), A + P);
  EXPECT_EQ(mm_->Mremap(A, 2 * P, 8 * P, MREMAP_MAYMOVE, 0).error(),
            Errno(EFAULT));
}

TEST_F(RemapTest, MoveFixed) {
  ASSERT_EQ(*mm_->Mmap(Anon(3 * P, RW, A, true)), A);
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, 0x20000000, true)), 0x20000000u);
  Fill(0x20000000, 4 * P, 0xee);
  auto data = Pattern(3 * P);
  ASSERT_TRUE(mm_->CopyOut(A, data.data(), data.size()));
  // Replaces what was at the destination; shrinks while moving.
  EXPECT_EQ(*mm_->Mremap(A, 3 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED,
                         0x20000000 + P),
            0x20000000u + P);
  EXPECT_EQ(Read(0x20000000 + P, 2 * P),
            std::vector<uint8_t>(data.begin(), data.begin() + 2 * P));
  EXPECT_EQ(Read(0x20000000, P), std::vector<uint8_t>(P, 0xee));
  EXPECT_EQ(Read(0x20000000 + 3 * P, P), std::vector<uint8_t>(P, 0xee));
  EXPECT_EQ(file_->allocated(), 4 * P);
  uint8_t x;
  EXPECT_EQ(mm_->CopyIn(A, &x, 1).error(), Errno(EFAULT));
}

TEST_F(RemapTest, Checks) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A, true)), A);
  EXPECT_EQ(mm_->Mremap(A, P, 2 * P, 0x80, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(A, P, 2 * P, MREMAP_FIXED, 0x20000000).error(),
            Errno(EINVAL));
  // MREMAP_DONTUNMAP: a move, without resizing.
  EXPECT_EQ(mm_->Mremap(A, P, P, MREMAP_DONTUNMAP, 0).error(), Errno(EINVAL));
  EXPECT_EQ(
      mm_->Mremap(A, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0).error(),
      Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(A + 1, P, 2 * P, 0, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(A, P, 0, 0, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(A, 0, P, MREMAP_MAYMOVE, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mremap(A + 4 * P, P, 2 * P, MREMAP_MAYMOVE, 0).error(),
            Errno(EFAULT));
  EXPECT_EQ(mm_->Mremap(A, 4 * P, 8 * P, MREMAP_MAYMOVE, 0).error(),
            Errno(EFAULT));  // old range runs past the VMA
  // Overlapping source and destination.
  EXPECT_EQ(mm_->Mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + P)
                .error(),
            Errno(EINVAL));
  EXPECT_EQ(
      mm_->Mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000001)
          .error(),
      Errno(EINVAL));
  EXPECT_EQ(file_->allocated(), 2 * P);
}

TEST_F(RemapTest, ProtNoneReservationMovesUnbacked) {
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, PROT_NONE, A, true)), A);
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_NONE, A + 4 * P, true)), A + 4 * P);
  uint64_t b = *mm_->Mremap(A, 4 * P, 1024 * P, MREMAP_MAYMOVE, 0);
  EXPECT_NE(b, A);
  EXPECT_EQ(file_->allocated(), 0u);
  EXPECT_TRUE(stub().calls.empty());
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 2u);
}

TEST_F(RemapTest, DontneedZeroesAnonymousMemory) {
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, A, true)), A);
  Fill(A, 4 * P, 0x55);
  ASSERT_TRUE(mm_->Madvise(A + P, 2 * P, MADV_DONTNEED));
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 0x55));
  EXPECT_EQ(Read(A + P, 2 * P), std::vector<uint8_t>(2 * P, 0));
  EXPECT_EQ(Read(A + 3 * P, P), std::vector<uint8_t>(P, 0x55));
  EXPECT_EQ(file_->allocated(), 4 * P) << "the backing stays";
  Fill(A, 4 * P, 0x66);
  ASSERT_TRUE(mm_->Madvise(A, 4 * P, MADV_FREE));
  EXPECT_EQ(Read(A, 4 * P), std::vector<uint8_t>(4 * P, 0));
}

TEST_F(RemapTest, DontneedOnSharedAnonymousKeepsData) {
  MmapOpts o = Anon(P, RW, A, true);
  o.shared = true;
  ASSERT_EQ(*mm_->Mmap(o), A);
  EXPECT_TRUE(mm_->Vmas()[0].shared);
  Fill(A, P, 0x77);
  ASSERT_TRUE(mm_->Madvise(A, P, MADV_DONTNEED));
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 0x77));
  EXPECT_EQ(mm_->Madvise(A, P, MADV_FREE).error(), Errno(EINVAL));
}

TEST_F(RemapTest, MadviseChecks) {
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, A, true)), A);
  Fill(A, P, 1);
  EXPECT_EQ(mm_->Madvise(A, P, 12345).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Madvise(A, P, MADV_REMOVE).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Madvise(A + 1, P, MADV_DONTNEED).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Madvise(A, ~uint64_t{0}, MADV_DONTNEED).error(),
            Errno(EINVAL));
  EXPECT_TRUE(mm_->Madvise(A, 0, MADV_DONTNEED));
  for (int advice :
       {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK,
        MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE})
    EXPECT_TRUE(mm_->Madvise(A, P, advice)) << advice;
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 1));
  // A hole: ENOMEM, but the mapped part is still advised.
  EXPECT_EQ(mm_->Madvise(A, 2 * P, MADV_DONTNEED).error(), Errno(ENOMEM));
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(mm_->Madvise(A + P, P, MADV_NORMAL).error(), Errno(ENOMEM));
}

TEST_F(RemapTest, FileMappingCopiesTheFile) {
  auto f = MakeFile(2 * P + 100);
  uint64_t a = *mm_->Mmap(FileMap(f, 4 * P, PROT_READ));
  EXPECT_EQ(Read(a, 2 * P + 100), f->data);
  // The rest of the page holding EOF reads as zero; the page after it is
  // not there (SIGBUS for the app, EFAULT for the sentry).
  EXPECT_EQ(Read(a + 2 * P + 100, P - 100), std::vector<uint8_t>(P - 100, 0));
  EXPECT_FALSE(mm_->IsBeyondEof(a + 2 * P));
  EXPECT_TRUE(mm_->IsBeyondEof(a + 3 * P));
  uint8_t x;
  EXPECT_EQ(mm_->CopyIn(a + 3 * P, &x, 1).error(), Errno(EFAULT));
  uint64_t changes;
  EXPECT_EQ(mm_->HandleFault(a + 3 * P + 5, kNoStackLimit, &changes),
            MemoryManager::Fault::kBusError);
  EXPECT_EQ(mm_->HandleFault(a + 2 * P + 5, kNoStackLimit, &changes),
            MemoryManager::Fault::kMaybeStale);
  EXPECT_EQ(mm_->Vmas()[0].name, "/vector");
  // With an offset.
  uint64_t b = *mm_->Mmap(FileMap(f, P, PROT_READ, P));
  EXPECT_EQ(Read(b, P),
            std::vector<uint8_t>(f->data.begin() + P, f->data.begin() + 2 * P));
  // Private writable: writes stay private.
  uint64_t c = *mm_->Mmap(FileMap(f, P, RW));
  Fill(c, 10, 0);
  EXPECT_EQ(f->data[0], Pattern(1)[0]);
}

TEST_F(RemapTest, FileMappingChecks) {
  auto f = MakeFile(P);
  EXPECT_EQ(mm_->Mmap(FileMap(f, P, PROT_READ, 100)).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mmap(FileMap(f, P, PROT_READ, uint64_t{1} << 63)).error(),
            Errno(EOVERFLOW));
  // Shared, of a file not open for writing: the caller drops PROT_WRITE
  // from max_prot (syscalls/mmap.cc); mmap and mprotect then refuse it.
  MmapOpts shared = FileMap(f, P, RW);
  shared.shared = true;
  shared.max_prot = PROT_READ | PROT_EXEC;
  EXPECT_EQ(mm_->Mmap(shared).error(), Errno(EACCES));
  shared.prot = PROT_READ;
  uint64_t a = *mm_->Mmap(shared);
  EXPECT_EQ(mm_->Mprotect(a, P, RW).error(), Errno(EACCES));
  EXPECT_TRUE(mm_->Mprotect(a, P, PROT_READ | PROT_EXEC));
  // A writable file may be mapped shared and writable (a snapshot).
  auto rw = MakeFile(P, O_RDWR);
  MmapOpts s2 = FileMap(rw, P, RW);
  s2.shared = true;
  EXPECT_TRUE(mm_->Mmap(s2).has_value());
  EXPECT_TRUE(mm_->Vmas().size() == 2);
  EXPECT_EQ(file_->allocated(), 2 * P);
}

TEST_F(RemapTest, ProtNoneFileMappingKeepsTheContents) {
  auto f = MakeFile(2 * P);
  uint64_t a = *mm_->Mmap(FileMap(f, 2 * P, PROT_NONE));
  EXPECT_EQ(file_->allocated(), 2 * P);
  uint8_t x;
  EXPECT_EQ(mm_->CopyIn(a, &x, 1).error(), Errno(EFAULT));
  ASSERT_TRUE(mm_->Mprotect(a + P, P, PROT_READ));
  EXPECT_EQ(Read(a + P, P),
            std::vector<uint8_t>(f->data.begin() + P, f->data.end()));
}

TEST_F(RemapTest, DontneedRereadsPrivateFileMappings) {
  auto f = MakeFile(3 * P);
  uint64_t a = *mm_->Mmap(FileMap(f, 3 * P, RW));
  Fill(a, 3 * P, 0);
  ASSERT_TRUE(mm_->Madvise(a + P, P, MADV_DONTNEED));
  EXPECT_EQ(Read(a, P), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(Read(a + P, P),
            std::vector<uint8_t>(f->data.begin() + P, f->data.begin() + 2 * P));
  EXPECT_EQ(mm_->Madvise(a, P, MADV_FREE).error(), Errno(EINVAL));
}

TEST_F(RemapTest, GrowingAFileMappingReadsOn) {
  auto f = MakeFile(4 * P);
  ASSERT_EQ(*mm_->Mmap(FileMap(f, P, PROT_READ, P, A)), A);
  EXPECT_EQ(*mm_->Mremap(A, P, 3 * P, 0, 0), A);
  EXPECT_EQ(Read(A, 3 * P),
            std::vector<uint8_t>(f->data.begin() + P, f->data.end()));
  // The pieces still count as one file mapping for a move.
  uint64_t b = *mm_->Mremap(A, 3 * P, 4 * P, MREMAP_MAYMOVE, 0);
  EXPECT_EQ(Read(b, 3 * P),
            std::vector<uint8_t>(f->data.begin() + P, f->data.end()));
  EXPECT_TRUE(mm_->IsBeyondEof(b + 3 * P));  // past EOF: SIGBUS
  // Linux's /proc/self/maps shows one VMA.
  ASSERT_EQ(mm_->Vmas().size(), 1u);
  EXPECT_EQ(mm_->Vmas()[0].end, b + 4 * P);
}

TEST_F(RemapTest, MappingWhollyPastEndOfFile) {
  auto f = MakeFile(P);
  uint64_t a = *mm_->Mmap(FileMap(f, 2 * P, PROT_READ, 4 * P));
  EXPECT_TRUE(mm_->IsBeyondEof(a));
  EXPECT_TRUE(mm_->IsBeyondEof(a + P));
  EXPECT_EQ(file_->allocated(), 0u);
  // mprotect changes nothing in the stub; PROT_NONE makes it SIGSEGV.
  ASSERT_TRUE(mm_->Mprotect(a, P, PROT_NONE).has_value());
  uint64_t changes;
  EXPECT_EQ(mm_->HandleFault(a, kNoStackLimit, &changes),
            MemoryManager::Fault::kAppError);
  EXPECT_EQ(mm_->HandleFault(a + P, kNoStackLimit, &changes),
            MemoryManager::Fault::kBusError);
  EXPECT_EQ(file_->allocated(), 0u);
}

TEST_F(RemapTest, MapFixedPastEofUnmapsWhatWasThere) {
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, A, true)), A);
  Fill(A, 4 * P, 5);
  auto f = MakeFile(P + 10);
  ASSERT_EQ(*mm_->Mmap(FileMap(f, 4 * P, PROT_READ, 0, A)), A);
  // The fixture checks that the stub maps nothing past EOF; the old pages
  // are freed.
  EXPECT_TRUE(mm_->IsBeyondEof(A + 2 * P));
  EXPECT_EQ(file_->allocated(), 2 * P);
  uint64_t off;
  int prot;
  EXPECT_FALSE(stub().Lookup(A + 3 * P, &off, &prot));
  // Wholly past EOF too.
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A + 8 * P, true)), A + 8 * P);
  ASSERT_EQ(*mm_->Mmap(FileMap(f, 2 * P, PROT_READ, 4 * P, A + 8 * P)),
            A + 8 * P);
  EXPECT_FALSE(stub().Lookup(A + 8 * P, &off, &prot));
  EXPECT_EQ(file_->allocated(), 2 * P);
}

TEST_F(RemapTest, DontUnmapLeavesEmptyPrivateMemory) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, A, true)), A);
  Fill(A, 2 * P, 7);
  uint64_t b =
      *mm_->Mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  ASSERT_NE(b, A);
  EXPECT_EQ(Read(b, 2 * P), std::vector<uint8_t>(2 * P, 7));
  EXPECT_EQ(Read(A, 2 * P), std::vector<uint8_t>(2 * P, 0));
  Fill(A, P, 8);
  EXPECT_EQ(Read(b, P), std::vector<uint8_t>(P, 7));
  EXPECT_EQ(file_->allocated(), 4 * P);
}

TEST_F(RemapTest, DontUnmapKeepsSharedPagesInBoth) {
  MmapOpts o = Anon(P, RW, A, true);
  o.shared = true;
  ASSERT_EQ(*mm_->Mmap(o), A);
  Fill(A, P, 3);
  const uint64_t b = A + 16 * P;
  ASSERT_EQ(*mm_->Mremap(A, P, P,
                         MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, b),
            b);
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 3));
  Fill(b, P, 4);
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 4));
  EXPECT_EQ(file_->allocated(), P);
  ASSERT_TRUE(mm_->Munmap(b, P).has_value());
  EXPECT_EQ(Read(A, P), std::vector<uint8_t>(P, 4));
}

TEST_F(RemapTest, DontUnmapRereadsPrivateFileMappings) {
  auto f = MakeFile(2 * P);
  ASSERT_EQ(*mm_->Mmap(FileMap(f, 2 * P, RW, 0, A)), A);
  Fill(A, P, 9);
  uint64_t b =
      *mm_->Mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  EXPECT_EQ(Read(A, 2 * P), f->data);
  EXPECT_EQ(Read(b, P), std::vector<uint8_t>(P, 9));
}

}  // namespace
}  // namespace mm::testing
