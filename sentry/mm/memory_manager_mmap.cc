// MemoryManager: mmap(2), munmap(2), mprotect(2).
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

using internal::kProtMask;
using internal::PageAligned;
using internal::PageDown;
using internal::PageUp;

namespace {

// From <asm-generic/mman-common.h>, which clashes with <sys/mman.h>.
constexpr int kProtSem = 0x8;

}  // namespace

base::Result<uint64_t> MemoryManager::Mmap(const MmapOpts& opts) {
  if (opts.length == 0) return base::Err(EINVAL);
  uint64_t len;
  if (!PageUp(opts.length, &len)) return base::Err(ENOMEM);
  // Linux ignores unknown PROT_ bits in mmap (only mprotect rejects them).
  const int prot = opts.prot & kProtMask;

  std::shared_ptr<Mappable> source;
  const int max_prot = opts.max_prot & kProtMask;
  if (opts.backing && (!opts.shared || opts.file)) return base::Err(EINVAL);
  if (opts.file) {
    if (!PageAligned(opts.offset)) return base::Err(EINVAL);
    uint64_t end;
    if (__builtin_add_overflow(opts.offset, len, &end) ||
        end > uint64_t{INT64_MAX})
      return base::Err(EOVERFLOW);
    source = opts.file;
  }
  if (prot & ~max_prot) return base::Err(EACCES);
  if (len > max_address_ - kMinUserAddress) return base::Err(ENOMEM);

  const bool fixed = opts.fixed || opts.fixed_noreplace;
  ChangeLock lock(this);
  uint64_t addr = 0;
  if (fixed) {
    if (opts.addr > max_address_ - len) return base::Err(ENOMEM);
    if (!PageAligned(opts.addr)) return base::Err(EINVAL);
    // Linux says EPERM below mmap_min_addr (security_mmap_addr).
    if (opts.addr < kMinUserAddress) return base::Err(EPERM);
    if (opts.fixed_noreplace && !RangeFreeLocked(opts.addr, opts.addr + len))
      return base::Err(EEXIST);
    addr = opts.addr;
  } else {
    // A hint is used when the whole range is free (Linux rounds a hint
    // below mmap_min_addr up to it).
    uint64_t hint = PageDown(opts.addr);
    if (hint != 0) {
      hint = std::max(hint, kMinUserAddress);
      if (hint <= max_address_ - len && RangeFreeLocked(hint, hint + len))
        addr = hint;
    }
    if (addr == 0) addr = TRY(FindGapLocked(len));
  }

  // Linux's order: mlock rights, then the locked and address-space limits
  // (counting what MAP_FIXED replaces as gone, as Linux does).
  const bool locked = opts.locked || lock_future_;
  if (opts.locked && opts.limits.memlock == 0 && !opts.limits.ipc_lock)
    return base::Err(EPERM);
  if (locked && !MayLockLocked(len, opts.limits)) return base::Err(EAGAIN);
  const uint64_t replaced = fixed ? MappedBytesLocked(addr, addr + len) : 0;
  if (!MayExpandLocked(prot, opts.shared, opts.grows_down, len - replaced,
                       opts.limits))
    return base::Err(ENOMEM);

  // MAP_FIXED replaces: the old VMAs go now, their backing once the stub
  // maps the new pages (or nothing) there.
  Removed old;
  if (fixed) old = RemoveLocked(addr, addr + len);
  const uint64_t source_offset = source ? opts.offset : 0;
  std::string name = opts.name;
  Vma vma{.end = addr + len,
          .prot = prot,
          .shared = opts.shared,
          .grows_down = opts.grows_down,
          .backed = false,
          .cow = false,
          .file_offset = 0,
          .name = std::move(name),
          .max_prot = max_prot,
          .source = std::move(source),
          .source_offset = source_offset,
          .attachment = opts.attachment,
          .locked = locked};
  auto inserted = opts.backing
                      ? InsertBackedLocked(addr, std::move(vma), *opts.backing)
                      : InsertLocked(addr, std::move(vma));
  if (!inserted) {
    TRY(ReleaseLocked(old));
    return std::unexpected(inserted.error());
  }
  if (old.backing.empty()) return addr;
  // MapFile replaced the old pages in the stub where the new VMAs are
  // backed; where they are not (anonymous PROT_NONE, file pages past EOF)
  // the old pages must leave the stub before their backing is freed.
  for (auto it = vmas_.lower_bound(addr);
       it != vmas_.end() && it->first < addr + len; ++it) {
    if (it->second.backed) continue;
    if (auto r = as_->Unmap(it->first, it->second.end - it->first); !r) {
      LOG(Warning) << "mm: platform Unmap failed; leaking backing";
      return std::unexpected(r.error());
    }
  }
  for (const auto& b : old.backing) file_.Free(b.offset, b.len);
  return addr;
}

