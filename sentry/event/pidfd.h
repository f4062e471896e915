// pidfd_open(2) and CLONE_PIDFD: a file that names a process, as Linux's
// pidfs. It is readable (EPOLLIN) once the process has exited, and hangs
// up (EPOLLHUP too) once it has been reaped; it waits on
// kernel::PidfdQueue.
#ifndef SENTRY_EVENT_PIDFD_H_
#define SENTRY_EVENT_PIDFD_H_

#include <memory>
#include <string>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/vfs/file_description.h"

namespace event {

class PidFd final : public vfs::FileDescription {
 public:
  // `flags`: O_NONBLOCK only (what waitid(P_PIDFD) looks at).
  static std::shared_ptr<PidFd> Create(kernel::Kernel& kernel,
                                       std::shared_ptr<kernel::ThreadGroup> tg,
                                       int flags);

  int pid() const { return pid_; }
  // The process while it is not reaped (a zombie too); null after.
  std::shared_ptr<kernel::ThreadGroup> Process() const;
  // It exited: a zombie, or reaped.
  bool Exited() const;

  base::Result<struct stat> Stat() override;
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override { queue_->Register(e); }
  void EventUnregister(waiter::Entry* e) override { queue_->Unregister(e); }
  bool pollable() const override { return true; }
  std::string path() const override { return "anon_inode:[pidfd]"; }
  std::string FdInfo() override;

 private:
  PidFd(kernel::Kernel& kernel, std::shared_ptr<kernel::ThreadGroup> tg,
        int flags);

  kernel::Kernel& kernel_;
  const std::weak_ptr<kernel::ThreadGroup> tg_;
  const int pid_;
  const std::shared_ptr<waiter::Queue> queue_;
};

}  // namespace event

#endif  // SENTRY_EVENT_PIDFD_H_
