// Shared fixture of the systrap platform tests: one platform (and memory
// file) for the whole binary, created before any test thread exists; a
// fresh address space and context per test. Programs come from
// platform/ptrace/test_programs.S.
#ifndef PLATFORM_SYSTRAP_TEST_FIXTURE_H_
#define PLATFORM_SYSTRAP_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "base/unique_fd.h"
#include "platform/platform.h"
#include "platform/systrap/systrap_platform.h"

struct Program {
  const char* begin;
  const char* end;
};
#define DECLARE_PROGRAM(name)                                         \
  extern "C" __attribute__((visibility("hidden"))) const char name[]; \
  extern "C" __attribute__((visibility("hidden"))) const char name##_end[]
#define PROGRAM(name) (Program{name, name##_end})

namespace platform::systrap {

inline const char* KindName(Trap::Kind kind) {
  switch (kind) {
    case Trap::Kind::kSyscall:
      return "kSyscall";
    case Trap::Kind::kPageFault:
      return "kPageFault";
    case Trap::Kind::kSignal:
      return "kSignal";
    case Trap::Kind::kInterrupt:
      return "kInterrupt";
    case Trap::Kind::kDead:
      return "kDead";
  }
  return "?";
}

class SystrapTest : public ::testing::Test {
 public:
  static constexpr uint64_t kMemSize = 64 << 20;
  static constexpr uint64_t kPage = 4096;
  static constexpr uint64_t kCodeAddr = 0x400000, kCodeOffset = 0;
  static constexpr uint64_t kDataAddr = 0x600000, kDataOffset = 0x10000;
  static constexpr uint64_t kSpareAddr = 0x700000, kSpareOffset = 0x20000;

  static void SetUpTestSuite() {
    if (platform_ != nullptr) return;
    memfd_ = base::UniqueFd(memfd_create("systrap_test", MFD_CLOEXEC));
    ASSERT_TRUE(memfd_.valid());
    ASSERT_EQ(ftruncate(memfd_.get(), kMemSize), 0);
    void* mem = mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                     memfd_.get(), 0);
    ASSERT_NE(mem, MAP_FAILED);
    mem_ = static_cast<char*>(mem);
    auto platform = Platform::Create("systrap", memfd_.get());
    ASSERT_TRUE(platform.has_value()) << platform.error().value;
    platform_ = static_cast<SystrapPlatform*>(platform->release());
  }

 protected:
  void SetUp() override {
    ASSERT_NE(platform_, nullptr);
    auto as = platform_->NewAddressSpace();
    ASSERT_TRUE(as.has_value()) << as.error().value;
    as_ = std::move(*as);
    ctx_ = platform_->NewContext();
  }
  void TearDown() override {
    ctx_.reset();
    as_.reset();
  }

  SystrapAddressSpace& sas() { return static_cast<SystrapAddressSpace&>(*as_); }
  SystrapContext& sctx() { return static_cast<SystrapContext&>(*ctx_); }

  // Maps `program` r-x at kCodeAddr and a zeroed rw page at kDataAddr.
  Registers Load(Program program) {
    const size_t size = program.end - program.begin;
    EXPECT_LE(size, kPage);
    memset(mem_ + kCodeOffset, 0xcc, kPage);
    memcpy(mem_ + kCodeOffset, program.begin, size);
    memset(mem_ + kDataOffset, 0, kPage);
    EXPECT_TRUE(
        as_->MapFile(kCodeAddr, kPage, kCodeOffset, PROT_READ | PROT_EXEC)
            .has_value());
    EXPECT_TRUE(
        as_->MapFile(kDataAddr, kPage, kDataOffset, PROT_READ | PROT_WRITE)
            .has_value());
    Registers regs{};
    regs.rip = kCodeAddr;
    regs.rsp = kDataAddr + kPage;
    return regs;
  }

  uint64_t& DataWord(size_t index) {
    return reinterpret_cast<uint64_t*>(mem_ + kDataOffset)[index];
  }

  static inline base::UniqueFd memfd_;
  static inline char* mem_ = nullptr;
  static inline SystrapPlatform* platform_ = nullptr;
  std::unique_ptr<AddressSpace> as_;
  std::unique_ptr<Context> ctx_;
};

}  // namespace platform::systrap

#endif  // PLATFORM_SYSTRAP_TEST_FIXTURE_H_
