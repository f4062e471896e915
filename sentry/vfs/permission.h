// Linux's permission rules for the VFS (generic_permission, may_create,
// may_delete, the ownership checks of chmod/chown/utimes), on a struct
// stat and Creds. uid 0 stands for the capabilities Linux checks here
// (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN).
#ifndef SENTRY_VFS_PERMISSION_H_
#define SENTRY_VFS_PERMISSION_H_

#include <sys/stat.h>

#include <cstdint>

#include "base/result.h"
#include "sentry/vfs/vfs.h"

namespace vfs {

inline constexpr int kMayExec = 1;   // X_OK
inline constexpr int kMayWrite = 2;  // W_OK
inline constexpr int kMayRead = 4;   // R_OK

bool IsRoot(const Creds& c);
// The caller's fsgid or one of its supplementary groups.
bool InGroup(const Creds& c, uint32_t gid);
bool IsOwner(const struct stat& st, const Creds& c);

// `mask` (kMay* bits) against the owner/group/other bits; root may read
// and write anything, search any directory, and execute a file if any x
// bit is set. EACCES otherwise.
base::Result<void> CheckPermission(const struct stat& st, int mask,
                                   const Creds& c);
// Creating a name in `dir`: write and search permission.
base::Result<void> MayCreate(const struct stat& dir, const Creds& c);
// Removing (or renaming away) `victim` from `dir`: write and search
// permission, and with the sticky bit only the owner of the file or of
// the directory (or root) may (EPERM).
base::Result<void> MayDelete(const struct stat& dir, const struct stat& victim,
                             const Creds& c);
// Whether `change` may be applied to a file with `st`, as Linux's
// setattr_prepare: EPERM (not the owner, chown rules), EACCES (UTIME_NOW
// without write permission). Sets *mode_out to the mode after chmod and
// chown side effects (set-group-ID cleared for outsiders, set-user-ID
// cleared by chown), or leaves it unset if unchanged.
base::Result<void> MaySetAttr(const struct stat& st, const AttrChange& change,
                              const Creds& c, std::optional<mode_t>* mode_out);

}  // namespace vfs

#endif  // SENTRY_VFS_PERMISSION_H_
