#include "sentry/boot/confine.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace boot {

base::Result<void> EnterEmptyRoot() {
  if (unshare(CLONE_NEWNS) != 0) return base::Err(errno);
  // Nothing mounted here may reach the host's namespace.
  if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return base::Err(errno);
  // The new root is mounted on /proc (every host has it) and entered by
  // a walk that crosses onto it; pivot_root(".", ".") then stacks the old
  // root on it, and the detach below drops the whole host tree.
  if (mount("runsc-sentry", "/proc", "tmpfs",
            MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0555") !=
      0)
    return base::Err(errno);
  if (chdir("/proc") != 0) return base::Err(errno);
  if (syscall(SYS_pivot_root, ".", ".") != 0) return base::Err(errno);
  if (umount2(".", MNT_DETACH) != 0) return base::Err(errno);
  if (chdir("/") != 0) return base::Err(errno);
  if (mount(nullptr, "/", nullptr,
            MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0)
    return base::Err(errno);
  return {};
}

}  // namespace boot
