#include "sentry/kernel/pidfd_queue.h"

#include <sys/epoll.h>

#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kernel {
namespace {

ABSL_CONST_INIT absl::Mutex registry_mu(absl::kConstInit);
std::map<int, std::shared_ptr<waiter::Queue>>& Registry()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* queues = new std::map<int, std::shared_ptr<waiter::Queue>>;
  return *queues;
}

}  // namespace

std::shared_ptr<waiter::Queue> PidfdQueue(int pid) {
  absl::MutexLock lock(&registry_mu);
  std::shared_ptr<waiter::Queue>& q = Registry()[pid];
  if (!q) q = std::make_shared<waiter::Queue>();
  return q;
}

void NotifyPidfds(int pid, bool reaped) {
  std::shared_ptr<waiter::Queue> q;
  {
    absl::MutexLock lock(&registry_mu);
    auto it = Registry().find(pid);
    if (it == Registry().end()) return;
    q = it->second;
    if (reaped) Registry().erase(it);
  }
  const uint64_t hup = reaped ? uint64_t{EPOLLHUP} : 0;
  q->Notify(EPOLLIN | EPOLLRDNORM | hup);
}

}  // namespace kernel
