// Changing identity: the setuid(2) family, setgroups(2). Checked in the
// sentry against the calling thread's own credentials and changing only
// them (Task::creds, as Linux); no host id ever changes.
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/syscall.h>

#include <algorithm>
#include <vector>

#include "syscalls/common.h"

namespace syscalls {
namespace {

using kernel::Credentials;

constexpr uint32_t kUnchanged = static_cast<uint32_t>(-1);
constexpr int kMaxGroups = 65536;  // NGROUPS_MAX

bool OneOf(uint32_t id, uint32_t a, uint32_t b, uint32_t c) {
  return id == a || id == b || id == c;
}

// Linux's cap_emulate_setxuid: the capabilities follow a change of the
// real, effective or saved uid, so a root process that gives up uid 0
// also gives up its privileges.
void FixCapsForSetuid(const Credentials& old, Credentials& c) {
  const bool was_root = old.ruid == 0 || old.euid == 0 || old.suid == 0;
  const bool is_root = c.ruid == 0 || c.euid == 0 || c.suid == 0;
  if (was_root && !is_root) {
    // PR_SET_KEEPCAPS (SECBIT_KEEP_CAPS) keeps the permitted set.
    if (!(old.securebits & SECBIT_KEEP_CAPS))
      c.cap_permitted = c.cap_effective = 0;
    c.cap_ambient = 0;
  }
  if (old.euid == 0 && c.euid != 0) c.cap_effective = 0;
  if (old.euid != 0 && c.euid == 0) c.cap_effective = c.cap_permitted;
}

// The same for setfsuid(2): only the filesystem capabilities follow.
void FixCapsForSetfsuid(const Credentials& old, Credentials& c) {
  if (old.fsuid == 0 && c.fsuid != 0) c.cap_effective &= ~kernel::kFsCaps;
  if (old.fsuid != 0 && c.fsuid == 0)
    c.cap_effective |= c.cap_permitted & kernel::kFsCaps;
}

// Installs checked credentials (Linux's commit_creds): a change of the
// effective or filesystem ids clears the caller's death signal and makes
// the process not dumpable (the suid_dumpable sysctl's default, 0).
void Commit(Task& t, const Credentials& old, Credentials c) {
  if (c.euid != old.euid || c.egid != old.egid || c.fsuid != old.fsuid ||
      c.fsgid != old.fsgid) {
    t.thread_group().set_dumpable(0);
    t.pdeath_signal.store(0, std::memory_order_relaxed);
  }
  t.set_creds(std::move(c));
}

// Installs new uids after a setuid-family call checked them.
void CommitUids(Task& t, const Credentials& old, Credentials c) {
  FixCapsForSetuid(old, c);
  Commit(t, old, std::move(c));
}

// Setresuid implements Linux syscall setresuid(2).
Result<void> Setresuid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  const Credentials old = t.creds();
  if (!old.HasCap(CAP_SETUID)) {
    for (uint32_t id : {r, e, s})
      if (id != kUnchanged && !OneOf(id, old.ruid, old.euid, old.suid))
        return Err(EPERM);
  }
  Credentials c = old;
  if (r != kUnchanged) c.ruid = r;
  if (e != kUnchanged) c.euid = e;
  if (s != kUnchanged) c.suid = s;
  c.fsuid = c.euid;
  CommitUids(t, old, std::move(c));
  return {};
}

// Setresgid implements Linux syscall setresgid(2).
Result<void> Setresgid(Task& t, uint32_t r, uint32_t e, uint32_t s) {
  const Credentials old = t.creds();
  Credentials c = old;
  if (!c.HasCap(CAP_SETGID)) {
    for (uint32_t id : {r, e, s})
      if (id != kUnchanged && !OneOf(id, c.rgid, c.egid, c.sgid))
        return Err(EPERM);
  }
  if (r != kUnchanged) c.rgid = r;
  if (e != kUnchanged) c.egid = e;
  if (s != kUnchanged) c.sgid = s;
  c.fsgid = c.egid;
  Commit(t, old, std::move(c));
  return {};
}

// Setuid implements Linux syscall setuid(2).
Result<void> Setuid(Task& t, uint32_t uid) {
  if (uid == kUnchanged) return Err(EINVAL);
  const Credentials old = t.creds();
  Credentials c = old;
  if (old.HasCap(CAP_SETUID)) {
    c.ruid = c.suid = uid;
  } else if (uid != old.ruid && uid != old.suid) {
    return Err(EPERM);
  }
  c.euid = c.fsuid = uid;
  CommitUids(t, old, std::move(c));
  return {};
}

// Setgid implements Linux syscall setgid(2).
Result<void> Setgid(Task& t, uint32_t gid) {
  if (gid == kUnchanged) return Err(EINVAL);
  Credentials c = t.creds();
  if (c.HasCap(CAP_SETGID)) return Setresgid(t, gid, gid, gid);
  if (gid != c.rgid && gid != c.sgid) return Err(EPERM);
  return Setresgid(t, kUnchanged, gid, kUnchanged);
}

// Setreuid implements Linux syscall setreuid(2).
Result<void> Setreuid(Task& t, uint32_t r, uint32_t e) {
  const Credentials old = t.creds();
  if (!old.HasCap(CAP_SETUID)) {
    if (r != kUnchanged && r != old.ruid && r != old.euid) return Err(EPERM);
    if (e != kUnchanged && !OneOf(e, old.ruid, old.euid, old.suid))
      return Err(EPERM);
  }
  Credentials c = old;
  if (r != kUnchanged) c.ruid = r;
  if (e != kUnchanged) c.euid = e;
  // The saved id follows the new effective id when the real id is set or
  // the effective id leaves the old real id (Linux's rule).
  if (r != kUnchanged || (e != kUnchanged && e != old.ruid)) c.suid = c.euid;
  c.fsuid = c.euid;
  CommitUids(t, old, std::move(c));
  return {};
}

// Setregid implements Linux syscall setregid(2).
Result<void> Setregid(Task& t, uint32_t r, uint32_t e) {
  Credentials c = t.creds();
  if (!c.HasCap(CAP_SETGID)) {
    if (r != kUnchanged && r != c.rgid && r != c.egid) return Err(EPERM);
    if (e != kUnchanged && !OneOf(e, c.rgid, c.egid, c.sgid)) return Err(EPERM);
  }
  uint32_t s = kUnchanged;
  uint32_t new_e = e == kUnchanged ? c.egid : e;
  if (r != kUnchanged || (e != kUnchanged && e != c.rgid)) s = new_e;
  return Setresgid(t, r, e, s);
}

// Setfsuid implements Linux syscall setfsuid(2): returns the old fsuid.
// -1 (no valid uid) only reads it.
Result<uint32_t> Setfsuid(Task& t, uint32_t uid) {
  const Credentials old = t.creds();
  if (uid == kUnchanged || uid == old.fsuid) return old.fsuid;
  if (old.HasCap(CAP_SETUID) || OneOf(uid, old.ruid, old.euid, old.suid)) {
    Credentials c = old;
    c.fsuid = uid;
    FixCapsForSetfsuid(old, c);
    Commit(t, old, std::move(c));
  }
  return old.fsuid;
}

// Setfsgid implements Linux syscall setfsgid(2): returns the old fsgid.
Result<uint32_t> Setfsgid(Task& t, uint32_t gid) {
  const Credentials old = t.creds();
  if (gid == kUnchanged || gid == old.fsgid) return old.fsgid;
  if (old.HasCap(CAP_SETGID) || OneOf(gid, old.rgid, old.egid, old.sgid)) {
    Credentials c = old;
    c.fsgid = gid;
    Commit(t, old, std::move(c));
  }
  return old.fsgid;
}

// Setgroups implements Linux syscall setgroups(2): the privilege first,
// then the size; the list is kept sorted (duplicates too), as Linux's
// groups_sort, and getgroups(2) returns it so.
Result<void> Setgroups(Task& t, int size, UserPtr<uint32_t> list) {
  Credentials c = t.creds();
  if (!c.HasCap(CAP_SETGID)) return Err(EPERM);
  if (size < 0 || size > kMaxGroups) return Err(EINVAL);
  std::vector<uint32_t> groups(size);
  TRY(t.mm().CopyIn(list.addr, groups.data(),
                    groups.size() * sizeof(uint32_t)));
  std::sort(groups.begin(), groups.end());
  c.groups = std::move(groups);
  t.set_creds(std::move(c));
  return {};
}

// Fadvise64 implements Linux syscall fadvise64(2): advice is accepted.
Result<void> Fadvise64(Task& t, Fd fd, int64_t offset, int64_t len,
                       int advice) {
  FilePtr f = TRY(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);  // names a file, is not one open
  if (advice < 0 || advice > 5) return Err(EINVAL);  // POSIX_FADV_*
  if (len < 0) return Err(EINVAL);
  struct stat st = TRY(f->Stat());
  if (S_ISFIFO(st.st_mode)) return Err(ESPIPE);
  return {};
}

}  // namespace

void RegisterCredentials(Registrar& r) {
  const char* kPerProcess =
      "per thread as Linux (glibc's wrappers change every thread); "
      "capabilities follow uid changes as in Linux, without securebits "
      "(PR_SET_KEEPCAPS only); RLIMIT_NPROC is not rechecked at the next "
      "execve";
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
