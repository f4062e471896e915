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
Result<int> Getppid(Task& t) { return t.thread_group().ppid(); }

// Gettid implements Linux syscall gettid(2).
Result<int> Gettid(Task& t) { return t.tid(); }

// Getuid implements Linux syscall getuid(2).
Result<uint32_t> Getuid(Task& t) { return t.thread_group().creds().ruid; }
// Geteuid implements Linux syscall geteuid(2).
Result<uint32_t> Geteuid(Task& t) { return t.thread_group().creds().euid; }
// Getgid implements Linux syscall getgid(2).
Result<uint32_t> Getgid(Task& t) { return t.thread_group().creds().rgid; }
// Getegid implements Linux syscall getegid(2).
Result<uint32_t> Getegid(Task& t) { return t.thread_group().creds().egid; }

// Getresuid implements Linux syscall getresuid(2).
Result<void> Getresuid(Task& t, UserPtr<uint32_t> r, UserPtr<uint32_t> e,
                       UserPtr<uint32_t> s) {
  kernel::Credentials c = t.thread_group().creds();
  TRY(t.mm().CopyOutObj(r, c.ruid));
  TRY(t.mm().CopyOutObj(e, c.euid));
  return t.mm().CopyOutObj(s, c.suid);
}

// Getresgid implements Linux syscall getresgid(2).
Result<void> Getresgid(Task& t, UserPtr<uint32_t> r, UserPtr<uint32_t> e,
                       UserPtr<uint32_t> s) {
  kernel::Credentials c = t.thread_group().creds();
  TRY(t.mm().CopyOutObj(r, c.rgid));
  TRY(t.mm().CopyOutObj(e, c.egid));
  return t.mm().CopyOutObj(s, c.sgid);
}

// Getgroups implements Linux syscall getgroups(2).
Result<int> Getgroups(Task& t, int size, UserPtr<uint32_t> list) {
  kernel::Credentials c = t.thread_group().creds();
  int n = static_cast<int>(c.groups.size());
  if (size == 0) return n;
  if (size < n) return Err(EINVAL);
  TRY(t.mm().CopyOut(list.addr, c.groups.data(), n * sizeof(uint32_t)));
  return n;
}

// Process groups and sessions arrive with fork (next issue); until then
// the only process leads its own group and session.
Result<int> OwnGroup(Task& t, int pid) {
  if (pid != 0 && pid != t.thread_group().pid()) return Err(ESRCH);
  return t.thread_group().pid();
}

// Getpgid implements Linux syscall getpgid(2).
Result<int> Getpgid(Task& t, int pid) { return OwnGroup(t, pid); }
// Getsid implements Linux syscall getsid(2).
Result<int> Getsid(Task& t, int pid) { return OwnGroup(t, pid); }
// Getpgrp implements Linux syscall getpgrp(2).
Result<int> Getpgrp(Task& t) { return t.thread_group().pid(); }

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
  const char* kOneProcess = "single process: it is its own group and session";
  r.Partial<&Getpgid>(SYS_getpgid, kOneProcess);
  r.Partial<&Getsid>(SYS_getsid, kOneProcess);
  r.Partial<&Getpgrp>(SYS_getpgrp, kOneProcess);
}

}  // namespace syscalls
