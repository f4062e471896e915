// System information: uname(2), sysinfo(2), getrandom(2).
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <time.h>

#include <cstring>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// The Linux version the sandbox reports: new enough for current glibc and
// programs that probe features, which fall back when a call is ENOSYS.
constexpr char kRelease[] = "5.15.0";
constexpr char kVersion[] = "#1 SMP runsc";

void SetField(char* field, size_t size, std::string_view value) {
  size_t n = value.size() < size - 1 ? value.size() : size - 1;
  memcpy(field, value.data(), n);
  field[n] = '\0';
}

// Uname implements Linux syscall uname(2).
Result<void> Uname(Task& t, UserPtr<struct utsname> buf) {
  struct utsname u{};
  SetField(u.sysname, sizeof(u.sysname), "Linux");
  SetField(u.nodename, sizeof(u.nodename), t.kernel().hostname());
  SetField(u.release, sizeof(u.release), kRelease);
  SetField(u.version, sizeof(u.version), kVersion);
  SetField(u.machine, sizeof(u.machine), "x86_64");
  SetField(u.domainname, sizeof(u.domainname), "(none)");
  return t.mm().CopyOutObj(buf, u);
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
  r.Partial<&Sysinfo>(SYS_sysinfo, "memory figures are the host's");
  r.Full<&Getrandom>(SYS_getrandom);
}

}  // namespace syscalls
