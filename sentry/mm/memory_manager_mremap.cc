// MemoryManager: mremap(2).
//
// Moving never copies data: the old backing is mapped at the new address
// and the VMA records are re-keyed. Growth gets fresh backing in a new,
// adjacent VMA (VMAs are never merged, so the backing need not be
// contiguous).
#include <sys/mman.h>

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

namespace mm {

using internal::PageAligned;
using internal::PageUp;

base::Result<void> MemoryManager::ExtendLocked(VmaMap::iterator last,
                                               uint64_t end) {
  const uint64_t start = last->second.end;
  Vma vma = last->second;
  vma.end = end;
  vma.backed = false;
  vma.cow = false;
  vma.file_offset = 0;
  // A file mapping goes on with the next bytes of the file; an offset
  // beyond any file just reads as zero.
  if (vma.source &&
      __builtin_add_overflow(vma.source_offset, start - last->first,
                             &vma.source_offset))
    vma.source_offset = ~uint64_t{0};
  return InsertLocked(start, std::move(vma));
}

base::Result<uint64_t> MemoryManager::MoveLocked(uint64_t old_addr,
                                                 uint64_t old_len,
                                                 uint64_t new_addr,
                                                 uint64_t new_len,
                                                 bool dontunmap) {
  const uint64_t old_end = old_addr + old_len;
  SplitLocked(old_addr);
  SplitLocked(old_end);
  std::vector<std::pair<uint64_t, Vma>> pieces;
  for (auto it = vmas_.lower_bound(old_addr);
       it != vmas_.end() && it->first < old_end;) {
    pieces.emplace_back(it->first, std::move(it->second));
    it = vmas_.erase(it);
  }
  bool any_backed = false;
  VmaMap::iterator last = vmas_.end();
  for (auto& [start, vma] : pieces) {
    const uint64_t at = new_addr + (start - old_addr);
    vma.end = at + (vma.end - start);
    last = vmas_.emplace(at, std::move(vma)).first;
    const Vma& moved = last->second;
    if (!moved.backed) continue;
    any_backed = true;
    // The same memory file pages, now at the new address: no copy.
    TRY(as_->MapFile(at, moved.end - at, moved.file_offset,
                     StubProt(moved)));
  }
  // The backing now belongs to the new VMAs: unmap, but do not free.
  if (any_backed) TRY(as_->Unmap(old_addr, old_len));
  if (new_len > old_len) TRY(ExtendLocked(last, new_addr + new_len));
  if (dontunmap) {
    // MREMAP_DONTUNMAP: the old VMAs stay, emptied as Linux's page tables
    // are. Private memory faults in afresh there (zeros, or the file's
    // bytes); shared memory shows the same pages as before, so both ranges
    // reference them. Locks stay with the moved range.
    for (auto& [start, vma] : pieces) {
      const uint64_t moved_at = new_addr + (start - old_addr);
      Vma old = vmas_.at(moved_at);
      old.end = start + (old.end - moved_at);
      old.locked = false;
      if (old.shared && old.backed) {
        const uint64_t len = old.end - start;
        file_.IncRef(old.file_offset, len);
        if (auto r = as_->MapFile(start, len, old.file_offset, StubProt(old));
            !r) {
          (void)as_->Unmap(start, len);  // best effort; the reference leaks
          return std::unexpected(r.error());
        }
        vmas_.emplace(start, std::move(old));
        continue;
      }
      old.backed = false;
      old.cow = false;
      old.file_offset = 0;
      TRY(InsertLocked(start, std::move(old)));
    }
  }
  return new_addr;
}

base::Result<uint64_t> MemoryManager::Mremap(uint64_t old_addr,
                                             uint64_t old_length,
                                             uint64_t new_length, int flags,
                                             uint64_t new_addr,
                                             const Limits& limits) {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
    return base::Err(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
    return base::Err(EINVAL);
  // MREMAP_DONTUNMAP always moves and never resizes (Linux compares the
  // lengths as given).
  const bool dontunmap = flags & MREMAP_DONTUNMAP;
  if (dontunmap && (!(flags & MREMAP_MAYMOVE) || old_length != new_length))
    return base::Err(EINVAL);
  if (!PageAligned(old_addr)) return base::Err(EINVAL);
  uint64_t old_len, new_len, old_end;
  if (!PageUp(old_length, &old_len) || !PageUp(new_length, &new_len) ||
      new_len == 0)
    return base::Err(EINVAL);
  if (__builtin_add_overflow(old_addr, old_len, &old_end))
    return base::Err(EFAULT);

  ChangeLock lock(this);
  // Linux wants the old range inside one VMA. Ours are split more often
  // than Linux's (they are never merged), so accept a run of adjacent VMAs
  // that Linux would have merged. Returns the last one.
  auto movable = [&](uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                     mu_) -> base::Result<VmaMap::iterator> {
    auto it = FindLocked(old_addr);
    if (it == vmas_.end()) return base::Err(EFAULT);
    const auto first = it;
    for (;;) {
      const Vma& a = first->second;
      const Vma& b = it->second;
      bool same = a.prot == b.prot && a.shared == b.shared &&
                  a.grows_down == b.grows_down && a.name == b.name &&
                  a.max_prot == b.max_prot && a.source == b.source &&
                  a.dontfork == b.dontfork && a.wipeonfork == b.wipeonfork &&
                  a.dontdump == b.dontdump && a.locked == b.locked &&
                  (!a.source || a.source_offset + (it->first - first->first) ==
                                    b.source_offset);
      if (!same) return base::Err(EFAULT);
      if (b.end >= end) return it;
      auto next = std::next(it);
      if (next == vmas_.end() || next->first != b.end) return base::Err(EFAULT);
      it = next;
    }
  };

  // Growth (and a range DONTUNMAP keeps) must fit the limits: EAGAIN for
  // locked memory, ENOMEM for RLIMIT_AS/DATA, as Linux's resize checks.
  auto may_grow = [&](const Vma& vma, uint64_t more)
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> base::Result<void> {
    if (more == 0) return {};
    if (vma.locked && !MayLockLocked(more, limits)) return base::Err(EAGAIN);
    if (!MayExpandLocked(vma.prot, vma.shared, vma.grows_down, more, limits))
      return base::Err(ENOMEM);
    return {};
  };

  if (flags & MREMAP_FIXED) {
    if (!PageAligned(new_addr)) return base::Err(EINVAL);
    if (new_len > max_address_ || new_addr > max_address_ - new_len)
      return base::Err(EINVAL);
    if (new_addr < kMinUserAddress) return base::Err(EPERM);
    if (new_addr < old_end && old_addr < new_addr + new_len)
      return base::Err(EINVAL);
    const uint64_t keep = std::min(old_len, new_len);
    if (keep == 0) return base::Err(EINVAL);
    // Validate the source before destroying anything (Linux unmaps the
    // destination first; failing earlier is kinder and allowed).
    auto last = TRY(movable(old_addr + keep));
    // What the destination held is unmapped first, as Linux does.
    uint64_t more = new_len - keep + (dontunmap ? old_len : 0);
    more -= std::min(more, MappedBytesLocked(new_addr, new_addr + new_len));
    TRY(may_grow(last->second, more));
    TRY(UnmapLocked(new_addr, new_addr + new_len));
    if (old_len > new_len) TRY(UnmapLocked(old_addr + new_len, old_end));
    return MoveLocked(old_addr, keep, new_addr, new_len, dontunmap);
  }

  if (dontunmap) {
    auto last = TRY(movable(old_end));
    TRY(may_grow(last->second, old_len));
    const uint64_t dest = TRY(FindGapLocked(new_len));
    return MoveLocked(old_addr, old_len, dest, new_len, /*dontunmap=*/true);
  }
  if (old_len >= new_len) {
    // Shrinking is an munmap of the tail; Linux checks nothing else.
    if (old_len > new_len) TRY(UnmapLocked(old_addr + new_len, old_end));
    return old_addr;
  }
  // old_len == 0 duplicates a shared mapping in Linux (TODO); for private
  // ones Linux says EINVAL.
  if (old_len == 0) return base::Err(EINVAL);
  auto last = TRY(movable(old_end));
  TRY(may_grow(last->second, new_len - old_len));

  uint64_t new_end;
  if (last->second.end == old_end &&
      !__builtin_add_overflow(old_addr, new_len, &new_end) &&
      new_end <= max_address_ && RangeFreeLocked(old_end, new_end)) {
    TRY(ExtendLocked(last, new_end));
    return old_addr;
  }
  if (!(flags & MREMAP_MAYMOVE)) return base::Err(ENOMEM);
  const uint64_t dest = TRY(FindGapLocked(new_len));
  return MoveLocked(old_addr, old_len, dest, new_len);
}

}  // namespace mm
