// MemoryManager: mincore(2).
#include <sys/mman.h>

#include <algorithm>

#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

base::Result<void> MemoryManager::Mincore(uint64_t addr, uint64_t pages,
                                          std::vector<uint8_t>& vec) const {
  vec.assign(pages, 0);
  if (pages == 0) return {};
  absl::ReaderMutexLock lock(&mu_);
  const uint64_t end = addr + pages * kPageSize;  // the caller checked
  auto it = vmas_.upper_bound(addr);
  if (it != vmas_.begin() && std::prev(it)->second.end > addr) --it;
  for (uint64_t a = addr; a < end; ++it) {
    // A hole anywhere is ENOMEM, as Linux's do_mincore.
    if (it == vmas_.end() || it->first > a) return base::Err(ENOMEM);
    const Vma& vma = it->second;
    const uint64_t e = std::min(end, vma.end);
    // Unbacked memory (PROT_NONE reservations, pages past EOF) has no
    // page. Backed pages are resident once the memory file holds them:
    // its pages stay holes until first written (by the app, a fault, or
    // the sentry filling a file mapping), so the host's mincore on the
    // sentry's view of the memory file tells, as Linux tells for
    // anonymous memory.
    if (vma.backed) {
      uint8_t* const view = file_.base() + vma.file_offset + (a - it->first);
      if (::mincore(view, e - a, &vec[(a - addr) / kPageSize]) != 0) {
        return base::Err(errno);  // never: the view maps the memory file
      }
      for (uint64_t i = (a - addr) / kPageSize; i < (e - addr) / kPageSize;
           ++i) {
        vec[i] &= 1;  // the other bits are reserved
      }
    }
    a = e;
  }
  return {};
}

}  // namespace mm
