#include "gofer/confine.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace gofer {
namespace {

absl::Status Errno(const std::string& what, int e = errno) {
  return absl::Status(absl::ErrnoToStatusCode(e),
                      absl::StrCat(what, ": ", strerror(e)));
}

// What the operations need (see gofer/README.md): to give new files the
// sentry's owners, to reach any file of the tree whatever its mode, to link
// by handle (linkat AT_EMPTY_PATH), to set times and modes of files owned
// by others, and to keep setgid bits on chown.
constexpr int kKeptCaps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                             CAP_FOWNER, CAP_FSETID};

bool Kept(int cap) {
  for (int c : kKeptCaps)
    if (c == cap) return true;
  return false;
}

}  // namespace

absl::StatusOr<std::vector<Mount>> OpenMounts(
    const std::vector<MountSpec>& specs) {
  std::vector<Mount> mounts;
  for (const MountSpec& s : specs) {
    Mount m;
    m.name = s.name;
    m.read_only = s.read_only;
    m.root.Reset(open(s.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!m.root) return Errno(s.path);
    for (const Mount& other : mounts)
      if (other.name == m.name)
        return absl::InvalidArgumentError(
            absl::StrCat("mount name \"", m.name, "\" given twice"));
    mounts.push_back(std::move(m));
  }
  return mounts;
}

absl::Status EnterRoot(const MountSpec& root, Isolation isolation,
                       std::vector<Mount>* mounts) {
  int root_fd = (*mounts)[0].root.get();
  struct stat want;
  if (fstat(root_fd, &want) != 0) return Errno("stat root");
  switch (isolation) {
    case Isolation::kNone:
      return absl::OkStatus();
    case Isolation::kChroot:
      if (fchdir(root_fd) != 0) return Errno("chdir to root");
      if (chroot(".") != 0) return Errno("chroot");
      if (chdir("/") != 0) return Errno("chdir /");
      return absl::OkStatus();
    case Isolation::kPivotRoot:
      break;
  }
  const char* path = root.path.c_str();
  if (unshare(CLONE_NEWNS) != 0) return Errno("unshare mount namespace");
  // Nothing we mount here reaches the host's namespace.
  if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return Errno("make / a slave mount");
  // The root is bound below a staging tmpfs, on /proc (which exists on
  // every host), rather than onto itself: a bind of "/" onto "/" would not
  // be reached by a walk from our root, and pivot_root refuses to pivot to
  // the root we already have.
  constexpr const char* kStage = "/proc";
  constexpr const char* kNewRoot = "/proc/root";
  if (mount("runsc-gofer", kStage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,mode=0700") != 0)
    return Errno("mount a staging tmpfs");
  if (mkdir(kNewRoot, 0700) != 0) return Errno("mkdir the staging root");
  // A non-recursive bind: the new root holds the root filesystem and none
  // of the mounts below it on the host (no /proc, /sys, /dev). The check
  // below makes sure it is the directory we opened.
  if (mount(path, kNewRoot, nullptr, MS_BIND, nullptr) != 0)
    return Errno("bind mount the root");
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV;
  if (root.read_only) flags |= MS_RDONLY;
  if (mount(nullptr, kNewRoot, nullptr, flags, nullptr) != 0)
    LOG(Warning) << "gofer: cannot remount the root nosuid,nodev"
                 << (root.read_only ? ",ro: " : ": ") << strerror(errno);
  if (chdir(kNewRoot) != 0) return Errno("chdir to root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return Errno("pivot_root");
  // The old root is stacked under the new one at "/": detach it.
  if (umount2(".", MNT_DETACH) != 0) return Errno("unmount the old root");
  if (chdir("/") != 0) return Errno("chdir /");
  base::UniqueFd fd(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat got;
  if (!fd || fstat(fd.get(), &got) != 0) return Errno("open new root");
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    return absl::FailedPreconditionError(
        absl::StrCat(root.path, " changed while the gofer started"));
  (*mounts)[0].root = std::move(fd);
  return absl::OkStatus();
}

absl::Status DropPrivileges() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // capset below removes. Unprivileged, there is nothing to drop.
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (Kept(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EPERM)
      return Errno(absl::StrCat("drop capability ", cap));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return Errno("clear ambient capabilities");
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return Errno("capget");
  uint64_t keep = 0;
  for (int c : kKeptCaps) keep |= uint64_t{1} << c;
  for (int i = 0; i < 2; ++i) {
    uint32_t k = static_cast<uint32_t>(keep >> (32 * i));
    data[i].effective &= k;
    data[i].permitted &= k;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return Errno("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Errno("set no_new_privs");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Errno("set dumpable");
  return absl::OkStatus();
}

}  // namespace gofer
