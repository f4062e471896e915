// MemoryManager: creation, the VMA set's helpers, brk and the VMA listing.
// mmap/munmap/mprotect/madvise are in memory_manager_mmap.cc, mremap in
// memory_manager_mremap.cc, copies in memory_manager_copy.cc.
#include "sentry/mm/memory_manager.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "base/log.h"
#include "sentry/mm/internal.h"

namespace mm {

using internal::PageDown;
using internal::PageUp;


base::Result<std::unique_ptr<MemoryManager>> MemoryManager::Create(
    MemoryFile& file, platform::Platform& platform) {
  auto as = TRY(platform.NewAddressSpace());
  uint64_t max = PageDown(platform.MaxUserAddress());
  CHECK(max > kMinUserAddress);
  std::unique_ptr<MemoryManager> mm(
      new MemoryManager(file, std::move(as), max));
  mm->as_->SetAppMemory(mm.get());
  return mm;
}

MemoryManager::~MemoryManager() {
  // Files stop asking this address space to map their pages again first
  // (an Invalidate under way finishes before this returns).
  DetachMappingSpace();
  // No task runs in the stub any more, so its mappings of these ranges are
  // never used again even if the platform tears the stub down later.
  absl::MutexLock lock(&mu_);
  for (auto& [start, vma] : vmas_)
    if (vma.backed) file_.Free(vma.file_offset, vma.end - start);
}

MemoryManager::VmaMap::iterator MemoryManager::FindLocked(uint64_t addr) {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return vmas_.end();
  --it;
  return addr < it->second.end ? it : vmas_.end();
}

bool MemoryManager::RangeFreeLocked(uint64_t start, uint64_t end) const {
  auto it = vmas_.lower_bound(start);
  if (it != vmas_.end() && it->first < end) return false;
  if (it != vmas_.begin() && std::prev(it)->second.end > start) return false;
  return true;
}

uint64_t MemoryManager::MmapBaseLocked() const {
  if (mmap_base_ != 0) return mmap_base_;
  // Without a loader-chosen base, leave room below the top for a stack.
  constexpr uint64_t kDefaultGap = uint64_t{128} << 20;
  if (max_address_ - kMinUserAddress > 2 * kDefaultGap)
    return max_address_ - kDefaultGap;
  return max_address_;
}

base::Result<uint64_t> MemoryManager::FindGapLocked(uint64_t len) const {
  // Top-down like Linux's arch_get_unmapped_area_topdown: the highest free
  // range of `len` bytes ending at or below `limit`.
  auto below = [&](uint64_t limit) -> std::optional<uint64_t> {
    uint64_t hi = limit;
    auto it = vmas_.lower_bound(limit);
    for (;;) {
      uint64_t lo = kMinUserAddress;
      if (it != vmas_.begin()) lo = std::max(lo, std::prev(it)->second.end);
      if (hi > lo && hi - lo >= len) return hi - len;
      if (it == vmas_.begin()) return std::nullopt;
      --it;
      uint64_t top = it->first;
      // Keep the guard gap below a stack, as Linux does.
      if (it->second.grows_down)
        top =
            top > internal::kStackGuardGap ? top - internal::kStackGuardGap : 0;
      hi = std::min(hi, top);
      if (hi <= kMinUserAddress) return std::nullopt;
    }
  };
  uint64_t base = MmapBaseLocked();
  if (auto addr = below(base)) return *addr;
  // Linux falls back to a bottom-up search; anything free will do.
  if (base < max_address_)
    if (auto addr = below(max_address_)) return *addr;
  return base::Err(ENOMEM);
}

void MemoryManager::SplitLocked(uint64_t addr) {
  auto it = FindLocked(addr);
  if (it == vmas_.end() || it->first == addr) return;
  Vma tail = it->second;
  uint64_t delta = addr - it->first;
  if (tail.backed) tail.file_offset += delta;
  if (tail.source) tail.source_offset += delta;
  it->second.end = addr;
  vmas_.emplace_hint(std::next(it), addr, std::move(tail));
}

MemoryManager::Removed MemoryManager::RemoveLocked(uint64_t start,
                                                   uint64_t end) {
  SplitLocked(start);
  SplitLocked(end);
  Removed out;
  for (auto it = vmas_.lower_bound(start);
       it != vmas_.end() && it->first < end;) {
    const Vma& vma = it->second;
    if (vma.backed) {
      uint64_t len = vma.end - it->first;
      auto& b = out.backing;
      if (!b.empty() && b.back().offset + b.back().len == vma.file_offset)
        b.back().len += len;
      else
        b.push_back({vma.file_offset, len});
      if (out.hi == 0) out.lo = it->first;
      out.hi = vma.end;
    }
    it = vmas_.erase(it);
  }
  return out;
}

base::Result<void> MemoryManager::ReleaseLocked(const Removed& removed) {
  if (removed.backing.empty()) return {};  // Unbacked: not in the stub.
  // Only the backed span: the platform may refuse addresses no VMA can
  // have (below kMinUserAddress), which munmap(2) still accepts.
  if (auto r = as_->Unmap(removed.lo, removed.hi - removed.lo); !r) {
    LOG(Warning) << "mm: platform Unmap failed; leaking backing";
    return r;
  }
  for (const auto& b : removed.backing) file_.Free(b.offset, b.len);
  return {};
}

base::Result<void> MemoryManager::UnmapLocked(uint64_t start, uint64_t end) {
  return ReleaseLocked(RemoveLocked(start, end));
}

base::Result<void> MemoryManager::BackLocked(uint64_t start, Vma& vma) {
  CHECK(!vma.backed);
  uint64_t len = vma.end - start;
  uint64_t offset = TRY(file_.Allocate(len));
  if (vma.source) {
    auto r =
        vma.source->ReadInto(vma.source_offset, file_.base() + offset, len);
    if (!r) {
      file_.Free(offset, len);
      return r;
    }
  }
  if (auto r = as_->MapFile(start, len, offset, vma.prot); !r) {
    // Free only once the stub surely does not map the range.
    if (as_->Unmap(start, len)) file_.Free(offset, len);
    return r;
  }
  vma.backed = true;
  vma.cow = false;
  vma.file_offset = offset;
  return {};
}

base::Result<void> MemoryManager::RebackLocked(uint64_t start, Vma& vma) {
  CHECK(vma.backed);
  const uint64_t old = vma.file_offset;
  vma.backed = false;
  if (auto r = BackLocked(start, vma); !r) {
    // The old backing stays the VMA's (MapFile fails only when the stub is
    // gone, so the stub having lost the range does not matter).
    vma.backed = true;
    vma.file_offset = old;
    return r;
  }
  // MapFile replaced the old pages in the stub.
  file_.Free(old, vma.end - start);
  return {};
}

uint64_t internal::EofPage(Mappable& file) {
  std::optional<uint64_t> size = file.Size();
  uint64_t eof;
  if (!size || *size > uint64_t{INT64_MAX} || !PageUp(*size, &eof))
    return ~uint64_t{0};
  return eof;
}

base::Result<void> MemoryManager::InsertLocked(uint64_t start, Vma vma) {
  CHECK(!vma.backed);
  // A file mapping's pages past the one holding EOF get a VMA of their own
  // that is never backed: an access there faults, and is SIGBUS as on
  // Linux. (VMAs are split internally anyway; Vmas() shows them as one.)
  const uint64_t end = vma.end;
  uint64_t split = end;
  if (vma.source && !vma.beyond_eof) {
    const uint64_t eof = internal::EofPage(*vma.source);
    if (vma.source_offset >= eof)
      split = start;
    else if (eof - vma.source_offset < end - start)
      split = start + (eof - vma.source_offset);
  }
  if (split < end) {
    Vma tail = vma;
    tail.beyond_eof = true;
    tail.source_offset += split - start;
    CHECK(vmas_.emplace(split, std::move(tail)).second);
    if (split == start) return {};
    vma.end = split;
  }
  auto [it, inserted] = vmas_.emplace(start, std::move(vma));
  CHECK(inserted);
  // PROT_NONE file mappings are backed too: a later mprotect must show the
  // file's bytes. Anonymous PROT_NONE stays free (big reservations).
  const Vma& v = it->second;
  if (v.beyond_eof || (v.prot == PROT_NONE && !v.source)) return {};
  if (v.shared && v.source && v.source->SharesPages()) {
    Vma shared = std::move(it->second);
    vmas_.erase(it);
    if (auto r = InsertSharedFileLocked(start, std::move(shared)); !r) {
      if (split < end) vmas_.erase(split);
      return r;
    }
    return {};
  }
  if (auto r = BackLocked(start, it->second); !r) {
    vmas_.erase(it);
    if (split < end) vmas_.erase(split);
    return r;
  }
  return {};
}

base::Result<void> MemoryManager::InsertBackedLocked(uint64_t start, Vma vma,
                                                    uint64_t backing) {
  const uint64_t len = vma.end - start;
  if (auto r = as_->MapFile(start, len, backing, vma.prot); !r) {
    (void)as_->Unmap(start, len);
    return r;
  }
  vma.backed = true;
  vma.cow = false;
  vma.file_offset = backing;
  auto [it, inserted] = vmas_.emplace(start, std::move(vma));
  CHECK(inserted);
  return {};
}

base::Result<void> MemoryManager::InsertSharedFileLocked(uint64_t start,
                                                       Vma vma) {
  const uint64_t len = vma.end - start;
  std::vector<BackingRun> runs =
      TRY(vma.source->PinPages(vma.source_offset, len));
  // Truncation and holes in the file reach this mapping (Invalidate).
  vma.source->AddMapper(mapping_space());
  uint64_t pinned = 0;
  for (const BackingRun& r : runs) pinned += r.len;
  if (pinned != len) {  // a broken Mappable: refuse rather than map a hole
    for (const BackingRun& r : runs) file_.Free(r.offset, r.len);
    return base::Err(EIO);
  }
  // One VMA per run: a VMA's backing is contiguous. Vmas() shows them as
  // one, since their file offsets follow each other.
  uint64_t at = start;
  for (size_t i = 0; i < runs.size(); ++i) {
    Vma part = vma;
    part.end = at + runs[i].len;
    part.source_offset = vma.source_offset + (at - start);
    if (auto r = InsertBackedLocked(at, std::move(part), runs[i].offset); !r) {
      // The runs mapped so far go (their references with them), the rest
      // are dropped here.
      (void)UnmapLocked(start, at);
      for (size_t j = i; j < runs.size(); ++j)
        file_.Free(runs[j].offset, runs[j].len);
      return r;
    }
    at += runs[i].len;
  }
  return {};
}

bool MemoryManager::GrowDownLocked(VmaMap::iterator stack, uint64_t addr,
                                   uint64_t stack_limit) {
  const uint64_t start = PageDown(addr);
  const Vma& top = stack->second;
  // A file-backed grows-down mapping has no bytes to show below its start.
  if (start < kMinUserAddress || top.source) return false;
  // Linux keeps the guard gap above an accessible VMA that is not itself a
  // stack.
  if (stack != vmas_.begin()) {
    const Vma& below = std::prev(stack)->second;
    if (!below.grows_down && below.prot != PROT_NONE &&
        start - below.end < internal::kStackGuardGap)
      return false;
  }
  // RLIMIT_STACK bounds the whole stack: this VMA and the adjacent
  // grows-down VMAs above it (ours are split where Linux's are not).
  uint64_t stack_end = top.end;
  for (auto it = std::next(stack); it != vmas_.end() &&
                                   it->first == stack_end &&
                                   it->second.grows_down;
       ++it)
    stack_end = it->second.end;
  if (stack_end - start > stack_limit) return false;
  Vma grown = top;
  grown.end = stack->first;
  grown.backed = false;
  grown.cow = false;
  grown.file_offset = 0;
  return InsertLocked(start, std::move(grown)).has_value();
}

void MemoryManager::SetBrkBase(uint64_t addr) {
  absl::MutexLock lock(&mu_);
  uint64_t base;
  if (!PageUp(addr, &base) || base > max_address_) base = max_address_;
  brk_base_ = brk_ = base;
}

uint64_t MemoryManager::Brk(uint64_t addr, const Limits& limits) {
  ChangeLock lock(this);
  // Linux: a break below the start (brk(0) asks) returns the current one.
  if (brk_base_ == 0 || addr < brk_base_) return brk_;
  // Linux's check_data_rlimit, on every call (the data segment, which
  // Linux adds, is not known here: only the heap counts).
  if (addr - brk_base_ > limits.data) return brk_;
  uint64_t old_top, new_top;
  if (!PageUp(brk_, &old_top) || !PageUp(addr, &new_top) ||
      new_top > max_address_)
    return brk_;
  if (new_top < old_top) {
    if (!UnmapLocked(new_top, old_top)) return brk_;
  } else if (new_top > old_top) {
    // Linux leaves a page (or a stack's guard gap) before the next VMA.
    auto next = vmas_.lower_bound(old_top);
    if (next != vmas_.end()) {
      uint64_t gap =
          next->second.grows_down ? internal::kStackGuardGap : kPageSize;
      if (next->first < gap || new_top > next->first - gap) return brk_;
    }
    if (!RangeFreeLocked(old_top, new_top)) return brk_;
    if (!MayExpandLocked(PROT_READ | PROT_WRITE, false, false,
                         new_top - old_top, limits))
      return brk_;
    Vma heap{.end = new_top,
             .prot = PROT_READ | PROT_WRITE,
             .shared = false,
             .grows_down = false,
             .backed = false,
             .cow = false,
             .file_offset = 0,
             .name = "[heap]",
             .max_prot = internal::kProtMask,
             .source = nullptr,
             .source_offset = 0,
             .locked = lock_future_};
    if (!InsertLocked(old_top, std::move(heap))) return brk_;
  }
  brk_ = addr;
  return brk_;
}

void MemoryManager::SetMmapBase(uint64_t addr) {
  absl::MutexLock lock(&mu_);
  mmap_base_ = std::clamp(PageDown(addr), kMinUserAddress, max_address_);
}

std::optional<uint64_t> MemoryManager::SharedBackingOffset(
    uint64_t addr) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return std::nullopt;
  --it;
  const Vma& vma = it->second;
  if (addr >= vma.end || !vma.shared || !vma.backed) return std::nullopt;
  return vma.file_offset + (addr - it->first);
}

