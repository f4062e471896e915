// Mappable: what a file mapping maps (gVisor's memmap.Mappable, reduced to
// what this memory manager does with one). mm knows files only through it:
// the VFS adapts its open descriptions (sentry/vfs/mappable.h), and tmpfs
// files, whose data already lives in the memory file, lend their own pages
// to MAP_SHARED mappings so that every mapping and read(2)/write(2) see the
// same bytes.
#ifndef SENTRY_MM_MAPPABLE_H_
#define SENTRY_MM_MAPPABLE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"

namespace mm {

// A range of the memory file, in bytes (page multiples).
struct BackingRun {
  uint64_t offset;
  uint64_t len;
};

class Mappable {
 public:
  virtual ~Mappable() = default;

  // Copies the file's bytes at [pos, pos + len) to `dst` (sentry memory):
  // private mappings, and shared mappings of files without pages of their
  // own, are filled this way. Bytes past the end of the file are left as
  // they are. May take the file's locks (mm calls it under its own lock),
  // never a MemoryManager's.
  virtual base::Result<void> ReadInto(uint64_t pos, uint8_t* dst,
                                      uint64_t len) = 0;
  // The file's size now; pages past the one holding it raise SIGBUS.
  // nullopt: the file cannot say, and is taken as endless.
  virtual std::optional<uint64_t> Size() = 0;
  // What /proc/<pid>/maps shows for the mapping.
  virtual dev_t dev() = 0;
  virtual ino_t ino() = 0;

  // True when MAP_SHARED maps the file's own memory-file pages (PinPages)
  // rather than a private snapshot of its bytes.
  virtual bool SharesPages() const { return false; }
  // The memory-file runs that hold the file's pages [offset, offset + len)
  // (page aligned), in order, holes filled with fresh zero pages. Each run
  // carries one reference taken for the caller, which it drops with
  // MemoryFile::Free when it unmaps. On error nothing stays referenced.
  virtual base::Result<std::vector<BackingRun>> PinPages(uint64_t offset,
                                                         uint64_t len) {
    return base::Err(ENODEV);
  }
};

}  // namespace mm

#endif  // SENTRY_MM_MAPPABLE_H_
