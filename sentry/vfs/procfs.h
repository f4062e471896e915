// procfs: /proc as Linux shows it, made up by the sentry from the kernel's
// KernelView (proc_view.h; the VFS does not know the kernel). Only the
// sandbox shows: its processes, its mounts, its memory, never the host's.
//
//   /proc/<pid>/        every process of the sandbox (procfs_pid.cc):
//                       stat status statm cmdline environ comm maps smaps
//                       fd/ fdinfo/ exe cwd root mounts mountinfo limits
//                       task/<tid>/ oom_score_adj oom_score cgroup ns/
//                       loginuid sessionid
//   /proc/self, thread-self, mounts -> self/mounts
//   /proc/{meminfo,cpuinfo,stat,uptime,loadavg,filesystems,version,...}
//                       procfs_system.cc
//   /proc/sys/          kernel/, vm/, fs/, net/ (procfs_sys.cc)
//
// Files are text made when opened (and again at each lseek, as Linux's
// seq_file), so read(2) only copies. Modes and owners follow Linux:
// /proc/<pid> belongs to the process's effective ids (root if it is not
// dumpable), fd/ is dr-x------, and the VFS checks them (checks_modes).
#ifndef SENTRY_VFS_PROCFS_H_
#define SENTRY_VFS_PROCFS_H_

#include <memory>

#include "sentry/vfs/node.h"

namespace vfs {

class ProcFs : public Filesystem {
 public:
  // `vfs` answers mounts and mountinfo (may be null: no mounts shown).
  explicit ProcFs(const Vfs* vfs = nullptr) : vfs_(vfs) {}
  // A fresh root per walk: procfs's view depends on ctx.process.
  std::shared_ptr<Node> Root(const PathContext& ctx) override;

 private:
  const Vfs* const vfs_;
};

}  // namespace vfs

#endif  // SENTRY_VFS_PROCFS_H_
