// The fixture shared by the platform tests (ptrace/, systrap/): one
// platform (and memory file) for the whole binary, created before any test
// thread exists; a fresh address space and context per test; the tiny app
// programs of ptrace/test_programs.S loaded into them.
#ifndef PLATFORM_TEST_FIXTURE_H_
#define PLATFORM_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "platform/platform.h"

// A program from test_programs.S.
struct Program {
  const char* begin;
  const char* end;
};
#define DECLARE_PROGRAM(name)                                         \
  extern "C" __attribute__((visibility("hidden"))) const char name[]; \
  extern "C" __attribute__((visibility("hidden"))) const char name##_end[]
#define PROGRAM(name) (Program{name, name##_end})

namespace platform {

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

// `Impl` is the platform class; the memory file is named `<name>_test`
// (the security tests look for it in the stubs' maps).
template <class Impl>
class PlatformFixture : public ::testing::Test {
 public:
  static constexpr uint64_t kMemSize = 64 << 20;
  static constexpr uint64_t kPage = 4096;
  // App addresses and where they live in the memory file.
  static constexpr uint64_t kCodeAddr = 0x400000, kCodeOffset = 0;
  static constexpr uint64_t kDataAddr = 0x600000, kDataOffset = 0x10000;
  static constexpr uint64_t kSpareAddr = 0x700000, kSpareOffset = 0x20000;

  static void CreatePlatform(const char* name) {
    if (platform_ != nullptr) return;
    memfd_ = base::UniqueFd(
        memfd_create((std::string(name) + "_test").c_str(), MFD_CLOEXEC));
    ASSERT_TRUE(memfd_.valid());
    ASSERT_EQ(ftruncate(memfd_.get(), kMemSize), 0);
    void* mem = mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                     memfd_.get(), 0);
    ASSERT_NE(mem, MAP_FAILED);
    mem_ = static_cast<char*>(mem);
    auto platform = Platform::Create(name, memfd_.get());
    ASSERT_TRUE(platform.has_value()) << platform.error().value;
    platform_ = static_cast<Impl*>(platform->release());
  }
  // The platform lives until the process exits: tests in other suites of
  // this binary may start threads, after which Create would refuse.

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

  // Maps `program` r-x at kCodeAddr and a zeroed rw page at kDataAddr;
  // returns zero registers but rip (the program) and rsp (the data page's
  // end).
  Registers Load(Program program) {
    const size_t size = program.end - program.begin;
    EXPECT_LE(size, kPage);
    memset(mem_ + kCodeOffset, 0xcc, kPage);  // int3 filler
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

  // The sentry's view of the data page, through its own mapping.
  uint64_t& DataWord(size_t index) {
    return reinterpret_cast<uint64_t*>(mem_ + kDataOffset)[index];
  }

  static inline base::UniqueFd memfd_;
  static inline char* mem_ = nullptr;
  static inline Impl* platform_ = nullptr;
  std::unique_ptr<AddressSpace> as_;
  std::unique_ptr<Context> ctx_;
};

}  // namespace platform

#endif  // PLATFORM_TEST_FIXTURE_H_
