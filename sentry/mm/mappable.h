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
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"

namespace mm {

// A range of the memory file, in bytes (page multiples).
struct BackingRun {
  uint64_t offset;
  uint64_t len;
};

// An address space that maps a file's own pages (a MAP_SHARED mapping of
// a file that SharesPages). The file calls Invalidate when some of its
// pages stop being its pages or start existing (truncation, growth by
// truncate or fallocate, a punched hole), and the address space maps that
// part of the file again (Linux's unmap_mapping_range; gVisor's
// memmap.MappingSpace.Invalidate).
class MappingSpace {
 public:
  virtual ~MappingSpace() = default;
  // Pages [start, end) (file byte offsets, page aligned) of the file
  // whose Mappable::identity is `file` changed. Called with none of the
  // file's locks held, and no memory manager's.
  virtual void Invalidate(const void* file, uint64_t start, uint64_t end) = 0;
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
  // For files that SharesPages: what the file calls itself in
  // MappingSpace::Invalidate (every Mappable of one file says the same),
  // and the registration of an address space that maps its pages. The
  // file holds `space` weakly and may call it until it expires.
  virtual const void* identity() const { return this; }
  virtual void AddMapper(std::weak_ptr<MappingSpace> space) {}
};

}  // namespace mm

#endif  // SENTRY_MM_MAPPABLE_H_
