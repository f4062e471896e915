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
                                                 uint64_t new_len) {
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
  return new_addr;
}

base::Result<uint64_t> MemoryManager::Mremap(uint64_t old_addr,
                                             uint64_t old_length,
                                             uint64_t new_length, int flags,
                                             uint64_t new_addr) {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
    return base::Err(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
    return base::Err(EINVAL);
  // TODO: MREMAP_DONTUNMAP (leaves the old range mapped, empty).
  if (flags & MREMAP_DONTUNMAP) return base::Err(EINVAL);
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
                  (!a.source || a.source_offset + (it->first - first->first) ==
                                    b.source_offset);
      if (!same) return base::Err(EFAULT);
      if (b.end >= end) return it;
      auto next = std::next(it);
      if (next == vmas_.end() || next->first != b.end) return base::Err(EFAULT);
      it = next;
    }
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
    TRY(movable(old_addr + keep));
    TRY(UnmapLocked(new_addr, new_addr + new_len));
    if (old_len > new_len) TRY(UnmapLocked(old_addr + new_len, old_end));
    return MoveLocked(old_addr, keep, new_addr, new_len);
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
