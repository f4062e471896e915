// mmap, munmap, mprotect, brk and the copy functions.
#include <algorithm>
#include <cstring>
#include <thread>

#include "sentry/mm/fake_file.h"
#include "sentry/mm/test_fixture.h"

namespace mm::testing {
namespace {

using base::Errno;

TEST_F(MmTest, CreateTakesTheLimitFromThePlatform) {
  EXPECT_EQ(mm_->max_address(), 0x7f0000000000u);
  EXPECT_TRUE(mm_->Vmas().empty());
  EXPECT_TRUE(stub().calls.empty());
}

TEST_F(MmTest, AnonymousMmapIsMappedAndZero) {
  uint64_t a = *mm_->Mmap(Anon(3 * P - 5));  // rounded up to 3 pages
  EXPECT_EQ(a % P, 0u);
  EXPECT_GE(a, kMinUserAddress);
  EXPECT_LE(a + 3 * P, mm_->max_address());
  ASSERT_EQ(stub().calls.size(), 1u);
  EXPECT_EQ(stub().calls[0].kind, StubCall::kMapFile);
  EXPECT_EQ(stub().calls[0].addr, a);
  EXPECT_EQ(stub().calls[0].len, 3 * P);
  EXPECT_EQ(stub().calls[0].prot, RW);
  EXPECT_EQ(file_->allocated(), 3 * P);
  EXPECT_EQ(Read(a, 3 * P), std::vector<uint8_t>(3 * P, 0));
  Fill(a + 10, 100, 7);
  EXPECT_EQ(Read(a + 10, 100), std::vector<uint8_t>(100, 7));
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].start, a);
  EXPECT_EQ(vmas[0].end, a + 3 * P);
}

TEST_F(MmTest, MmapArgumentErrors) {
  EXPECT_EQ(mm_->Mmap(Anon(0)).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mmap(Anon(~uint64_t{0})).error(), Errno(ENOMEM));
  EXPECT_EQ(mm_->Mmap(Anon(uint64_t{1} << 62)).error(), Errno(ENOMEM));
  EXPECT_EQ(mm_->Mmap(Anon(P, RW, 0x100001, true)).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mmap(Anon(P, RW, 0x1000, true)).error(), Errno(EPERM));
  EXPECT_EQ(mm_->Mmap(Anon(P, RW, 0, true)).error(), Errno(EPERM));
  EXPECT_EQ(mm_->Mmap(Anon(2 * P, RW, mm_->max_address() - P, true)).error(),
            Errno(ENOMEM));
  EXPECT_EQ(mm_->Mmap(Anon(P, RW, ~uint64_t{0} & ~(P - 1), true)).error(),
            Errno(ENOMEM));
  EXPECT_TRUE(mm_->Vmas().empty());
  EXPECT_EQ(file_->allocated(), 0u);
}

TEST_F(MmTest, HintIsUsedWhenFree) {
  uint64_t a = *mm_->Mmap(Anon(2 * P, RW, 0x200000000));
  EXPECT_EQ(a, 0x200000000u);
  // Occupied: placed elsewhere, not over the existing mapping.
  uint64_t b = *mm_->Mmap(Anon(P, RW, 0x200000000 + P));
  EXPECT_TRUE(b + P <= a || b >= a + 2 * P);
  // Unaligned hints round down; hints below the minimum round up to it.
  EXPECT_EQ(*mm_->Mmap(Anon(P, RW, 0x300000123)), 0x300000000u);
  EXPECT_EQ(*mm_->Mmap(Anon(P, RW, 0x1000)), kMinUserAddress);
}

TEST_F(MmTest, SearchesTopDownBelowTheMmapBase) {
  mm_->SetMmapBase(0x500000000000);
  uint64_t a = *mm_->Mmap(Anon(4 * P));
  EXPECT_EQ(a, 0x500000000000u - 4 * P);
  uint64_t b = *mm_->Mmap(Anon(P));
  EXPECT_EQ(b, a - P);
  ASSERT_TRUE(mm_->Munmap(a, P).has_value());
  // The first gap from the top that fits.
  EXPECT_EQ(*mm_->Mmap(Anon(P)), a);
  EXPECT_EQ(*mm_->Mmap(Anon(2 * P)), b - 2 * P);
}

