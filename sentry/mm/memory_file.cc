#include "sentry/mm/memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "base/log.h"

namespace mm {

base::Result<std::unique_ptr<MemoryFile>> MemoryFile::Create(
    uint64_t max_size) {
  if (max_size == 0 || max_size % kPageSize != 0 ||
      max_size > uint64_t{INT64_MAX})
    return base::Err(EINVAL);
  base::UniqueFd fd(memfd_create("runsc-memory", MFD_CLOEXEC));
  if (!fd) return base::Err(errno);
  // A sparse file: its size costs nothing until pages are touched.
  if (ftruncate(fd.get(), static_cast<off_t>(max_size)) != 0)
    return base::Err(errno);
  // MAP_NORESERVE: the mapping is far larger than what will ever be used;
  // memory is committed page by page as the application touches it.
  void* base = mmap(nullptr, max_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
  if (base == MAP_FAILED) return base::Err(errno);
  return std::unique_ptr<MemoryFile>(
      new MemoryFile(std::move(fd), static_cast<uint8_t*>(base), max_size));
}

MemoryFile::~MemoryFile() { munmap(base_, size_); }

base::Result<uint64_t> MemoryFile::Allocate(uint64_t len) {
  // Callers are sentry code that already rounded the length.
  CHECK(len > 0 && len % kPageSize == 0);
  absl::MutexLock lock(&mu_);
  // First fit: reuses holes left by munmap before growing the file, which
  // keeps the used part of the file (and the stubs' page tables) compact.
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < len) continue;
    uint64_t offset = it->first;
    uint64_t rest = it->second - len;
    free_.erase(it);
    if (rest > 0) free_.emplace(offset + len, rest);
    allocated_ += len;
    return offset;
  }
  uint64_t new_top;
  if (__builtin_add_overflow(top_, len, &new_top) || new_top > size_)
    return base::Err(ENOMEM);
  uint64_t offset = top_;
  top_ = new_top;
  allocated_ += len;
  return offset;
}

void MemoryFile::SplitSharedLocked(uint64_t at) {
  auto it = shared_.upper_bound(at);
  if (it == shared_.begin()) return;
  --it;
  if (it->first < at && at < it->second.end) {
    shared_.emplace(at, Shared{it->second.end, it->second.extra});
    it->second.end = at;
  }
}

template <class SharedFn, class GapFn>
void MemoryFile::WalkLocked(uint64_t offset, uint64_t end, SharedFn on_shared,
                            GapFn on_gap) {
  SplitSharedLocked(offset);
  SplitSharedLocked(end);
  uint64_t pos = offset;
  auto it = shared_.lower_bound(offset);
  while (pos < end) {
    if (it != shared_.end() && it->first == pos) {
      pos = it->second.end;
      it = on_shared(it);
      continue;
    }
    uint64_t gap_end = (it != shared_.end() && it->first < end) ? it->first : end;
    on_gap(pos, gap_end);
    pos = gap_end;
  }
}

void MemoryFile::IncRef(uint64_t offset, uint64_t len) {
  if (len == 0) return;
  CHECK(offset % kPageSize == 0 && len % kPageSize == 0);
  absl::MutexLock lock(&mu_);
  WalkLocked(
      offset, offset + len,
      [](auto it) {
        ++it->second.extra;
        return std::next(it);
      },
      [&](uint64_t pos, uint64_t gap_end) {
        shared_.emplace(pos, Shared{gap_end, 1});
      });
}

void MemoryFile::Free(uint64_t offset, uint64_t len) {
  if (len == 0) return;
  CHECK(offset % kPageSize == 0 && len % kPageSize == 0);
  uint64_t end;
  CHECK(!__builtin_add_overflow(offset, len, &end));
  absl::MutexLock lock(&mu_);
  if (shared_.empty()) {
    ReleaseLocked(offset, len);
    return;
  }
  // Shared parts lose a reference; the parts in between had one owner.
  WalkLocked(
      offset, end,
      [&](auto it) {
        return --it->second.extra == 0 ? shared_.erase(it) : std::next(it);
      },
      [&](uint64_t pos, uint64_t gap_end) { ReleaseLocked(pos, gap_end - pos); });
}

void MemoryFile::ReleaseLocked(uint64_t offset, uint64_t len) {
  uint64_t end = offset + len;
  // Give the pages back to the host first, so the range reads as zero
  // when it is handed out again. Also drops them from every stub mapping.
  if (fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(offset), static_cast<off_t>(len)) != 0) {
    // Cannot happen on a memfd; zero by hand so reuse stays correct.
    LOG(Warning) << "memory file: punch hole failed: " << strerror(errno);
    memset(base_ + offset, 0, len);
  }
  CHECK(end <= top_);
  CHECK(allocated_ >= len);
  allocated_ -= len;

  auto next = free_.lower_bound(offset);
  // A double free would overlap a free range: a sentry bug.
  CHECK(next == free_.end() || next->first >= end);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    CHECK(prev->first + prev->second <= offset);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      len += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && next->first == end) {
    len += next->second;
    end += next->second;
    free_.erase(next);
  }
  if (end == top_) {
    // The file's used part shrinks; nothing above top_ is in free_.
    top_ = offset;
    return;
  }
  free_.emplace(offset, len);
}

bool MemoryFile::Exclusive(uint64_t offset, uint64_t len) const {
  const uint64_t end = offset + len;
  absl::MutexLock lock(&mu_);
  // The shared_ segment that starts last before `end` is the only
  // candidate that could reach into the range from below.
  auto it = shared_.lower_bound(end);
  if (it == shared_.begin()) return true;
  --it;
  return it->second.end <= offset;
}

uint64_t MemoryFile::allocated() const {
  absl::MutexLock lock(&mu_);
  return allocated_;
}

}  // namespace mm
