// Helpers shared by the memory manager's source files. Not an interface.
#ifndef SENTRY_MM_INTERNAL_H_
#define SENTRY_MM_INTERNAL_H_

#include <sys/mman.h>

#include <cstdint>

#include "base/result.h"
#include "platform/platform.h"
#include "sentry/mm/mappable.h"
#include "sentry/mm/memory_file.h"

namespace mm::internal {

inline constexpr int kProtMask = PROT_READ | PROT_WRITE | PROT_EXEC;
// Linux keeps this much free below a MAP_GROWSDOWN VMA (stack_guard_gap).
inline constexpr uint64_t kStackGuardGap = 256 * kPageSize;

inline bool PageAligned(uint64_t x) { return x % kPageSize == 0; }
inline uint64_t PageDown(uint64_t x) { return x & ~(kPageSize - 1); }
// Rounds up to a page; false on overflow.
inline bool PageUp(uint64_t x, uint64_t* out) {
  if (x > ~uint64_t{0} - (kPageSize - 1)) return false;
  *out = PageDown(x + kPageSize - 1);
  return true;
}

// The file offset where a mapping of `file` stops having bytes to show:
// its size rounded up to a page (Linux raises SIGBUS from there on). A
// file that cannot say is taken as endless.
uint64_t EofPage(Mappable& file);

// On x86 every accessible page is readable.
inline bool Readable(int prot) { return (prot & kProtMask) != 0; }

// Gathers Protect calls for consecutive ranges that get the same
// protection into one: with ptrace every platform call is a round trip to
// the stub.
class ProtectBatch {
 public:
  explicit ProtectBatch(platform::AddressSpace& as) : as_(as) {}
  base::Result<void> Add(uint64_t start, uint64_t end, int prot) {
    if (end_ != start || prot_ != prot) {
      TRY(Flush());
      start_ = start;
      prot_ = prot;
    }
    end_ = end;
    return {};
  }
  base::Result<void> Flush() {
    if (end_ > start_) TRY(as_.Protect(start_, end_ - start_, prot_));
    start_ = end_ = 0;
    return {};
  }

 private:
  platform::AddressSpace& as_;
  uint64_t start_ = 0, end_ = 0;
  int prot_ = 0;
};

}  // namespace mm::internal

#endif  // SENTRY_MM_INTERNAL_H_