TEST_F(MmTest, SearchFallsBackAboveTheBase) {
  mm_->SetMmapBase(kMinUserAddress + 2 * P);
  EXPECT_EQ(*mm_->Mmap(Anon(2 * P)), kMinUserAddress);
  uint64_t b = *mm_->Mmap(Anon(P));  // nothing below the base any more
  EXPECT_GT(b, kMinUserAddress + 2 * P);
}

TEST_F(MmTest, RunsOutOfAddressSpace) {
  FakePlatform small(kMinUserAddress + 4 * P);
  auto mm = *MemoryManager::Create(*file_, small);
  EXPECT_TRUE(mm->Mmap(Anon(3 * P)).has_value());
  EXPECT_EQ(mm->Mmap(Anon(2 * P)).error(), Errno(ENOMEM));
  EXPECT_TRUE(mm->Mmap(Anon(P)).has_value());
}

TEST_F(MmTest, FixedReplacesAndFreesTheOldBacking) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, a, true)), a);
  Fill(a, 4 * P, 1);
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_READ, a + P, true)), a + P);
  EXPECT_EQ(file_->allocated(), 4 * P);
  EXPECT_EQ(Read(a, P), std::vector<uint8_t>(P, 1));
  EXPECT_EQ(Read(a + P, P), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(Read(a + 2 * P, 2 * P), std::vector<uint8_t>(2 * P, 1));
  EXPECT_EQ(mm_->Vmas().size(), 3u);
  // A PROT_NONE fixed mapping over backed pages takes them out of the stub.
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, PROT_NONE, a + 2 * P, true)), a + 2 * P);
  EXPECT_EQ(file_->allocated(), 2 * P);
  EXPECT_EQ(stub().calls.back().kind, StubCall::kUnmap);
  uint8_t byte;
  EXPECT_EQ(mm_->CopyIn(a + 2 * P, &byte, 1).error(), Errno(EFAULT));
}

TEST_F(MmTest, FixedNoReplace) {
  const uint64_t a = 0x10000000;
  MmapOpts o = Anon(2 * P, RW, a);
  o.fixed_noreplace = true;
  EXPECT_EQ(*mm_->Mmap(o), a);
  o.addr = a + P;
  EXPECT_EQ(mm_->Mmap(o).error(), Errno(EEXIST));
  o.addr = a - P;
  EXPECT_EQ(mm_->Mmap(o).error(), Errno(EEXIST));
  o.addr = a + 2 * P;
  EXPECT_EQ(*mm_->Mmap(o), a + 2 * P);
}

TEST_F(MmTest, PlatformFailureLeavesNoVma) {
  stub().fail_next_map = true;
  EXPECT_EQ(mm_->Mmap(Anon(2 * P)).error(), Errno(EIO));
  EXPECT_TRUE(mm_->Vmas().empty());
  EXPECT_EQ(file_->allocated(), 0u);
}

TEST_F(MmTest, MunmapSplitsAndFrees) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(5 * P, RW, a, true)), a);
  Fill(a, 5 * P, 3);
  ASSERT_TRUE(mm_->Munmap(a + 2 * P, P).has_value());
  EXPECT_EQ(stub().calls.back(),
            (StubCall{StubCall::kUnmap, a + 2 * P, P, 0, 0}));
  EXPECT_EQ(file_->allocated(), 4 * P);
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 2u);
  EXPECT_EQ(vmas[0].end, a + 2 * P);
  EXPECT_EQ(vmas[1].start, a + 3 * P);
  std::vector<uint8_t> buf(3 * P);
  EXPECT_EQ(mm_->CopyIn(a + P, buf.data(), buf.size()).error(), Errno(EFAULT));
  EXPECT_EQ(Read(a + 3 * P, 2 * P), std::vector<uint8_t>(2 * P, 3));
  // Partial length rounds up; spanning holes is fine.
  ASSERT_TRUE(mm_->Munmap(a + P, 3 * P - 1).has_value());
  EXPECT_EQ(file_->allocated(), 2 * P);
}

TEST_F(MmTest, MunmapChecks) {
  EXPECT_EQ(mm_->Munmap(0x10000001, P).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Munmap(0x10000000, 0).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Munmap(0x10000000, ~uint64_t{0}).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Munmap(0x7ffffffff000, 2 * P).error(), Errno(EINVAL));
  // Nothing mapped: success, and nothing to tell the stub.
  EXPECT_TRUE(mm_->Munmap(0x10000000, 100 * P).has_value());
  EXPECT_TRUE(mm_->Munmap(mm_->max_address(), P).has_value());
  EXPECT_TRUE(stub().calls.empty());
}

