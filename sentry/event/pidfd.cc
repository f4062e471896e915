#include "sentry/event/pidfd.h"

#include <sys/epoll.h>

#include "absl/strings/str_format.h"
#include "sentry/kernel/pidfd_queue.h"
#include "sentry/kernel/process_tree.h"
#include "sentry/vfs/anon_inode.h"

namespace event {

PidFd::PidFd(kernel::Kernel& kernel, std::shared_ptr<kernel::ThreadGroup> tg,
             int flags)
    : FileDescription(flags),
      kernel_(kernel),
      tg_(tg),
      pid_(tg->pid()),
      queue_(kernel::PidfdQueue(tg->pid())) {}

std::shared_ptr<PidFd> PidFd::Create(kernel::Kernel& kernel,
                                     std::shared_ptr<kernel::ThreadGroup> tg,
                                     int flags) {
  return std::shared_ptr<PidFd>(
      new PidFd(kernel, std::move(tg), O_RDWR | (flags & O_NONBLOCK)));
}

std::shared_ptr<kernel::ThreadGroup> PidFd::Process() const {
  std::shared_ptr<kernel::ThreadGroup> tg = tg_.lock();
  // The tree's process of that pid (a zombie too), if it is still this
  // one.
  if (!tg || kernel_.processes().FindByTid(pid_) != tg) return nullptr;
  return tg;
}

bool PidFd::Exited() const {
  if (!Process()) return true;
  auto info = kernel_.processes().InfoOf(pid_);
  return !info || info->zombie;
}

uint64_t PidFd::Readiness(uint64_t mask) {
  uint64_t ready = 0;
  if (!Process()) {
    ready = EPOLLIN | EPOLLRDNORM | EPOLLHUP;
  } else if (Exited()) {
    ready = EPOLLIN | EPOLLRDNORM;
  }
  return ready & mask;
}

base::Result<struct stat> PidFd::Stat() { return vfs::AnonInodeStat(); }

std::string PidFd::FdInfo() {
  // Linux: the pid in the reader's namespace (one level here), -1 and no
  // NSpid once reaped.
  if (!Process()) return "Pid:\t-1\n";
  return absl::StrFormat("Pid:\t%d\nNSpid:\t%d\n", pid_, pid_);
}

}  // namespace event
