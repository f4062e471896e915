// sysfs: a minimal /sys, made up by the sentry, with what programs read to
// learn the machine's CPUs:
//
//   devices/system/cpu/{online,possible,present}   "0-N\n" (N+1 = the CPUs
//                                                  the sandbox may run on)
//   devices/system/cpu/cpuK/topology/              core_id, physical_package_id,
//     {core,thread,package}_*_list ...           one core per CPU, one package
//   fs/cgroup/                                     empty (a mount point)
//
// Everything is read-only (0444 files, 0755 directories, owned by root);
// opening a file for writing is EACCES.
#ifndef SENTRY_VFS_SYSFS_H_
#define SENTRY_VFS_SYSFS_H_

#include <memory>

#include "sentry/vfs/node.h"

namespace vfs {

// st_dev of /sys (an anonymous device, as Linux's sysfs).
inline constexpr unsigned kSysfsMinor = 20;

class SysFs : public Filesystem {
 public:
  // `cpus`: how many CPUs to show (0: those this process may run on).
  explicit SysFs(unsigned cpus = 0);
  std::shared_ptr<Node> Root(const PathContext& ctx) override { return root_; }

 private:
  const std::shared_ptr<Node> root_;  // immutable: shared by every walk
};

}  // namespace vfs

#endif  // SENTRY_VFS_SYSFS_H_