TEST_F(MmTest, MunmapTellsTheStubOnlyAboutMappedSpans) {
  ASSERT_EQ(*mm_->Mmap(Anon(2 * P, RW, kMinUserAddress, true)),
            kMinUserAddress);
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_NONE, kMinUserAddress + 2 * P, true)),
            kMinUserAddress + 2 * P);
  // The platform refuses addresses below kMinUserAddress; munmap(2) not.
  ASSERT_TRUE(mm_->Munmap(0, 0x100000).has_value());
  EXPECT_EQ(stub().calls.back(),
            (StubCall{StubCall::kUnmap, kMinUserAddress, 2 * P, 0, 0}));
  EXPECT_TRUE(mm_->Vmas().empty());
  EXPECT_EQ(file_->allocated(), 0u);
}

TEST_F(MmTest, BackingIsReusedAndZeroed) {
  uint64_t a = *mm_->Mmap(Anon(2 * P));
  uint64_t off = stub().calls.back().offset;
  Fill(a, 2 * P, 9);
  ASSERT_TRUE(mm_->Munmap(a, 2 * P).has_value());
  EXPECT_EQ(file_->allocated(), 0u);
  uint64_t b = *mm_->Mmap(Anon(2 * P));
  EXPECT_EQ(stub().calls.back().offset, off);
  EXPECT_EQ(Read(b, 2 * P), std::vector<uint8_t>(2 * P, 0));
}

TEST_F(MmTest, MprotectSplitsAndProtects) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(4 * P, RW, a, true)), a);
  Fill(a, 4 * P, 5);
  ASSERT_TRUE(mm_->Mprotect(a + P, 2 * P, PROT_READ).has_value());
  EXPECT_EQ(stub().calls.back(),
            (StubCall{StubCall::kProtect, a + P, 2 * P, 0, PROT_READ}));
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 3u);
  EXPECT_EQ(vmas[1].prot, PROT_READ);
  uint8_t x = 1;
  EXPECT_EQ(mm_->CopyOut(a + P, &x, 1).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyOut(a + P - 1, "ab", 2).error(), Errno(EFAULT));
  EXPECT_EQ(Read(a + P, 1), std::vector<uint8_t>{5});
  // The loader's way in: ignores protection.
  EXPECT_TRUE(mm_->WriteForce(a + P - 1, "ab", 2).has_value());
  EXPECT_EQ(Read(a + P - 1, 2), (std::vector<uint8_t>{'a', 'b'}));
  // Back to RW over all of it: one Protect for the adjacent pieces.
  ASSERT_TRUE(mm_->Mprotect(a, 4 * P, RW).has_value());
  EXPECT_EQ(stub().calls.back(),
            (StubCall{StubCall::kProtect, a, 4 * P, 0, RW}));
  EXPECT_EQ(mm_->Vmas().size(), 1u);  // shown merged, as Linux would
}

TEST_F(MmTest, MprotectChecks) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a, true)), a);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a + 2 * P, true)), a + 2 * P);
  size_t calls = stub().calls.size();
  EXPECT_EQ(mm_->Mprotect(a + 1, P, PROT_READ).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mprotect(a, P, 0x100).error(), Errno(EINVAL));
  EXPECT_EQ(mm_->Mprotect(a, P, PROT_GROWSDOWN | PROT_GROWSUP).error(),
            Errno(EINVAL));
  EXPECT_EQ(mm_->Mprotect(a, P, PROT_READ | PROT_GROWSDOWN).error(),
            Errno(EINVAL));  // not a grows-down VMA
  EXPECT_EQ(mm_->Mprotect(a, 3 * P, PROT_READ).error(), Errno(ENOMEM));
  EXPECT_EQ(mm_->Mprotect(a - P, P, PROT_READ).error(), Errno(ENOMEM));
  EXPECT_EQ(mm_->Mprotect(a, ~uint64_t{0}, PROT_READ).error(), Errno(ENOMEM));
  EXPECT_TRUE(mm_->Mprotect(a, 0, PROT_READ).has_value());
  EXPECT_EQ(stub().calls.size(), calls) << "failed calls change nothing";
  EXPECT_EQ(mm_->Vmas()[0].prot, RW);
}

