// Resource limits: getrlimit(2), setrlimit(2), prlimit64(2).
#include <sys/resource.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

Result<void> CheckResource(int resource) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return Err(EINVAL);
  return {};
}

Result<void> SetLimit(Task& t, int resource, const rlimit& v) {
  if (v.rlim_cur > v.rlim_max) return Err(EINVAL);
  rlimit old = t.thread_group().GetRlimit(resource);
  // Raising a hard limit needs CAP_SYS_RESOURCE, which only root has here.
  if (v.rlim_max > old.rlim_max && t.thread_group().creds().euid != 0)
    return Err(EPERM);
  if (resource == RLIMIT_NOFILE && v.rlim_max > (1u << 20)) return Err(EPERM);
  t.thread_group().SetRlimit(resource, v);
  return {};
}

// Getrlimit implements Linux syscall getrlimit(2).
Result<void> Getrlimit(Task& t, int resource, UserPtr<rlimit> out) {
  TRY(CheckResource(resource));
  return t.mm().CopyOutObj(out, t.thread_group().GetRlimit(resource));
}

// Setrlimit implements Linux syscall setrlimit(2).
Result<void> Setrlimit(Task& t, int resource, UserPtr<rlimit> in) {
  TRY(CheckResource(resource));
  rlimit v = TRY(t.mm().CopyInObj(in));
  return SetLimit(t, resource, v);
}

// Prlimit64 implements Linux syscall prlimit64(2).
Result<void> Prlimit64(Task& t, int pid, int resource, UserPtr<rlimit> in,
                       UserPtr<rlimit> out) {
  TRY(CheckResource(resource));
  if (pid < 0) return Err(EINVAL);
  if (pid != 0 && pid != t.thread_group().pid()) return Err(ESRCH);
  rlimit old = t.thread_group().GetRlimit(resource);
  if (!in.IsNull()) {
    rlimit v = TRY(t.mm().CopyInObj(in));
    TRY(SetLimit(t, resource, v));
  }
  if (!out.IsNull()) TRY(t.mm().CopyOutObj(out, old));
  return {};
}

}  // namespace

void RegisterRlimit(Registrar& r) {
  const char* kNotEnforced = "recorded; only RLIMIT_NOFILE and RLIMIT_STACK "
                             "are enforced so far";
  r.Partial<&Getrlimit>(SYS_getrlimit, kNotEnforced);
  r.Partial<&Setrlimit>(SYS_setrlimit, kNotEnforced);
  r.Partial<&Prlimit64>(SYS_prlimit64, kNotEnforced);
}

}  // namespace syscalls
