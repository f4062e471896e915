// Shared file mappings that follow their file: truncation, growth and
// punched holes of a file that lends its pages (tmpfs, memfd) reach every
// address space mapping it, as Linux's unmap_mapping_range does for the
// page cache. The file holds each such address space weakly, as a
// MappingSpace (the SpaceHandle below), and calls Invalidate once it has
// changed; the address space then maps that part of the file again.
//
// Lock order: SpaceHandle::mu_ -> MemoryManager::mu_ -> the file's locks
// (PinPages, Size). A file calls Invalidate with none of its locks held.
#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {

class MemoryManager::SpaceHandle : public MappingSpace {
 public:
  explicit SpaceHandle(MemoryManager* mm) : mm_(mm) {}

  void Invalidate(const void* file, uint64_t start, uint64_t end) override {
    absl::ReaderMutexLock lock(&mu_);
    if (mm_) mm_->InvalidateFile(file, start, end);
  }
  // The MemoryManager is going: later calls do nothing.
  void Detach() {
    absl::MutexLock lock(&mu_);
    mm_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  MemoryManager* mm_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<MemoryManager::SpaceHandle> MemoryManager::NewSpaceHandle(
    MemoryManager* mm) {
  return std::make_shared<SpaceHandle>(mm);
}

void MemoryManager::DetachMappingSpace() { space_->Detach(); }

std::weak_ptr<MappingSpace> MemoryManager::mapping_space() const {
  return space_;
}

void MemoryManager::InvalidateFile(const void* file, uint64_t start,
                                   uint64_t end) {
  ChangeLock lock(this);
  // A forked copy not attached yet has no stub to change; it registers
  // (and so sees later changes) when it attaches.
  if (!as_) return;
  // The parts of shared mappings of the file that map [start, end).
  struct Part {
    uint64_t start;
    Vma vma;
  };
  std::vector<Part> parts;
  for (const auto& [addr, v] : vmas_) {
    if (!v.shared || !v.source || v.source->identity() != file) continue;
    const uint64_t len = v.end - addr;
    const uint64_t from = std::max(start, v.source_offset);
    const uint64_t to = std::min(end, v.source_offset + len);
    if (from >= to) continue;
    Vma part = v;
    part.source_offset = from;
    part.end = addr + (to - v.source_offset);
    parts.push_back({addr + (from - v.source_offset), std::move(part)});
  }
  for (Part& p : parts) {
    const uint64_t at = p.start;
    if (auto r = RemapFromFileLocked(at, std::move(p.vma)); !r) {
      // Out of memory for the file's new pages: the range stays unmapped
      // and the app gets SIGSEGV there.
      LOG(Warning) << "mm: mapping a changed file again at " << std::hex << at
                   << " failed: " << base::ErrnoName(r.error().value);
    }
  }
}

base::Result<void> MemoryManager::RemapFromFileLocked(uint64_t start,
                                                      Vma vma) {
  TRY(UnmapLocked(start, vma.end));
  vma.backed = false;
  vma.cow = false;
  vma.file_offset = 0;
  vma.beyond_eof = false;
  // InsertLocked splits at the file's end as it is now and pins its pages.
  return InsertLocked(start, std::move(vma));
}

}  // namespace mm
