// ProcView: the kernel's answer to procfs (sentry/vfs/proc_view.h): the
// sandbox's processes, threads, memory and limits, read under the locks
// that keep them alive. Owned by the Kernel.
//
// Lock order: ProcessTree::mu_ and Kernel::mu_ are taken one after the
// other, never nested; under Kernel::mu_ (Kernel::WithTask) only leaves
// (ThreadGroup::mu_, Task::view_mu_, SchedState::mu_); memory managers
// are asked after both are released.
#ifndef SENTRY_KERNEL_PROC_VIEW_H_
#define SENTRY_KERNEL_PROC_VIEW_H_

#include <string>

#include "sentry/vfs/proc_view.h"

namespace kernel {

class Kernel;

class ProcView : public vfs::KernelView {
 public:
  explicit ProcView(Kernel& kernel);

  std::vector<int> Pids() const override;
  int ProcessOf(int tid) const override;
  std::vector<int> Tids(int pid) const override;
  base::Result<vfs::ProcTask> Task(int pid, int tid) const override;
  base::Result<vfs::ProcMemory> Memory(int pid) const override;
  base::Result<std::string> ReadMemory(int pid, uint64_t addr,
                                       size_t len) const override;
  base::Result<std::shared_ptr<vfs::ProcessMemory>> OpenMemory(
      int pid, int caller_tid) const override;
  base::Result<std::array<rlimit, RLIM_NLIMITS>> Limits(int pid) const override;
  base::Result<std::string> ExePath(int pid) const override;
  base::Result<std::string> Cwd(int pid) const override;
  std::vector<int> Fds(int pid) const override;
  std::shared_ptr<vfs::FileDescription> Fd(int pid, int fd) const override;
  bool FdCloexec(int pid, int fd) const override;
  base::Result<Writer> CommWriter(int pid, int tid,
                                  int caller_pid) const override;
  base::Result<Writer> OomScoreAdjWriter(int pid,
                                         bool privileged) const override;
  base::Result<std::string> UtsName(int tid, bool domain) const override;
  base::Result<Writer> UtsNameWriter(int tid, bool domain) const override;
  std::vector<vfs::ProcIpcObject> IpcObjects(
      int tid, vfs::IpcKind kind) const override;
  vfs::ProcSystem System() const override;
  vfs::ProcIpcLimits IpcLimits() const override;
  std::string BootId() const override { return boot_id_; }

 private:
  Kernel& kernel_;
  const std::string boot_id_;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_PROC_VIEW_H_
