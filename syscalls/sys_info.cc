// System information: uname(2), sethostname(2), setdomainname(2),
// sysinfo(2), getrandom(2).
#include <linux/capability.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <time.h>

#include <cstring>

#include "base/linux_version.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr const char* kRelease = base::kLinuxRelease;
constexpr const char* kVersion = base::kLinuxVersion;

void SetField(char* field, size_t size, std::string_view value) {
  size_t n = value.size() < size - 1 ? value.size() : size - 1;
  memcpy(field, value.data(), n);
  field[n] = '\0';
}

// Uname implements Linux syscall uname(2).
Result<void> Uname(Task& t, UserPtr<struct utsname> buf) {
  struct utsname u{};
  SetField(u.sysname, sizeof(u.sysname), "Linux");
  SetField(u.nodename, sizeof(u.nodename), t.ns.uts->hostname());
  SetField(u.release, sizeof(u.release), kRelease);
  SetField(u.version, sizeof(u.version), kVersion);
  SetField(u.machine, sizeof(u.machine), "x86_64");
  SetField(u.domainname, sizeof(u.domainname), t.ns.uts->domainname());
  return t.mm().CopyOutObj(buf, u);
}

// The checks of Linux's sethostname and setdomainname, in their order:
// the privilege in the namespace's user namespace (the sandbox has one),
// the length, then the copy. The name is `len` bytes, NULs and all.
Result<std::string> CopyInUtsName(Task& t, UserPtr<char> name, int len) {
  if (!t.creds().HasCap(CAP_SYS_ADMIN)) return Err(EPERM);
  if (len < 0 || static_cast<size_t>(len) > kernel::kMaxUtsName)
    return Err(EINVAL);
  std::string value(static_cast<size_t>(len), '\0');
  TRY(t.mm().CopyIn(name.addr, value.data(), value.size()));
  return value;
}

// Sethostname implements Linux syscall sethostname(2).
// TODO(issue 13): /proc/sys/kernel/hostname shows and sets it, with procfs.
Result<void> Sethostname(Task& t, UserPtr<char> name, int len) {
  t.ns.uts->set_hostname(TRY(CopyInUtsName(t, name, len)));
  return {};
}

// Setdomainname implements Linux syscall setdomainname(2).
Result<void> Setdomainname(Task& t, UserPtr<char> name, int len) {
  t.ns.uts->set_domainname(TRY(CopyInUtsName(t, name, len)));
  return {};
}

// Sysinfo implements Linux syscall sysinfo(2). Memory figures are the
// host's until the sandbox has its own memory accounting.
Result<void> Sysinfo(Task& t, UserPtr<struct sysinfo> buf) {
  struct sysinfo host{};
  ::sysinfo(&host);
  struct sysinfo s{};
  // Uptime agrees with the CLOCK_BOOTTIME the sandbox reports (the
  // host's), rounded up as Linux does.
  timespec boot;
  clock_gettime(CLOCK_BOOTTIME, &boot);
  s.uptime = boot.tv_sec + (boot.tv_nsec ? 1 : 0);
  s.totalram = host.totalram;
  s.freeram = host.freeram;
  s.bufferram = host.bufferram;
  s.totalswap = host.totalswap;
  s.freeswap = host.freeswap;
  s.procs = 1;  // TODO(issue 3): the number of tasks once fork exists.
  s.mem_unit = host.mem_unit;
  return t.mm().CopyOutObj(buf, s);
}

// Getrandom implements Linux syscall getrandom(2).
Result<size_t> Getrandom(Task& t, UserPtr<uint8_t> buf, size_t len,
                         unsigned flags) {
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) return Err(EINVAL);
  if ((flags & GRND_INSECURE) && (flags & GRND_RANDOM)) return Err(EINVAL);
  constexpr size_t kMax = 0x1ffffff;  // Linux caps one call at 32 MiB - 1
  if (len > kMax) len = kMax;
  const mm::UserRange range{buf.addr, len};
  return t.mm().WithIoBlocks(
      std::span(&range, 1), mm::Access::kWrite,
      [](std::span<const iovec> blocks) -> Result<size_t> {
        size_t total = 0;
        for (const iovec& b : blocks) {
          size_t done = 0;
          while (done < b.iov_len) {
            // Flags 0 never blocks once the host's pool is ready (long
            // before a sandbox starts), so this may run under the mm lock.
            ssize_t n = ::getrandom(static_cast<char*>(b.iov_base) + done,
                                    b.iov_len - done, 0);
            if (n < 0) {
              if (errno == EINTR) continue;
              return total ? Result<size_t>(total) : Err(errno);
            }
            done += n;
          }
          total += done;
        }
        return total;
      });
}

}  // namespace

void RegisterSysInfo(Registrar& r) {
  r.Full<&Uname>(SYS_uname);
  r.Full<&Sethostname>(SYS_sethostname);
  r.Full<&Setdomainname>(SYS_setdomainname);
  r.Partial<&Sysinfo>(SYS_sysinfo, "memory figures are the host's");
  r.Full<&Getrandom>(SYS_getrandom);
}

}  // namespace syscalls
