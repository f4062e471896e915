// fork(2) support: copy-on-write sharing of private memory.
//
// Fork gives the child the parent's backing for every VMA. Shared VMAs
// just take a reference. Private VMAs take one too, and both sides mark
// them `cow`: they are mapped without PROT_WRITE in both stubs, so the
// first write to one faults (HandleFault) or, for the sentry's own copies,
// is caught by WriteWalk. Breaking copy-on-write gives the written chunk
// of the VMA its own backing: a copy, or the same pages made writable when
// the other side has let go of them already (it exited, exec'd, unmapped
// or broke its own copy). No page is copied at fork itself.
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

namespace mm {
namespace {

// A write fault breaks copy-on-write for the aligned chunk around it, not
// only its page: each fault costs a trap and a stub round trip with ptrace,
// while copying 64 KiB costs a few microseconds. Programs write memory
// mostly sequentially, so most of the chunk would fault soon anyway.
constexpr uint64_t kCowChunk = 16 * kPageSize;

// Copies [src, src+len) of the memory file to dst inside the host kernel
// (copy_file_range), so neither range is faulted into the sentry page by
// page; memcpy if the host refuses.
void CopyRange(MemoryFile& file, uint64_t src, uint64_t dst, uint64_t len) {
  while (len > 0) {
    loff_t in = static_cast<loff_t>(src), out = static_cast<loff_t>(dst);
    ssize_t n = copy_file_range(file.fd(), &in, file.fd(), &out, len, 0);
    if (n <= 0) {
      memcpy(file.base() + dst, file.base() + src, len);
      return;
    }
    src += n;
    dst += n;
    len -= n;
  }
}

// Copies [src, src+len) to dst. Large ranges skip holes, so that pages the
// app never touched stay unallocated (zero) in the copy too; a fault's
// small chunk is copied whole (seeking costs more than it saves there).
void CopyPopulated(MemoryFile& file, uint64_t src, uint64_t dst, uint64_t len) {
  constexpr uint64_t kSeekAbove = 1 << 20;
  if (len <= kSeekAbove) return CopyRange(file, src, dst, len);
  const uint64_t end = src + len;
  uint64_t pos = src;
  while (pos < end) {
    off_t data = lseek(file.fd(), static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 || static_cast<uint64_t>(data) >= end)
      return;  // ENXIO: no more
    off_t hole = lseek(file.fd(), data, SEEK_HOLE);
    uint64_t stop = hole < 0 ? end : std::min<uint64_t>(hole, end);
    CopyRange(file, data, dst + (data - src), stop - data);
    pos = stop;
  }
}

}  // namespace

base::Result<std::unique_ptr<MemoryManager>> MemoryManager::Fork() {
  std::unique_ptr<MemoryManager> child(
      new MemoryManager(file_, nullptr, max_address_));
  ChangeLock lock(this);
  // First make the parent's private memory read-only in its stub (its other
  // threads may be running), so that no write lands in pages the child
  // shares from here on.
  internal::ProtectBatch batch(*as_);
  for (auto& [start, vma] : vmas_) {
    // The child gets no share of DONTFORK or WIPEONFORK memory.
    if (!vma.backed || vma.shared || vma.cow || vma.dontfork || vma.wipeonfork)
      continue;
    vma.cow = true;
    // Unchanged in the stub unless the VMA was writable.
    if (vma.prot & PROT_WRITE) TRY(batch.Add(start, vma.end, StubProt(vma)));
  }
  // On failure the parent keeps `cow` VMAs that nobody else references:
  // harmless, its next write to each just makes it writable again.
  TRY(batch.Flush());

  absl::MutexLock child_lock(&child->mu_);
  child->layout_ = layout_;
  child->brk_base_ = brk_base_;
  child->brk_ = brk_;
  child->mmap_base_ = mmap_base_;
  // Each shm attachment gets one child attachment, whatever the number of
  // pieces it was split into.
  std::map<const Attachment*, std::shared_ptr<Attachment>> attachments;
  for (const auto& [start, vma] : vmas_) {
    if (vma.dontfork) continue;  // MADV_DONTFORK: not in the child at all
    Vma copy = vma;
    copy.locked = false;  // Linux: locks are not inherited (nor MCL_FUTURE)
    if (vma.wipeonfork) {
      // MADV_WIPEONFORK: the child gets fresh zero memory there (and keeps
      // the flag, as on Linux).
      copy.cow = false;
      if (vma.backed) {
        auto fresh = file_.Allocate(vma.end - start);
        if (!fresh) return std::unexpected(fresh.error());  // ~child frees
        copy.file_offset = *fresh;
      }
    } else if (vma.backed) {
      file_.IncRef(vma.file_offset, vma.end - start);
    }
    auto it = child->vmas_.emplace(start, std::move(copy)).first;
    if (vma.attachment && !vma.wipeonfork) {
      auto& att = attachments[vma.attachment.get()];
      if (!att) att = vma.attachment->Fork();
      it->second.attachment = att;
    } else {
      it->second.attachment = nullptr;
    }
  }
  return child;
}

base::Result<void> MemoryManager::Attach(platform::Platform& platform) {
  CHECK(as_ == nullptr);
  as_ = TRY(platform.NewAddressSpace());
  as_->SetAppMemory(this);
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [start, vma] : vmas_) {
    // The files whose pages the child maps tell it of their changes from
    // now on (a change between Fork and here is not seen: TODO).
    if (vma.shared && vma.source && vma.source->SharesPages())
      vma.source->AddMapper(mapping_space());
    if (!vma.backed) continue;
    TRY(as_->MapFile(start, vma.end - start, vma.file_offset, StubProt(vma)));
  }
  return {};
}