base::Result<void> MemoryManager::Munmap(uint64_t addr, uint64_t length) {
  if (!PageAligned(addr) || length == 0) return base::Err(EINVAL);
  uint64_t len;
  if (!PageUp(length, &len)) return base::Err(EINVAL);
  if (addr > mm::kTaskSizeMax || len > mm::kTaskSizeMax - addr)
    return base::Err(EINVAL);
  // Nothing is ever mapped at or above max_address_.
  uint64_t end = std::min(addr + len, max_address_);
  if (addr >= end) return {};
  ChangeLock lock(this);
  return UnmapLocked(addr, end);
}

base::Result<void> MemoryManager::Detach(uint64_t addr) {
  if (!PageAligned(addr)) return base::Err(EINVAL);
  ChangeLock lock(this);
  auto it = vmas_.find(addr);
  if (it == vmas_.end() || !it->second.attachment ||
      it->second.file_offset != it->second.attachment->backing())
    return base::Err(EINVAL);
  const Attachment* att = it->second.attachment.get();
  uint64_t size;
  if (!PageUp(att->size(), &size) || size > max_address_ - addr)
    size = max_address_ - addr;
  // Linux's shmdt: every piece of this attachment within the segment's
  // size from addr (mprotect or a partial munmap may have split it).
  std::vector<std::pair<uint64_t, uint64_t>> pieces;
  for (; it != vmas_.end() && it->first < addr + size; ++it)
    if (it->second.attachment.get() == att)
      pieces.emplace_back(it->first, it->second.end);
  for (const auto& [start, end] : pieces) TRY(UnmapLocked(start, end));
  return {};
}

base::Result<void> MemoryManager::Mprotect(uint64_t addr, uint64_t length,
                                           int prot, const Limits& limits) {
  if (!PageAligned(addr)) return base::Err(EINVAL);
  const int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  if (prot & ~(kProtMask | kProtSem | PROT_GROWSDOWN | PROT_GROWSUP))
    return base::Err(EINVAL);
  if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) return base::Err(EINVAL);
  if (length == 0) return {};
  uint64_t len, end;
  if (!PageUp(length, &len) || __builtin_add_overflow(addr, len, &end))
    return base::Err(ENOMEM);
  prot &= kProtMask;

  ChangeLock lock(this);
  auto first = FindLocked(addr);
  if (first == vmas_.end()) return base::Err(ENOMEM);
  if (grows & PROT_GROWSUP) return base::Err(EINVAL);  // none on x86
  uint64_t start = addr;
  if (grows & PROT_GROWSDOWN) {
    // Extends the change down to the start of the stack VMA.
    if (!first->second.grows_down) return base::Err(EINVAL);
    start = first->first;
  }
  // Check everything before changing anything. (Linux changes the VMAs
  // before a hole and then fails; failing cleanly is allowed too.)
  for (uint64_t a = start; a < end;) {
    auto it = FindLocked(a);
    if (it == vmas_.end()) return base::Err(ENOMEM);
    const Vma& vma = it->second;
    if (prot & ~vma.max_prot) return base::Err(EACCES);
    // Linux's mprotect_fixup: memory turning into data must fit
    // RLIMIT_DATA.
    const uint64_t n = std::min(end, vma.end) - a;
    if ((prot & PROT_WRITE) &&
        !MayExpandLocked(prot, vma.shared, vma.grows_down, n, limits) &&
        MayExpandLocked(vma.prot, vma.shared, vma.grows_down, n, limits))
      return base::Err(ENOMEM);
    a = vma.end;
  }

  SplitLocked(start);
  SplitLocked(end);
  internal::ProtectBatch batch(*as_);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;
       ++it) {
    Vma& vma = it->second;
    if (vma.backed) {
      vma.prot = prot;
      TRY(batch.Add(it->first, vma.end, StubProt(vma)));
    } else if (vma.beyond_eof) {
      vma.prot = prot;  // Past EOF: never backed, whatever its prot.
    } else if (prot != PROT_NONE) {
      // A PROT_NONE reservation becomes usable: back it now.
      TRY(batch.Flush());
      vma.prot = prot;
      if (auto r = BackLocked(it->first, vma); !r) {
        vma.prot = PROT_NONE;
        return r;
      }
    }
  }
  return batch.Flush();
}

base::Result<void> MemoryManager::Msync(uint64_t addr, uint64_t length,
                                       bool invalidate) {
  if (!PageAligned(addr)) return base::Err(EINVAL);
  uint64_t len;
  if (!PageUp(length, &len) || addr + len < addr) return base::Err(ENOMEM);
  const uint64_t end = addr + len;
  absl::ReaderMutexLock lock(&mu_);
  // As Linux's msync: VMAs are visited in order; a locked one refuses
  // MS_INVALIDATE at once, a hole makes the result ENOMEM at the end.
  bool hole = false;
  auto it = vmas_.upper_bound(addr);  // the first VMA ending after addr:
  if (it != vmas_.begin() && std::prev(it)->second.end > addr) --it;
  for (uint64_t at = addr; at < end; ++it) {
    if (it == vmas_.end()) return base::Err(ENOMEM);
    if (it->first > at) {
      hole = true;
      if (it->first >= end) break;
    }
    if (invalidate && it->second.locked) return base::Err(EBUSY);
    at = it->second.end;
  }
  if (hole) return base::Err(ENOMEM);
  return {};
}

}  // namespace mm
