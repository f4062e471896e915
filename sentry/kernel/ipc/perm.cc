// SysV IPC permission checks (Linux's ipc/util.c).
#include "sentry/kernel/ipc/perm.h"

#include <algorithm>

namespace kernel::ipc {

void Perm::ToUser(ipc_perm* out) const {
  *out = {};
  out->__key = key;
  out->uid = uid;
  out->gid = gid;
  out->cuid = cuid;
  out->cgid = cgid;
  out->mode = static_cast<unsigned short>(mode);
  out->__seq = seq;
}

namespace {

bool InGroup(const Credentials& creds, uint32_t gid) {
  return creds.egid == gid ||
         std::find(creds.groups.begin(), creds.groups.end(), gid) !=
             creds.groups.end();
}

}  // namespace

bool MayAccess(const Credentials& creds, const Perm& perm, int flag) {
  int requested = (flag >> 6) | (flag >> 3) | flag;
  int granted = static_cast<int>(perm.mode);
  if (creds.euid == perm.cuid || creds.euid == perm.uid)
    granted >>= 6;
  else if (InGroup(creds, perm.cgid) || InGroup(creds, perm.gid))
    granted >>= 3;
  return !(requested & ~granted & 07) || creds.HasCap(kCapIpcOwner);
}

base::Result<void> MayChange(const Credentials& creds, const Perm& perm) {
  if (creds.euid == perm.uid || creds.euid == perm.cuid ||
      creds.HasCap(kCapSysAdmin))
    return {};
  return base::Err(EPERM);
}

void SetFrom(Perm& perm, const ipc_perm& in) {
  perm.uid = in.uid;
  perm.gid = in.gid;
  perm.mode = (perm.mode & ~0777u) | (in.mode & 0777u);
}

}  // namespace kernel::ipc
