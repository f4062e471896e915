// Test-only: a MemoryManager on a fake platform, with checks that the
// stub model matches the VMAs.
#ifndef SENTRY_MM_TEST_FIXTURE_H_
#define SENTRY_MM_TEST_FIXTURE_H_

#include <sys/mman.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sentry/mm/fake_platform.h"
#include "sentry/mm/memory_file.h"
#include "sentry/mm/memory_manager.h"

namespace mm::testing {

inline constexpr uint64_t P = kPageSize;
inline constexpr int RW = PROT_READ | PROT_WRITE;
// HandleFault without an RLIMIT_STACK.
inline constexpr uint64_t kNoStackLimit = ~uint64_t{0};

// The blocks WithIoBlocks would hand to a transfer of [addr, addr+len).
// The pointers stay valid only while the test changes nothing.
inline base::Result<std::vector<iovec>> IoBlocksOf(MemoryManager& mm,
                                                   uint64_t addr, uint64_t len,
                                                   Access access) {
  std::vector<iovec> out;
  const UserRange range{addr, len};
  TRY(mm.WithIoBlocks(std::span(&range, 1), access,
                      [&](std::span<const iovec> blocks) -> base::Result<size_t> {
                        out.assign(blocks.begin(), blocks.end());
                        return 0;
                      }));
  return out;
}

inline MmapOpts Anon(uint64_t len, int prot = RW, uint64_t addr = 0,
                     bool fixed = false) {
  MmapOpts o;
  o.length = len;
  o.prot = prot;
  o.addr = addr;
  o.fixed = fixed;
  return o;
}

class MmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = *MemoryFile::Create(uint64_t{1} << 38);
    mm_ = *MemoryManager::Create(*file_, platform_);
  }
  void TearDown() override {
    ExpectStubMatchesVmas();
    mm_.reset();
    EXPECT_EQ(file_->allocated(), 0u) << "the destructor frees all backing";
  }

  FakeStub& stub() { return platform_.stub(); }

  // Every accessible VMA page is mapped in the stub with the VMA's prot
  // (without PROT_WRITE while copy-on-write), at the memory file offset the
  // sentry itself reads through, except file pages past EOF, which are
  // not mapped at all; nothing is mapped in the stub outside the VMAs.
  void ExpectStubMatchesVmas() {
    auto vmas = mm_->Vmas();
    for (const VmaInfo& v : vmas) {
      if (v.prot == PROT_NONE) continue;  // may be huge and unbacked
      for (uint64_t a = v.start; a < v.end; a += P) {
        if (mm_->IsBeyondEof(a)) {
          uint64_t off;
          int prot;
          EXPECT_FALSE(stub().Lookup(a, &off, &prot)) << std::hex << a;
          EXPECT_FALSE(IoBlocksOf(*mm_, a, 1, Access::kRead).has_value());
          continue;
        }
        uint64_t off;
        int prot;
        ASSERT_TRUE(stub().Lookup(a, &off, &prot)) << std::hex << a;
        EXPECT_EQ(prot, StubProt(a, v.prot)) << std::hex << a;
        auto blocks = *IoBlocksOf(*mm_, a, 1, Access::kRead);
        EXPECT_EQ(static_cast<uint8_t*>(blocks[0].iov_base),
                  file_->base() + off)
            << std::hex << a;
      }
    }
    auto vma_prot = [&](uint64_t a) {
      for (const VmaInfo& v : vmas)
        if (v.start <= a && a < v.end) return StubProt(a, v.prot);
      return -1;
    };
    for (const auto& [start, seg] : stub().segments)
      for (uint64_t a = start; a < seg.end; a += P)
        EXPECT_EQ(vma_prot(a), seg.prot) << "stub page " << std::hex << a;
  }

  int StubProt(uint64_t a, int prot) {
    return mm_->IsCopyOnWrite(a) ? prot & ~PROT_WRITE : prot;
  }

  std::vector<uint8_t> Read(uint64_t addr, size_t n) {
    std::vector<uint8_t> v(n);
    auto r = mm_->CopyIn(addr, v.data(), n);
    EXPECT_TRUE(r.has_value()) << std::hex << addr;
    return v;
  }
  void Fill(uint64_t addr, size_t n, uint8_t byte) {
    std::vector<uint8_t> v(n, byte);
    ASSERT_TRUE(mm_->CopyOut(addr, v.data(), n).has_value());
  }

  FakePlatform platform_;
  std::unique_ptr<MemoryFile> file_;
  std::unique_ptr<MemoryManager> mm_;
};

}  // namespace mm::testing

#endif  // SENTRY_MM_TEST_FIXTURE_H_
