// fork(2) support: copying an address space for a child process.
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {
namespace {

// Copies [src, src+len) of the memory file to dst, skipping holes: pages
// the app never touched stay unallocated in the copy too.
void CopyPopulated(MemoryFile& file, uint64_t src, uint64_t dst,
                   uint64_t len) {
  const uint64_t end = src + len;
  uint64_t pos = src;
  while (pos < end) {
    off_t data = lseek(file.fd(), static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 || static_cast<uint64_t>(data) >= end) return;  // ENXIO: no more
    off_t hole = lseek(file.fd(), data, SEEK_HOLE);
    uint64_t stop = hole < 0 ? end : std::min<uint64_t>(hole, end);
    memcpy(file.base() + dst + (data - src), file.base() + data, stop - data);
    pos = stop;
  }
}

}  // namespace

base::Result<std::unique_ptr<MemoryManager>> MemoryManager::Fork() {
  std::unique_ptr<MemoryManager> child(
      new MemoryManager(file_, nullptr, max_address_));
  absl::ReaderMutexLock lock(&mu_);
  child->brk_base_ = brk_base_;
  child->brk_ = brk_;
  child->mmap_base_ = mmap_base_;
  for (const auto& [start, vma] : vmas_) {
    Vma copy = vma;
    if (vma.backed) {
      const uint64_t len = vma.end - start;
      if (vma.shared) {
        file_.IncRef(vma.file_offset, len);
      } else {
        // On ENOMEM the partly built child frees what it holds.
        copy.file_offset = TRY(file_.Allocate(len));
        CopyPopulated(file_, vma.file_offset, copy.file_offset, len);
      }
    }
    absl::MutexLock child_lock(&child->mu_);
    child->vmas_.emplace(start, std::move(copy));
  }
  return child;
}

base::Result<void> MemoryManager::Attach(platform::Platform& platform) {
  CHECK(as_ == nullptr);
  as_ = TRY(platform.NewAddressSpace());
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [start, vma] : vmas_) {
    if (!vma.backed) continue;
    TRY(as_->MapFile(start, vma.end - start, vma.file_offset, vma.prot));
  }
  return {};
}

}  // namespace mm
