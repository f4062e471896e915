#include "sentry/vfs/permission.h"

#include <algorithm>

namespace vfs {

bool IsRoot(const Creds& c) { return c.uid == 0; }

bool InGroup(const Creds& c, uint32_t gid) {
  return c.gid == gid ||
         std::find(c.groups.begin(), c.groups.end(), gid) != c.groups.end();
}

bool IsOwner(const struct stat& st, const Creds& c) {
  return st.st_uid == c.uid;
}

base::Result<void> CheckPermission(const struct stat& st, int mask,
                                   const Creds& c) {
  mask &= kMayRead | kMayWrite | kMayExec;
  const bool dir = S_ISDIR(st.st_mode);
  if (IsRoot(c)) {
    // CAP_DAC_OVERRIDE: everything but executing a file nobody may
    // execute.
    if ((mask & kMayExec) && !dir && !(st.st_mode & 0111)) {
      return base::Err(EACCES);
    }
    return {};
  }
  mode_t bits = st.st_mode;  // "other"
  if (IsOwner(st, c)) {
    bits >>= 6;
  } else if (InGroup(c, st.st_gid)) {
    bits >>= 3;
  }
  if ((bits & mask) != static_cast<mode_t>(mask)) return base::Err(EACCES);
  return {};
}

base::Result<void> MayCreate(const struct stat& dir, const Creds& c) {
  return CheckPermission(dir, kMayWrite | kMayExec, c);
}

base::Result<void> MayDelete(const struct stat& dir, const struct stat& victim,
                             const Creds& c) {
  TRY(CheckPermission(dir, kMayWrite | kMayExec, c));
  if ((dir.st_mode & S_ISVTX) && !IsRoot(c) && !IsOwner(victim, c) &&
      !IsOwner(dir, c)) {
    return base::Err(EPERM);
  }
  return {};
}

base::Result<void> MaySetAttr(const struct stat& st, const AttrChange& change,
                              const Creds& c, std::optional<mode_t>* mode_out) {
  const bool owner = IsOwner(st, c) || IsRoot(c);
  mode_t mode = st.st_mode & 07777;
  if (change.uid || change.gid) {
    // chown_ok / chgrp_ok: root, or the owner keeping the owner and
    // picking one of its own groups.
    if (change.uid && *change.uid != st.st_uid && !IsRoot(c)) {
      return base::Err(EPERM);
    }
    if (change.uid && !owner) return base::Err(EPERM);
    if (change.gid && !IsRoot(c) &&
        (!IsOwner(st, c) ||
         (*change.gid != st.st_gid && !InGroup(c, *change.gid)))) {
      return base::Err(EPERM);
    }
    // Giving a program away drops its set-ID bits (set-group-ID only
    // where it means "run as", with group execute).
    if (!S_ISDIR(st.st_mode)) {
      mode &= ~S_ISUID;
      if (mode & S_IXGRP) mode &= ~S_ISGID;
    }
  }
  if (change.mode) {
    if (!owner) return base::Err(EPERM);
    mode = *change.mode & 07777;
    const uint32_t gid = change.gid.value_or(st.st_gid);
    if (!IsRoot(c) && !InGroup(c, gid)) mode &= ~S_ISGID;
  }
  if (change.atime || change.mtime) {
    const bool now = change.atime && change.mtime &&
                     change.atime->tv_nsec == UTIME_NOW &&
                     change.mtime->tv_nsec == UTIME_NOW;
    if (now) {
      if (!owner) TRY(CheckPermission(st, kMayWrite, c));
    } else if (!owner) {
      return base::Err(EPERM);
    }
  }
  if (mode != (st.st_mode & 07777)) *mode_out = mode;
  return {};
}

}  // namespace vfs