TEST_F(MmTest, MprotectGrowsDownExtendsToTheVmaStart) {
  MmapOpts o = Anon(4 * P, RW, 0x10000000, true);
  o.grows_down = true;
  ASSERT_TRUE(mm_->Mmap(o).has_value());
  ASSERT_TRUE(mm_->Mprotect(0x10000000 + 3 * P, P, PROT_READ | PROT_GROWSDOWN)
                  .has_value());
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].prot, PROT_READ);
}

TEST_F(MmTest, ProtNoneKeepsTheData) {
  uint64_t a = *mm_->Mmap(Anon(2 * P));
  Fill(a, 2 * P, 0x42);
  ASSERT_TRUE(mm_->Mprotect(a, 2 * P, PROT_NONE).has_value());
  EXPECT_EQ(stub().calls.back().prot, PROT_NONE);
  uint8_t b;
  EXPECT_EQ(mm_->CopyIn(a, &b, 1).error(), Errno(EFAULT));
  EXPECT_EQ(IoBlocksOf(*mm_, a, 1, Access::kRead).error(), Errno(EFAULT));
  ASSERT_TRUE(mm_->Mprotect(a, 2 * P, PROT_READ).has_value());
  EXPECT_EQ(Read(a, 2 * P), std::vector<uint8_t>(2 * P, 0x42));
}

TEST_F(MmTest, HugeProtNoneReservationCostsNothing) {
  const uint64_t len = uint64_t{64} << 30;
  uint64_t a = *mm_->Mmap(Anon(len, PROT_NONE));
  EXPECT_EQ(file_->allocated(), 0u);
  EXPECT_TRUE(stub().calls.empty());
  uint8_t b;
  EXPECT_EQ(mm_->CopyIn(a, &b, 1).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->WriteForce(a, &b, 1).error(), Errno(EFAULT));
  // Making a piece accessible backs just that piece.
  const uint64_t mid = a + (len / 2);
  ASSERT_TRUE(mm_->Mprotect(mid, 2 * P, RW).has_value());
  EXPECT_EQ(file_->allocated(), 2 * P);
  ASSERT_EQ(stub().calls.size(), 1u);
  EXPECT_EQ(stub().calls[0].kind, StubCall::kMapFile);
  EXPECT_EQ(stub().calls[0].addr, mid);
  EXPECT_EQ(stub().calls[0].len, 2 * P);
  Fill(mid, 2 * P, 1);
  EXPECT_EQ(mm_->Vmas().size(), 3u);
  // MAP_FIXED inside the reservation, then unmapping all of it.
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a + P, true)), a + P);
  EXPECT_EQ(file_->allocated(), 3 * P);
  ASSERT_TRUE(mm_->Munmap(a, len).has_value());
  EXPECT_EQ(file_->allocated(), 0u);
  EXPECT_TRUE(mm_->Vmas().empty());
}

TEST_F(MmTest, CopiesCrossVmaBoundaries) {
  const uint64_t a = 0x10000000;
  // Mapped high page first, so the backing is not contiguous in the file.
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a + P, true)), a + P);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a, true)), a);
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = i;
  ASSERT_TRUE(mm_->CopyOut(a + P - 50, data.data(), 100).has_value());
  EXPECT_EQ(Read(a + P - 50, 100), data);
  auto blocks = *IoBlocksOf(*mm_, a + P - 50, 100, Access::kWrite);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].iov_len, 50u);
  EXPECT_EQ(blocks[1].iov_len, 50u);
  EXPECT_EQ(memcmp(blocks[1].iov_base, data.data() + 50, 50), 0);
}

TEST_F(MmTest, IoBlocksMergeWhenContiguousInTheFile) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a, true)), a);
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a + P, true)), a + P);
  auto blocks = *IoBlocksOf(*mm_, a + 10, 2 * P - 20, Access::kRead);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].iov_len, 2 * P - 20);
}

TEST_F(MmTest, IoBlocksStopAtTheFirstInaccessibleByte) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a, true)), a);
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_READ, a + P, true)), a + P);
  auto w = *IoBlocksOf(*mm_, a + 100, 2 * P, Access::kWrite);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].iov_len, P - 100);
  auto r = *IoBlocksOf(*mm_, a + 100, 4 * P, Access::kRead);
  uint64_t total = 0;
  for (auto& v : r) total += v.iov_len;
  EXPECT_EQ(total, 2 * P - 100);
  EXPECT_EQ(IoBlocksOf(*mm_, a + P, 1, Access::kWrite).error(), Errno(EFAULT));
  EXPECT_EQ(IoBlocksOf(*mm_, a + 2 * P, 1, Access::kRead).error(), Errno(EFAULT));
  EXPECT_TRUE(IoBlocksOf(*mm_, a + 2 * P, 0, Access::kRead)->empty());
  EXPECT_EQ(IoBlocksOf(*mm_, ~uint64_t{0} - 5, 10, Access::kRead).error(),
            Errno(EFAULT));
}

