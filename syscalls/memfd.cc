// memfd_create(2); the seals are fcntl(2)'s (open.cc).
#include <sys/mman.h>
#include <sys/syscall.h>

#include "sentry/vfs/tmpfs.h"
#include "syscalls/common.h"

namespace syscalls {
namespace {

// Linux 6.3's flags, newer than our headers.
constexpr unsigned kMfdNoexecSeal = 0x0008;
constexpr unsigned kMfdExec = 0x0010;
constexpr unsigned kMfdFlags =
    MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdNoexecSeal | kMfdExec;
// NAME_MAX minus "memfd:".
constexpr size_t kMaxNameLen = 249;

// MemfdCreate implements Linux syscall memfd_create(2).
Result<int> MemfdCreate(Task& t, UserPtr<char> uname, unsigned flags) {
  // MFD_HUGETLB (with its size bits) is refused too: no huge pages.
  if (flags & ~kMfdFlags) return Err(EINVAL);
  if ((flags & kMfdExec) && (flags & kMfdNoexecSeal)) return Err(EINVAL);
  Result<std::string> name = t.mm().CopyInString(uname.addr, kMaxNameLen);
  if (!name) {
    // Longer than allowed: EINVAL, as Linux (EFAULT stays EFAULT).
    if (name.error().value == ENAMETOOLONG) return Err(EINVAL);
    return std::unexpected(name.error());
  }
  const kernel::Credentials creds = t.creds();
  std::shared_ptr<vfs::FileDescription> f = vfs::TmpfsMemfd(
      t.kernel().memory_file(), *name, creds.fsuid, creds.fsgid,
      flags & MFD_ALLOW_SEALING, flags & kMfdNoexecSeal);
  return t.fds().Install(std::move(f), flags & MFD_CLOEXEC, 0,
                         NofileLimit(t));
}

}  // namespace

void RegisterMemfd(Registrar& r) {
  r.Partial<&MemfdCreate>(
      SYS_memfd_create,
      "a tmpfs file in the memory file with seals; no MFD_HUGETLB (EINVAL); "
      "MAP_SHARED mappings are snapshots (mmap(2)), so F_SEAL_WRITE never "
      "finds writable mappings (no EBUSY) and F_SEAL_EXEC does not stop "
      "chmod");
}

}  // namespace syscalls