bool MemoryManager::AnyCowLocked(uint64_t start, uint64_t end,
                                 bool writable_only) {
  auto it = FindLocked(start);
  if (it == vmas_.end()) it = vmas_.lower_bound(start);
  for (; it != vmas_.end() && it->first < end; ++it) {
    const Vma& vma = it->second;
    if (vma.cow && (!writable_only || (vma.prot & PROT_WRITE))) return true;
  }
  return false;
}

base::Result<void> MemoryManager::BreakCowLocked(uint64_t start, uint64_t end,
                                                 bool writable_only) {
  if (!AnyCowLocked(start, end, writable_only)) return {};
  SplitLocked(start);
  SplitLocked(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;
       ++it) {
    const uint64_t at = it->first;
    Vma& vma = it->second;
    if (!vma.cow || (writable_only && !(vma.prot & PROT_WRITE))) continue;
    const uint64_t len = vma.end - at;
    if (file_.Exclusive(vma.file_offset, len)) {
      // Nobody else holds these pages any more: write them in place.
      if (as_) TRY(as_->Protect(at, len, vma.prot));
      vma.cow = false;
      continue;
    }
    const uint64_t copy = TRY(file_.Allocate(len));
    CopyPopulated(file_, vma.file_offset, copy, len);
    // A forked child not attached yet (CLONE_CHILD_SETTID writes into it)
    // has no stub: Attach maps the new backing.
    if (as_) {
      if (auto r = as_->MapFile(at, len, copy, vma.prot); !r) {
        // Free only once the stub surely does not map the copy.
        if (as_->Unmap(at, len)) file_.Free(copy, len);
        return r;
      }
    }
    file_.Free(vma.file_offset, len);  // this side's reference
    vma.file_offset = copy;
    vma.cow = false;
  }
  return {};
}

MemoryManager::Fault MemoryManager::HandleFault(uint64_t addr,
                                                uint64_t stack_limit,
                                                uint64_t* changes) {
  absl::MutexLock lock(&mu_);
  auto verdict = [&](Fault f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (f == Fault::kResolved) ++changes_;
    *changes = changes_;
    return f;
  };
  auto it = FindLocked(addr);
  if (it == vmas_.end()) {
    auto above = vmas_.upper_bound(addr);
    bool grown = above != vmas_.end() && above->second.grows_down &&
                 GrowDownLocked(above, addr, stack_limit);
    return verdict(grown ? Fault::kResolved : Fault::kAppError);
  }
  const Vma& vma = it->second;
  // A file page past EOF (when mapped) is SIGBUS; a PROT_NONE one is the
  // app's SIGSEGV, as Linux checks the protection first. Unless the file
  // has grown past it since (a write beyond its end): then the pages up to
  // the new end are mapped now, as Linux would fault them in.
  if (vma.beyond_eof) {
    if (vma.prot == PROT_NONE) return verdict(Fault::kAppError);
    const uint64_t eof = internal::EofPage(*vma.source);
    const uint64_t start = it->first;
    if (vma.source_offset + (internal::PageDown(addr) - start) < eof) {
      Vma grown = vma;
      grown.end = std::min(vma.end, start + (eof - vma.source_offset));
      if (RemapFromFileLocked(start, std::move(grown)))
        return verdict(Fault::kResolved);
    }
    return verdict(Fault::kBusError);
  }
  if (!vma.cow || !(vma.prot & PROT_WRITE)) {
    bool accessible = vma.backed && !vma.cow && vma.prot != PROT_NONE;
    return verdict(accessible ? Fault::kMaybeStale : Fault::kAppError);
  }
  const uint64_t chunk = addr & ~(kCowChunk - 1);
  const uint64_t start = std::max(it->first, chunk);
  const uint64_t end = std::min(vma.end, chunk + kCowChunk);
  if (auto r = BreakCowLocked(start, end, /*writable_only=*/true); !r) {
    // Out of memory (or the stub is gone): the app gets its SIGSEGV.
    LOG(Warning) << "mm: copy-on-write fault at " << std::hex << addr
                 << " failed: " << base::ErrnoName(r.error().value);
    return verdict(Fault::kAppError);
  }
  return verdict(Fault::kResolved);
}

bool MemoryManager::IsBeyondEof(uint64_t addr) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return false;
  --it;
  return addr < it->second.end && it->second.beyond_eof;
}

bool MemoryManager::IsCopyOnWrite(uint64_t addr) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return false;
  --it;
  return addr < it->second.end && it->second.cow;
}

}  // namespace mm
