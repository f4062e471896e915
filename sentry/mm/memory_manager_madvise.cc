// MemoryManager: madvise(2).
#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

using internal::PageAligned;
using internal::PageUp;

namespace {

// What an advice does here.
enum class Kind {
  kIgnore,    // a hint about paging, huge pages or KSM: all memory is
              // resident in the memory file and never paged out
  kZap,       // DONTNEED, DONTNEED_LOCKED, FREE: private memory reads zero
  kFlag,      // a per-VMA flag (fork, core dump): splits the VMAs
  kRemove,    // REMOVE: frees shared pages
  kPopulate,  // POPULATE_READ/WRITE: checks, breaks copy-on-write
};

base::Result<Kind> KindOf(int advice) {
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
      return Kind::kZap;
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
      return Kind::kFlag;
    case MADV_REMOVE:
      return Kind::kRemove;
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
      return Kind::kPopulate;
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_COLD:
    case MADV_PAGEOUT:
      return Kind::kIgnore;
    default:  // HWPOISON, SOFT_OFFLINE, COLLAPSE, GUARD_* (TODO), unknown.
      return base::Err(EINVAL);
  }
}

}  // namespace

void MemoryManager::ZeroLocked(uint64_t start, const Vma& vma, uint64_t s,
                               uint64_t e) {
  const uint64_t offset = vma.file_offset + (s - start);
  // A hole gives the pages back to the host; they read as zero after.
  if (fallocate(file_.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(offset), static_cast<off_t>(e - s)) != 0)
    memset(file_.base() + offset, 0, e - s);
}

base::Result<void> MemoryManager::PopulateLocked(uint64_t start, uint64_t end,
                                                 bool write) {
  // In order, as Linux's madvise_populate: a hole is ENOMEM, a mapping
  // that does not allow the access EINVAL, a page past EOF (SIGBUS) EFAULT.
  // Everything accessible is mapped already; a write must still give
  // copy-on-write memory pages of its own.
  for (uint64_t a = start; a < end;) {
    auto it = FindLocked(a);
    if (it == vmas_.end()) return base::Err(ENOMEM);
    const Vma& vma = it->second;
    if (!(vma.prot & (write ? PROT_WRITE : PROT_READ)))
      return base::Err(EINVAL);
    if (vma.beyond_eof) return base::Err(EFAULT);
    const uint64_t e = std::min(end, vma.end);
    if (write && vma.cow) TRY(BreakCowLocked(a, e, /*writable_only=*/true));
    a = e;
  }
  return {};
}

base::Result<void> MemoryManager::Madvise(uint64_t addr, uint64_t length,
                                          int advice) {
  const Kind kind = TRY(KindOf(advice));
  if (!PageAligned(addr)) return base::Err(EINVAL);
  uint64_t len, end;
  if (!PageUp(length, &len) || __builtin_add_overflow(addr, len, &end))
    return base::Err(EINVAL);
  if (len == 0) return {};

  ChangeLock lock(this);
  if (kind == Kind::kPopulate)
    return PopulateLocked(addr, end, advice == MADV_POPULATE_WRITE);
  // Zapping copy-on-write memory gives whole VMAs fresh backing; flags
  // apply to whole VMAs.
  if (kind == Kind::kZap || kind == Kind::kFlag) {
    SplitLocked(addr);
    SplitLocked(end);
  }
  // Like Linux: act on the mapped parts in order (an error stops there),
  // then report ENOMEM for any hole.
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
    switch (kind) {
      case Kind::kIgnore:
        break;
      case Kind::kFlag:
        switch (advice) {
          case MADV_DONTFORK:
            vma.dontfork = true;
            break;
          case MADV_DOFORK:
            vma.dontfork = false;
            break;
          case MADV_WIPEONFORK:
            // Private anonymous memory only.
            if (vma.shared || vma.source) return base::Err(EINVAL);
            vma.wipeonfork = true;
            break;
          case MADV_KEEPONFORK:
            vma.wipeonfork = false;
            break;
          case MADV_DONTDUMP:
            vma.dontdump = true;
            break;
          case MADV_DODUMP:
            vma.dontdump = false;
            break;
        }
        break;
      case Kind::kRemove:
        // Linux's madvise_remove: it punches a hole in the file behind a
        // shared, writable mapping (shared anonymous memory is a shmem
        // file): anonymous private memory has no file (EINVAL), private or
        // read-only file mappings may not change it (EACCES).
        if (vma.locked) return base::Err(EINVAL);
        if (!vma.shared && !vma.source) return base::Err(EINVAL);
        if (!vma.shared || !(vma.max_prot & PROT_WRITE))
          return base::Err(EACCES);
        // Every sharer sees zeros, as with a hole in the shmem file. A
        // shared mapping of a tmpfs file maps the file's pages, so the
        // file reads zeros there too (Linux frees them: a hole); a shared
        // mapping of another file is a snapshot, and only it is zeroed.
        if (vma.backed) ZeroLocked(start, vma, s, e);
        break;
      case Kind::kZap:
        // Locked memory may be dropped only with DONTNEED_LOCKED.
        if (vma.locked && advice != MADV_DONTNEED_LOCKED)
          return base::Err(EINVAL);
        // MADV_FREE is for private anonymous memory only.
        if (advice == MADV_FREE && (vma.shared || vma.source))
          return base::Err(EINVAL);
        // Shared memory keeps its contents (they live in the shmem object
        // or the page cache, not in the page tables DONTNEED drops).
        if (!vma.backed || vma.shared) break;
        if (vma.cow) {
          // The pages may still be another process's: never punch them.
          // Drop this VMA's reference and start again from fresh (zero)
          // backing.
          TRY(RebackLocked(start, vma));
          break;
        }
        ZeroLocked(start, vma, s, e);
        // A private file mapping reads the file again, as after a fresh
        // fault.
        if (vma.source) {
          uint64_t pos = vma.source_offset + (s - start);
          if (!vma.source->ReadInto(
                  pos, file_.base() + vma.file_offset + (s - start), e - s)) {
            LOG(Warning) << "mm: madvise: re-reading " << vma.name << " failed";
          }
        }
        break;
      case Kind::kPopulate:
        break;  // done above
    }
  }
  if (hole) return base::Err(ENOMEM);
  return {};
}

}  // namespace mm
