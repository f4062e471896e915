// The memory manager's view of an open file (mm::Mappable): what mmap(2)
// hands it, so that sentry/mm needs nothing of the VFS.
#ifndef SENTRY_VFS_MAPPABLE_H_
#define SENTRY_VFS_MAPPABLE_H_

#include <memory>

#include "sentry/mm/mappable.h"
#include "sentry/vfs/file_description.h"

namespace vfs {

// A Mappable that keeps `file` open for as long as a mapping holds it:
// ReadInto is PRead, Size and the identity come from Stat, and tmpfs files
// lend their pages. `file` must be of MmapKind::kFile. `shared_writable`:
// the mapping is MAP_SHARED and may be made writable (the file was open for
// writing), which the file may want to know of (memfd seals).
std::shared_ptr<mm::Mappable> MappableOf(std::shared_ptr<FileDescription> file,
                                         bool shared_writable = false);

}  // namespace vfs

#endif  // SENTRY_VFS_MAPPABLE_H_
