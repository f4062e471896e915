// Changing identity: the setuid(2) family, setgroups(2). Checked in the
// sentry against the task's own credentials; no host id ever changes.
#include <sys/syscall.h>

#include <vector>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::Credentials;

constexpr uint32_t kUnchanged = static_cast<uint32_t>(-1);
constexpr int kMaxGroups = 65536;  // NGROUPS_MAX

// Root (euid 0) holds CAP_SETUID and CAP_SETGID here.
bool Privileged(const Credentials& c) { return c.euid == 0; }

bool OneOf(uint32_t id, uint32_t a, uint32_t b, uint32_t c) {
  return id == a || id == b || id == c;
}

// Setresuid implements Linux syscall setresuid(2).
Result<void> Setresuid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  Credentials c = t.thread_group().creds();
  if (!Privileged(c)) {
    for (uint32_t id : {r, e, s})
      if (id != kUnchanged && !OneOf(id, c.ruid, c.euid, c.suid))
        return Err(EPERM);
  }
  if (r != kUnchanged) c.ruid = r;
  if (e != kUnchanged) c.euid = e;
  if (s != kUnchanged) c.suid = s;
  c.fsuid = c.euid;
  t.thread_group().set_creds(c);
  return {};
}

// Setresgid implements Linux syscall setresgid(2).
Result<void> Setresgid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  Credentials c = t.thread_group().creds();
  if (!Privileged(c)) {
    for (uint32_t id : {r, e, s})
      if (id != kUnchanged && !OneOf(id, c.rgid, c.egid, c.sgid))
        return Err(EPERM);
  }
  if (r != kUnchanged) c.rgid = r;
  if (e != kUnchanged) c.egid = e;
  if (s != kUnchanged) c.sgid = s;
  c.fsgid = c.egid;
  t.thread_group().set_creds(c);
  return {};
}

// Setuid implements Linux syscall setuid(2).
Result<void> Setuid(Task& t, uint32_t uid) {
  if (uid == kUnchanged) return Err(EINVAL);
  Credentials c = t.thread_group().creds();
  if (Privileged(c)) return Setresuid(t, uid, uid, uid);
  if (uid != c.ruid && uid != c.suid) return Err(EPERM);
  return Setresuid(t, kUnchanged, uid, kUnchanged);
}

// Setgid implements Linux syscall setgid(2).
Result<void> Setgid(Task& t, uint32_t gid) {
  if (gid == kUnchanged) return Err(EINVAL);
  Credentials c = t.thread_group().creds();
  if (Privileged(c)) return Setresgid(t, gid, gid, gid);
  if (gid != c.rgid && gid != c.sgid) return Err(EPERM);
  return Setresgid(t, kUnchanged, gid, kUnchanged);
}

// Setreuid implements Linux syscall setreuid(2).
Result<void> Setreuid(Task& t, uint32_t r, uint32_t e) {
  Credentials c = t.thread_group().creds();
  if (!Privileged(c)) {
    if (r != kUnchanged && r != c.ruid && r != c.euid) return Err(EPERM);
    if (e != kUnchanged && !OneOf(e, c.ruid, c.euid, c.suid))
      return Err(EPERM);
  }
  // The saved id follows the new effective id when the real id is set or
  // the effective id leaves the old real id (Linux's rule).
  uint32_t s = kUnchanged;
  uint32_t new_e = e == kUnchanged ? c.euid : e;
  if (r != kUnchanged || (e != kUnchanged && e != c.ruid)) s = new_e;
  return Setresuid(t, r, e, s);
}

// Setregid implements Linux syscall setregid(2).
Result<void> Setregid(Task& t, uint32_t r, uint32_t e) {
  Credentials c = t.thread_group().creds();
  if (!Privileged(c)) {
    if (r != kUnchanged && r != c.rgid && r != c.egid) return Err(EPERM);
    if (e != kUnchanged && !OneOf(e, c.rgid, c.egid, c.sgid))
      return Err(EPERM);
  }
  uint32_t s = kUnchanged;
  uint32_t new_e = e == kUnchanged ? c.egid : e;
  if (r != kUnchanged || (e != kUnchanged && e != c.rgid)) s = new_e;
  return Setresgid(t, r, e, s);
}

// Setfsuid implements Linux syscall setfsuid(2): returns the old fsuid.
Result<uint32_t> Setfsuid(Task& t, uint32_t uid) {
  Credentials c = t.thread_group().creds();
  uint32_t old = c.fsuid;
  if (Privileged(c) || OneOf(uid, c.ruid, c.euid, c.suid) || uid == c.fsuid) {
    c.fsuid = uid;
    t.thread_group().set_creds(c);
  }
  return old;
}

// Setfsgid implements Linux syscall setfsgid(2): returns the old fsgid.
Result<uint32_t> Setfsgid(Task& t, uint32_t gid) {
  Credentials c = t.thread_group().creds();
  uint32_t old = c.fsgid;
  if (Privileged(c) || OneOf(gid, c.rgid, c.egid, c.sgid) || gid == c.fsgid) {
    c.fsgid = gid;
    t.thread_group().set_creds(c);
  }
  return old;
}

// Setgroups implements Linux syscall setgroups(2).
Result<void> Setgroups(Task& t, int size, UserPtr<uint32_t> list) {
  if (size < 0 || size > kMaxGroups) return Err(EINVAL);
  Credentials c = t.thread_group().creds();
  if (!Privileged(c)) return Err(EPERM);
  std::vector<uint32_t> groups(size);
  TRY(t.mm().CopyIn(list.addr, groups.data(), groups.size() * sizeof(uint32_t)));
  c.groups = std::move(groups);
  t.thread_group().set_creds(c);
  return {};
}

// Fadvise64 implements Linux syscall fadvise64(2): advice is accepted.
Result<void> Fadvise64(Task& t, Fd fd, int64_t offset, int64_t len,
                       int advice) {
  FilePtr f = TRY(GetFile(t, fd));
  if (advice < 0 || advice > 5) return Err(EINVAL);  // POSIX_FADV_*
  if (len < 0) return Err(EINVAL);
  struct stat st = TRY(f->Stat());
  if (S_ISFIFO(st.st_mode)) return Err(ESPIPE);
  return {};
}

}  // namespace

void RegisterCredentials(Registrar& r) {
  const char* kPerProcess =
      "credentials are per process, not per thread (as glibc keeps them "
      "in sync anyway); no capabilities beyond root";
  r.Partial<&Setuid>(SYS_setuid, kPerProcess);
  r.Partial<&Setgid>(SYS_setgid, kPerProcess);
  r.Partial<&Setreuid>(SYS_setreuid, kPerProcess);
  r.Partial<&Setregid>(SYS_setregid, kPerProcess);
  r.Partial<&Setresuid>(SYS_setresuid, kPerProcess);
  r.Partial<&Setresgid>(SYS_setresgid, kPerProcess);
  r.Partial<&Setfsuid>(SYS_setfsuid, kPerProcess);
  r.Partial<&Setfsgid>(SYS_setfsgid, kPerProcess);
  r.Partial<&Setgroups>(SYS_setgroups, kPerProcess);
  r.Partial<&Fadvise64>(SYS_fadvise64, "advice is checked and ignored");
}

}  // namespace syscalls
