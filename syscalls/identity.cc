// Process and user identity: getpid(2), getppid(2), gettid(2), the get*id
// family.
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// Getpid implements Linux syscall getpid(2).
Result<int> Getpid(Task& t) { return t.thread_group().pid(); }

// Getppid implements Linux syscall getppid(2). The container's first
// process has no parent in the sandbox's pid namespace: 0, as on Linux.
Result<int> Getppid(Task& t) {
  return t.kernel().processes().Parent(t.thread_group().pid());
}

// Gettid implements Linux syscall gettid(2).
Result<int> Gettid(Task& t) { return t.tid(); }

// Getuid implements Linux syscall getuid(2).
Result<uint32_t> Getuid(Task& t) { return t.creds().ruid; }
// Geteuid implements Linux syscall geteuid(2).
Result<uint32_t> Geteuid(Task& t) { return t.creds().euid; }
// Getgid implements Linux syscall getgid(2).
Result<uint32_t> Getgid(Task& t) { return t.creds().rgid; }
// Getegid implements Linux syscall getegid(2).
Result<uint32_t> Getegid(Task& t) { return t.creds().egid; }

// Getresuid implements Linux syscall getresuid(2).
Result<void> Getresuid(Task& t, UserPtr<uint32_t> r, UserPtr<uint32_t> e,
                       UserPtr<uint32_t> s) {
  kernel::Credentials c = t.creds();
  TRY(t.mm().CopyOutObj(r, c.ruid));
  TRY(t.mm().CopyOutObj(e, c.euid));
  return t.mm().CopyOutObj(s, c.suid);
}

// Getresgid implements Linux syscall getresgid(2).
Result<void> Getresgid(Task& t, UserPtr<uint32_t> r, UserPtr<uint32_t> e,
                       UserPtr<uint32_t> s) {
  kernel::Credentials c = t.creds();
  TRY(t.mm().CopyOutObj(r, c.rgid));
  TRY(t.mm().CopyOutObj(e, c.egid));
  return t.mm().CopyOutObj(s, c.sgid);
}

// Getgroups implements Linux syscall getgroups(2).
Result<int> Getgroups(Task& t, int size, UserPtr<uint32_t> list) {
  if (size < 0) return Err(EINVAL);
  kernel::Credentials c = t.creds();
  int n = static_cast<int>(c.groups.size());
  if (size == 0) return n;
  if (size < n) return Err(EINVAL);
  TRY(t.mm().CopyOut(list.addr, c.groups.data(), n * sizeof(uint32_t)));
  return n;
}

// Getpgid implements Linux syscall getpgid(2).
Result<int> Getpgid(Task& t, int pid) {
  if (pid < 0) return Err(ESRCH);
  int pgid = t.kernel().processes().Pgid(pid ? pid : t.thread_group().pid());
  if (pgid < 0) return Err(ESRCH);
  return pgid;
}

// Getsid implements Linux syscall getsid(2).
Result<int> Getsid(Task& t, int pid) {
  if (pid < 0) return Err(ESRCH);
  int sid = t.kernel().processes().Sid(pid ? pid : t.thread_group().pid());
  if (sid < 0) return Err(ESRCH);
  return sid;
}

// Getpgrp implements Linux syscall getpgrp(2).
Result<int> Getpgrp(Task& t) {
  return t.kernel().processes().Pgid(t.thread_group().pid());
}

// Setpgid implements Linux syscall setpgid(2).
Result<void> Setpgid(Task& t, int pid, int pgid) {
  return t.kernel().processes().SetPgid(t.thread_group().pid(), pid, pgid);
}

// Setsid implements Linux syscall setsid(2).
Result<int> Setsid(Task& t) {
  return t.kernel().processes().SetSid(t.thread_group().pid());
}

}  // namespace

void RegisterIdentity(Registrar& r) {
  r.Full<&Getpid>(SYS_getpid);
  r.Full<&Getppid>(SYS_getppid);
  r.Full<&Gettid>(SYS_gettid);
  r.Full<&Getuid>(SYS_getuid);
  r.Full<&Geteuid>(SYS_geteuid);
  r.Full<&Getgid>(SYS_getgid);
  r.Full<&Getegid>(SYS_getegid);
  r.Full<&Getresuid>(SYS_getresuid);
  r.Full<&Getresgid>(SYS_getresgid);
  r.Full<&Getgroups>(SYS_getgroups);
  r.Full<&Getpgid>(SYS_getpgid);
  r.Full<&Getsid>(SYS_getsid);
  r.Full<&Getpgrp>(SYS_getpgrp);
  r.Full<&Setpgid>(SYS_setpgid);
  r.Full<&Setsid>(SYS_setsid);
}

}  // namespace syscalls
