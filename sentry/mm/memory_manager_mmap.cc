// MemoryManager: mmap(2), munmap(2), mprotect(2), madvise(2).
#include <fcntl.h>
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

  std::shared_ptr<vfs::FileDescription> source;
  int max_prot = kProtMask;
  if (opts.file) {
    vfs::FileDescription& f = *opts.file;
    if (!PageAligned(opts.offset)) return base::Err(EINVAL);
    if (f.mmap_kind() == vfs::MmapKind::kNotMappable) return base::Err(ENODEV);
    if (!f.readable()) return base::Err(EACCES);
    if (opts.shared && !f.writable()) {
      if (prot & PROT_WRITE) return base::Err(EACCES);
      max_prot &= ~PROT_WRITE;  // mprotect may not add it later either.
    }
    if (opts.shared && (prot & PROT_WRITE) && (f.flags() & O_APPEND))
      return base::Err(EACCES);
    if (f.mmap_kind() == vfs::MmapKind::kFile) {
      uint64_t end;
      if (__builtin_add_overflow(opts.offset, len, &end) ||
          end > uint64_t{INT64_MAX})
        return base::Err(EOVERFLOW);
      source = opts.file;
    }
  }
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

  // MAP_FIXED replaces: the old VMAs go now, their backing once the stub
  // maps the new pages (or nothing) there.
  Removed old;
  if (fixed) old = RemoveLocked(addr, addr + len);
  const uint64_t source_offset = source ? opts.offset : 0;
  std::string name = opts.name.empty() && source ? source->path() : opts.name;
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
          .source_offset = source_offset};
  auto inserted = InsertLocked(addr, std::move(vma));
  if (inserted && vmas_.at(addr).backed) {
    // MapFile replaced the old pages in the stub already.
    for (const auto& b : old.backing) file_.Free(b.offset, b.len);
  } else {
    TRY(ReleaseLocked(old));
  }
  if (!inserted) return std::unexpected(inserted.error());
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

base::Result<void> MemoryManager::Mprotect(uint64_t addr, uint64_t length,
                                           int prot) {
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
    if (prot & ~it->second.max_prot) return base::Err(EACCES);
    a = it->second.end;
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

base::Result<void> MemoryManager::Madvise(uint64_t addr, uint64_t length,
                                          int advice) {
  bool zap = false;
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
      zap = true;
      break;
    // Hints about paging, huge pages, KSM, core dumps: nothing to do when
    // all memory is populated up front. DONTFORK/WIPEONFORK matter once
    // fork exists (TODO: record them in the VMA then).
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
      break;
    default:  // Includes MADV_REMOVE and MADV_HWPOISON (TODO).
      return base::Err(EINVAL);
  }
  if (!PageAligned(addr)) return base::Err(EINVAL);
  uint64_t len, end;
  if (!PageUp(length, &len) || __builtin_add_overflow(addr, len, &end))
    return base::Err(EINVAL);
  if (len == 0) return {};

  ChangeLock lock(this);
  // Zapping copy-on-write memory gives whole VMAs fresh backing.
  if (zap) {
    SplitLocked(addr);
    SplitLocked(end);
  }
  // Like Linux: act on the mapped parts, then report ENOMEM for any hole.
  bool hole = false;
  auto it = vmas_.upper_bound(addr);
  if (it != vmas_.begin() && std::prev(it)->second.end > addr) --it;
  for (uint64_t a = addr; a < end; ++it) {
    if (it == vmas_.end() || it->first >= end) {
      hole = true;
      break;
    }
    if (it->first > a) hole = true;
    const uint64_t start = it->first;
    Vma& vma = it->second;
    const uint64_t s = std::max(a, start), e = std::min(end, vma.end);
    a = e;
    if (!zap) continue;
    // MADV_FREE is for private anonymous memory only.
    if (advice == MADV_FREE && (vma.shared || vma.source))
      return base::Err(EINVAL);
    // Shared memory keeps its contents (they live in the shmem object or
    // the page cache, not in the page tables DONTNEED drops).
    if (!vma.backed || vma.shared) continue;
    if (vma.cow) {
      // The pages may still be another process's: never punch them. Drop
      // this VMA's reference and start again from fresh (zero) backing.
      TRY(RebackLocked(start, vma));
      continue;
    }
    const uint64_t offset = vma.file_offset + (s - start);
    uint8_t* p = file_.base() + offset;
    if (fallocate(file_.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(offset), static_cast<off_t>(e - s)) != 0)
      memset(p, 0, e - s);
    // A private file mapping reads the file again, as after a fresh fault.
    if (vma.source) {
      uint64_t pos = vma.source_offset + (s - start);
      if (!internal::ReadFileInto(*vma.source, pos, p, e - s)) {
        LOG(Warning) << "mm: madvise: re-reading " << vma.name << " failed";
      }
    }
  }
  if (hole) return base::Err(ENOMEM);
  return {};
}

}  // namespace mm
