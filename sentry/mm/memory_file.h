// MemoryFile: the one memfd that backs all application memory.
//
// The sentry maps the whole file into its own address space once, so that
// copying to or from the application is a memcpy at base() + offset. The
// platform maps ranges of the same file into the stubs. Freed ranges are
// punched out (their memory goes back to the host) and reused.
#ifndef SENTRY_MM_MEMORY_FILE_H_
#define SENTRY_MM_MEMORY_FILE_H_

#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace mm {

inline constexpr uint64_t kPageSize = 4096;

class MemoryFile {
 public:
  // `max_size` bounds all application memory of the sandbox at once; it
  // costs only address space in the sentry, not memory.
  static base::Result<std::unique_ptr<MemoryFile>> Create(
      uint64_t max_size = uint64_t{1} << 40);
  ~MemoryFile();

  int fd() const { return fd_.get(); }
  // The sentry's view of the byte at file offset 0.
  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }

  // Allocates `len` (a page multiple) bytes that read as zero. ENOMEM when
  // the file is exhausted.
  base::Result<uint64_t> Allocate(uint64_t len);
  // Drops one reference to a range from Allocate (or a page-aligned part
  // of one). Pages nobody else references go back to the host and read as
  // zero when reused.
  void Free(uint64_t offset, uint64_t len);
  // Adds a reference to an allocated range: a shared mapping inherited by
  // fork, or private pages fork shares copy-on-write. Each IncRef needs one
  // more Free.
  void IncRef(uint64_t offset, uint64_t len);

  // True if nobody but the caller references any page of the range (no
  // IncRef is outstanding on it): copy-on-write may then write in place.
  bool Exclusive(uint64_t offset, uint64_t len) const;

  // Bytes currently allocated (for accounting and tests).
  uint64_t allocated() const;

 private:
  MemoryFile(base::UniqueFd fd, uint8_t* base, uint64_t size)
      : fd_(std::move(fd)), base_(base), size_(size) {}

  const base::UniqueFd fd_;
  uint8_t* const base_;
  const uint64_t size_;

  mutable absl::Mutex mu_;
  // Free ranges below `top_`: offset -> length, never adjacent (merged).
  std::map<uint64_t, uint64_t> free_ ABSL_GUARDED_BY(mu_);
  // Everything at or above top_ has never been allocated.
  uint64_t top_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t allocated_ ABSL_GUARDED_BY(mu_) = 0;

  // Ranges with references beyond the first: start -> (end, extra refs).
  // Most memory has one owner, so this stays small.
  struct Shared {
    uint64_t end;
    uint32_t extra;
  };
  std::map<uint64_t, Shared> shared_ ABSL_GUARDED_BY(mu_);
  // Splits the shared_ segment containing `at`, if any, so one starts there.
  void SplitSharedLocked(uint64_t at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Splits shared_ at offset and end, then calls on_shared(it) for each
  // shared_ segment in [offset, end) (it returns the iterator to go on
  // from) and on_gap(pos, gap_end) for each stretch with a single owner.
  template <class SharedFn, class GapFn>
  void WalkLocked(uint64_t offset, uint64_t end, SharedFn on_shared,
                  GapFn on_gap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns pages to the host and the free list (one owner left: none).
  void ReleaseLocked(uint64_t offset, uint64_t len)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace mm

#endif  // SENTRY_MM_MEMORY_FILE_H_