TEST_F(MmTest, CopyFaults) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_WRITE, a, true)), a);
  ASSERT_EQ(*mm_->Mmap(Anon(P, PROT_EXEC, a + P, true)), a + P);
  uint8_t buf[16] = {};
  // x86: writable or executable pages are readable.
  EXPECT_TRUE(mm_->CopyIn(a, buf, 16).has_value());
  EXPECT_TRUE(mm_->CopyIn(a + P, buf, 16).has_value());
  EXPECT_EQ(mm_->CopyOut(a + P, buf, 16).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(a + 2 * P - 8, buf, 16).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(a - 8, buf, 16).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(0, buf, 1).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyIn(~uint64_t{0} - 3, buf, 8).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyOut(~uint64_t{0} - 3, buf, 8).error(), Errno(EFAULT));
  EXPECT_TRUE(mm_->CopyIn(0, buf, 0).has_value());
  // Typed helpers and UserPtr overflow.
  ASSERT_TRUE(mm_->CopyOutObj(UserPtr<uint64_t>(a + 8), uint64_t{77}));
  EXPECT_EQ(*mm_->CopyInObj(UserPtr<uint64_t>(a) + 1), 77u);
  EXPECT_EQ(mm_->CopyInObj(UserPtr<uint64_t>(a) + (~uint64_t{0} / 4)).error(),
            Errno(EFAULT));
}

TEST_F(MmTest, CopyInString) {
  const uint64_t a = 0x10000000;
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a, true)), a);
  // A string ending right at the end of the mapping: the byte after the
  // NUL is unmapped and must not be touched.
  const char s[] = "hello";
  ASSERT_TRUE(mm_->CopyOut(a + P - sizeof(s), s, sizeof(s)).has_value());
  EXPECT_EQ(*mm_->CopyInString(a + P - sizeof(s), 100), "hello");
  EXPECT_EQ(*mm_->CopyInString(a + P - sizeof(s), 5), "hello");
  EXPECT_EQ(mm_->CopyInString(a + P - sizeof(s), 4).error(),
            Errno(ENAMETOOLONG));
  EXPECT_EQ(*mm_->CopyInString(a + P - 1, 5), "");
  // No NUL before the end of the mapping.
  ASSERT_TRUE(mm_->CopyOut(a + P - 3, "abc", 3).has_value());
  EXPECT_EQ(mm_->CopyInString(a + P - 3, 100).error(), Errno(EFAULT));
  // max_len bytes then an unmapped page: too long, whatever follows.
  EXPECT_EQ(mm_->CopyInString(a + P - 3, 3).error(), Errno(ENAMETOOLONG));
  EXPECT_EQ(mm_->CopyInString(a + 2 * P, 10).error(), Errno(EFAULT));
  EXPECT_EQ(mm_->CopyInString(~uint64_t{0}, 10).error(), Errno(EFAULT));
  // Across two VMAs.
  ASSERT_EQ(*mm_->Mmap(Anon(P, RW, a + P, true)), a + P);
  ASSERT_TRUE(mm_->CopyOut(a + P, "def", 4).has_value());
  EXPECT_EQ(*mm_->CopyInString(a + P - 3, 100), "abcdef");
}