std::vector<VmaInfo> MemoryManager::Vmas() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<VmaInfo> out;
  const Vma* prev = nullptr;
  uint64_t prev_start = 0;
  for (const auto& [start, vma] : vmas_) {
    // VMAs are never merged internally (their backing need not be
    // contiguous); show what Linux, which merges, would show.
    bool merge = prev && prev->end == start && prev->prot == vma.prot &&
                 prev->shared == vma.shared && prev->name == vma.name &&
                 prev->source == vma.source && prev->dontfork == vma.dontfork &&
                 prev->wipeonfork == vma.wipeonfork &&
                 prev->dontdump == vma.dontdump && prev->locked == vma.locked &&
                 (!vma.source || prev->source_offset + (start - prev_start) ==
                                     vma.source_offset);
    const uint64_t resident = vma.backed ? vma.end - start : 0;
    if (merge) {
      out.back().end = vma.end;
      out.back().resident += resident;
    } else {
      out.push_back({start, vma.end, vma.prot, vma.shared, vma.name, resident,
                     vma.source ? vma.source_offset : 0, vma.source});
    }
    prev = &vma;
    prev_start = start;
  }
  return out;
}

void MemoryManager::SetImageLayout(const ImageLayout& layout) {
  absl::MutexLock lock(&mu_);
  layout_ = layout;
}

ImageLayout MemoryManager::image_layout() const {
  absl::ReaderMutexLock lock(&mu_);
  ImageLayout l = layout_;
  l.start_brk = brk_base_;
  l.brk = brk_;
  return l;
}

}  // namespace mm
