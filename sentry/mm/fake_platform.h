// Test-only: a Platform whose address spaces record every call and keep a
// model of what the stub would have mapped, so tests can check that the
// MemoryManager mirrors its VMAs correctly.
#ifndef SENTRY_MM_FAKE_PLATFORM_H_
#define SENTRY_MM_FAKE_PLATFORM_H_

#include <sys/mman.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <vector>

#include "platform/platform.h"

namespace mm::testing {

struct StubCall {
  enum Kind { kMapFile, kUnmap, kProtect } kind;
  uint64_t addr, len, offset;  // offset: kMapFile only
  int prot;                    // kMapFile and kProtect
  friend bool operator==(const StubCall&, const StubCall&) = default;
};

// What the stub process would have mapped: start -> segment.
struct StubSegment {
  uint64_t end, offset;
  int prot;
};

class FakeStub {
 public:
  explicit FakeStub(uint64_t max_address) : max_address_(max_address) {}

  std::vector<StubCall> calls;
  std::map<uint64_t, StubSegment> segments;
  bool fail_next_map = false;

  base::Result<void> MapFile(uint64_t addr, uint64_t len, uint64_t off,
                             int prot) {
    calls.push_back({StubCall::kMapFile, addr, len, off, prot});
    TRY(CheckRange(addr, len));
    if (off % 4096 != 0) return base::Err(EINVAL);
    if (fail_next_map) {
      fail_next_map = false;
      return base::Err(EIO);
    }
    Remove(addr, addr + len);
    segments[addr] = {addr + len, off, prot};
    return {};
  }
  base::Result<void> Unmap(uint64_t addr, uint64_t len) {
    calls.push_back({StubCall::kUnmap, addr, len, 0, 0});
    TRY(CheckRange(addr, len));
    Remove(addr, addr + len);
    return {};
  }
  // Like mprotect(2) in the stub: ENOMEM if any page is not mapped, which
  // catches a MemoryManager that forgot to map something.
  base::Result<void> Protect(uint64_t addr, uint64_t len, int prot) {
    calls.push_back({StubCall::kProtect, addr, len, 0, prot});
    TRY(CheckRange(addr, len));
    uint64_t end = addr + len;
    for (uint64_t a = addr; a < end;) {
      auto it = Find(a);
      if (it == segments.end()) return base::Err(ENOMEM);
      a = it->second.end;
    }
    Split(addr);
    Split(end);
    for (auto it = segments.lower_bound(addr);
         it != segments.end() && it->first < end; ++it)
      it->second.prot = prot;
    return {};
  }

  // The segment containing addr, or end().
  std::map<uint64_t, StubSegment>::iterator Find(uint64_t addr) {
    auto it = segments.upper_bound(addr);
    if (it == segments.begin()) return segments.end();
    --it;
    return addr < it->second.end ? it : segments.end();
  }
  // Memory-file offset and prot of the page at addr, if mapped.
  bool Lookup(uint64_t addr, uint64_t* offset, int* prot) {
    auto it = Find(addr);
    if (it == segments.end()) return false;
    *offset = it->second.offset + (addr - it->first);
    *prot = it->second.prot;
    return true;
  }

 private:
  // As strict as the ptrace platform: page aligned, non-empty, inside
  // [0x10000, max_address).
  base::Result<void> CheckRange(uint64_t addr, uint64_t len) const {
    if (len == 0 || addr % 4096 != 0 || len % 4096 != 0 || addr < 0x10000 ||
        addr > max_address_ || len > max_address_ - addr)
      return base::Err(EINVAL);
    return {};
  }
  void Split(uint64_t addr) {
    auto it = Find(addr);
    if (it == segments.end() || it->first == addr) return;
    StubSegment tail = it->second;
    tail.offset += addr - it->first;
    it->second.end = addr;
    segments[addr] = tail;
  }
  void Remove(uint64_t start, uint64_t end) {
    Split(start);
    Split(end);
    for (auto it = segments.lower_bound(start);
         it != segments.end() && it->first < end;)
      it = segments.erase(it);
  }

  uint64_t max_address_;
};

class FakeAddressSpace : public platform::AddressSpace {
 public:
  explicit FakeAddressSpace(std::shared_ptr<FakeStub> stub)
      : stub_(std::move(stub)) {}
  base::Result<void> MapFile(uint64_t addr, uint64_t len, uint64_t off,
                             int prot) override {
    return stub_->MapFile(addr, len, off, prot);
  }
  base::Result<void> Unmap(uint64_t addr, uint64_t len) override {
    return stub_->Unmap(addr, len);
  }
  base::Result<void> Protect(uint64_t addr, uint64_t len, int prot) override {
    return stub_->Protect(addr, len, prot);
  }

 private:
  std::shared_ptr<FakeStub> stub_;
};

class FakePlatform : public platform::Platform {
 public:
  explicit FakePlatform(uint64_t max_user_address = 0x7f0000000000)
      : max_(max_user_address) {}
  std::string_view Name() const override { return "fake"; }
  uint64_t MaxUserAddress() const override { return max_; }
  base::Result<std::unique_ptr<platform::AddressSpace>> NewAddressSpace()
      override {
    stub_ = std::make_shared<FakeStub>(max_);
    return std::unique_ptr<platform::AddressSpace>(
        std::make_unique<FakeAddressSpace>(stub_));
  }
  std::unique_ptr<platform::Context> NewContext() override { return nullptr; }

  // The stub of the most recently created address space.
  FakeStub& stub() { return *stub_; }

 private:
  uint64_t max_;
  std::shared_ptr<FakeStub> stub_;
};

}  // namespace mm::testing

#endif  // SENTRY_MM_FAKE_PLATFORM_H_