TEST_F(MmTest, Brk) {
  mm_->SetBrkBase(0x10000123);
  const uint64_t base = 0x10001000;
  EXPECT_EQ(mm_->Brk(0), base);
  EXPECT_TRUE(mm_->Vmas().empty());
  EXPECT_EQ(mm_->Brk(base + 100), base + 100);
  auto vmas = mm_->Vmas();
  ASSERT_EQ(vmas.size(), 1u);
  EXPECT_EQ(vmas[0].name, "[heap]");
  EXPECT_EQ(vmas[0].start, base);
  EXPECT_EQ(vmas[0].end, base + P);
  EXPECT_EQ(vmas[0].prot, RW);
  Fill(base, 100, 8);
  EXPECT_EQ(mm_->Brk(base + 3 * P), base + 3 * P);
  EXPECT_EQ(mm_->Brk(0), base + 3 * P);
  Fill(base + 100, 3 * P - 100, 9);
  EXPECT_EQ(file_->allocated(), 3 * P);
  // Shrinking unmaps; growing again gives zeroed pages.
  EXPECT_EQ(mm_->Brk(base + P + 1), base + P + 1);
  EXPECT_EQ(file_->allocated(), 2 * P);
  EXPECT_EQ(mm_->Brk(base + 3 * P), base + 3 * P);
  EXPECT_EQ(Read(base + 2 * P, P), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(Read(base, 100), std::vector<uint8_t>(100, 8));
  EXPECT_EQ(mm_->Vmas().size(), 1u);
  // Below the base: unchanged.
  EXPECT_EQ(mm_->Brk(base - 1), base + 3 * P);
  // Into another mapping (or its guard page): fails, break unchanged.
  ASSERT_TRUE(mm_->Mmap(Anon(P, RW, base + 10 * P, true)).has_value());
  EXPECT_EQ(mm_->Brk(base + 10 * P), base + 3 * P);
  EXPECT_EQ(mm_->Brk(base + 9 * P + 1), base + 3 * P);
  EXPECT_EQ(mm_->Brk(base + 9 * P), base + 9 * P);
  EXPECT_EQ(mm_->Brk(~uint64_t{0}), base + 9 * P);
  EXPECT_EQ(mm_->Brk(base), base);
  EXPECT_EQ(file_->allocated(), P);
}

TEST_F(MmTest, BrkBeforeBaseIsSetDoesNothing) {
  EXPECT_EQ(mm_->Brk(0x10000000), 0u);
  EXPECT_TRUE(mm_->Vmas().empty());
}

TEST_F(MmTest, ConcurrentUseIsSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 200; ++i) {
        auto a = mm_->Mmap(Anon((t + 1) * P));
        ASSERT_TRUE(a.has_value());
        uint64_t v = i;
        ASSERT_TRUE(mm_->CopyOut(*a, &v, 8).has_value());
        ASSERT_EQ(*mm_->CopyInObj(UserPtr<uint64_t>(*a)), v);
        ASSERT_TRUE(mm_->Munmap(*a, (t + 1) * P).has_value());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(file_->allocated(), 0u);
}

TEST_F(MmTest, GrowsDownVmaGrowsOnAFaultBelowIt) {
  // A free area with the stack at its top.
  const uint64_t base = *mm_->Mmap(Anon(1024 * P, PROT_NONE));
  ASSERT_TRUE(mm_->Munmap(base, 1024 * P).has_value());
  MmapOpts o = Anon(P, RW, base + 1023 * P, /*fixed=*/true);
  o.grows_down = true;
  const uint64_t stack = *mm_->Mmap(o);
  // Down to 100 pages below: within an RLIMIT_STACK of 200 pages.
  using Fault = MemoryManager::Fault;
  uint64_t changes;
  EXPECT_EQ(mm_->HandleFault(stack - 100 * P + 5, 200 * P, &changes),
            Fault::kResolved);
  Fill(stack - 100 * P, P, 0x12);
  EXPECT_EQ(Read(stack - 100 * P, 1)[0], 0x12);
  EXPECT_EQ(Read(stack - 50 * P, 1)[0], 0);  // all of it is there, zero
  auto vmas = mm_->Vmas();
  EXPECT_TRUE(std::any_of(vmas.begin(), vmas.end(), [&](const VmaInfo& v) {
    return v.start == stack - 100 * P && v.end == stack + P;
  }));
  // Not beyond the limit, counted from the top of the whole stack.
  EXPECT_EQ(mm_->HandleFault(stack - 300 * P, 200 * P, &changes),
            Fault::kAppError);
  // Nor closer than the guard gap to an accessible VMA below.
  uint64_t low = *mm_->Mmap(Anon(P, RW, base, /*fixed=*/true));
  EXPECT_EQ(mm_->HandleFault(low + 2 * P, kNoStackLimit, &changes),
            Fault::kAppError);
  // An ordinary VMA does not grow.
  EXPECT_EQ(mm_->HandleFault(low - P, kNoStackLimit, &changes),
            Fault::kAppError);
}

}  // namespace
}  // namespace mm::testing