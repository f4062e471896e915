// platform::AppMemory: what the platform may ask of an address space
// besides mirroring it. systrap's syscall patching rewrites app text
// (platform/README.md, "Syscall patching").
#include <sys/mman.h>

#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

// Under mu_ exclusively, so that the range cannot be unmapped, moved or
// shared by a fork between the check and `fn`: `fn` sees the bytes the
// app executes. Private memory only: a shared mapping's bytes are other
// processes' (or a file's) too.
bool MemoryManager::EditPrivateText(uint64_t addr, size_t len,
                                    const std::function<void(uint8_t*)>& fn) {
  uint64_t last;
  if (len == 0 || __builtin_add_overflow(addr, len - 1, &last) ||
      internal::PageDown(addr) != internal::PageDown(last))
    return false;
  const uint64_t page = internal::PageDown(addr);
  ChangeLock lock(this);
  auto it = FindLocked(addr);
  if (it == vmas_.end() || it->second.shared || !it->second.backed ||
      !(it->second.prot & PROT_EXEC))
    return false;
  if (it->second.cow) {
    if (!BreakCowLocked(page, page + kPageSize, false)) return false;
    it = FindLocked(addr);
    if (it == vmas_.end() || it->second.cow) return false;
  }
  fn(file_.base() + it->second.file_offset + (addr - it->first));
  return true;
}

bool MemoryManager::MapPlatformArea(uint64_t addr, uint64_t len,
                                    const char* name) {
  MmapOpts opts;
  opts.addr = addr;
  opts.length = len;
  opts.prot = PROT_READ | PROT_EXEC;
  opts.fixed_noreplace = true;
  opts.name = name;
  auto r = Mmap(opts);
  return r && *r == addr;
}

}  // namespace mm
