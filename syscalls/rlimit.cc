// Resource limits: getrlimit(2), setrlimit(2), prlimit64(2).
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <memory>
#include <optional>

#include "syscalls/common.h"

namespace syscalls {
namespace {

Result<void> CheckResource(int resource) {
  if (resource < 0 || resource >= RLIM_NLIMITS) return Err(EINVAL);
  return {};
}

// Sets `target`'s limit for the calling task `t`.
Result<void> SetLimit(Task& t, kernel::ThreadGroup& target, int resource,
                      const rlimit& v) {
  if (v.rlim_cur > v.rlim_max) return Err(EINVAL);
  rlimit old = target.GetRlimit(resource);
  // Raising a hard limit needs CAP_SYS_RESOURCE.
  if (v.rlim_max > old.rlim_max &&
      !t.creds().HasCap(CAP_SYS_RESOURCE))
    return Err(EPERM);
  if (resource == RLIMIT_NOFILE && v.rlim_max > (1u << 20)) return Err(EPERM);
  target.SetRlimit(resource, v);
  return {};
}

// Linux's check_prlimit_permission: another process's limits need the
// same real, effective and saved uid and gid, or CAP_SYS_RESOURCE.
bool MayPrlimit(const kernel::Credentials& me,
                const kernel::Credentials& them) {
  if (me.HasCap(CAP_SYS_RESOURCE)) return true;
  return me.ruid == them.ruid && me.ruid == them.euid && me.ruid == them.suid &&
         me.rgid == them.rgid && me.rgid == them.egid && me.rgid == them.sgid;
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
  return SetLimit(t, t.thread_group(), resource, v);
}

// Prlimit64 implements Linux syscall prlimit64(2): pid 0 is the caller,
// any other pid a process in the sandbox.
Result<void> Prlimit64(Task& t, int pid, int resource, UserPtr<rlimit> in,
                       UserPtr<rlimit> out) {
  TRY(CheckResource(resource));
  std::optional<rlimit> v;
  if (!in.IsNull()) v = TRY(t.mm().CopyInObj(in));
  kernel::ThreadGroup* tg = &t.thread_group();
  std::shared_ptr<kernel::ThreadGroup> other;  // keeps the target alive
  if (pid != 0 && pid != tg->pid()) {
    other = t.kernel().processes().Find(pid);
    if (!other) return Err(ESRCH);
    if (!MayPrlimit(t.creds(), other->creds())) return Err(EPERM);
    tg = other.get();
  }
  const rlimit old = tg->GetRlimit(resource);
  if (v) TRY(SetLimit(t, *tg, resource, *v));
  if (!out.IsNull()) TRY(t.mm().CopyOutObj(out, old));
  return {};
}

}  // namespace

void RegisterRlimit(Registrar& r) {
  const char* kNotEnforced =
      "recorded; enforced: NOFILE, STACK, NPROC (at fork/clone), "
      "SIGPENDING (per queue, not per user), NICE and RTPRIO (sched), "
      "AS, DATA and MEMLOCK (mmap, mremap, brk, mprotect, mlock), FSIZE "
      "(tmpfs and host files), CPU, MSGQUEUE (mq_open, per uid); not "
      "LOCKS, CORE (no core "
      "dumps are written), RTTIME (no real-time scheduling)";
  r.Partial<&Getrlimit>(SYS_getrlimit, kNotEnforced);
  r.Partial<&Setrlimit>(SYS_setrlimit, kNotEnforced);
  r.Partial<&Prlimit64>(SYS_prlimit64, kNotEnforced);
}

}  // namespace syscalls
