// mincore(2).
#include <sys/syscall.h>

#include <algorithm>
#include <vector>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// Mincore implements Linux syscall mincore(2).
Result<void> Mincore(Task& t, uint64_t addr, uint64_t length,
                     UserPtr<uint8_t> vec) {
  constexpr uint64_t kPage = mm::kPageSize;
  if (addr % kPage != 0) return Err(EINVAL);
  // Linux's access_ok: the range must lie below TASK_SIZE.
  uint64_t end;
  if (__builtin_add_overflow(addr, length, &end) || end > mm::kTaskSizeMax)
    return Err(ENOMEM);
  uint64_t pages = length / kPage + (length % kPage != 0);
  // A page of the vector at a time, as Linux: the sentry's buffer stays
  // small whatever the length.
  constexpr uint64_t kChunk = 4096;
  std::vector<uint8_t> buf;
  for (uint64_t done = 0; done < pages;) {
    const uint64_t n = std::min(kChunk, pages - done);
    TRY(t.mm().Mincore(addr + done * kPage, n, buf));
    TRY(t.mm().CopyOut(vec.addr + done, buf.data(), n));
    done += n;
  }
  return {};
}

}  // namespace

void RegisterMincore(Registrar& r) {
  r.Partial<&Mincore>(SYS_mincore,
                      "anonymous and shared memory as Linux (a page is "
                      "resident once touched); file mappings are copies "
                      "made at mmap time, so their pages show resident");
}

}  // namespace syscalls
