#include "sentry/kernel/futex.h"

#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

Result<void> Futexes::Wait(Task& t, Key key, uint32_t expected,
                           uint32_t bitset, absl::Time deadline) {
  Waiter w{.task = &t, .bitset = bitset};
  {
    // Reading the value under mu_ makes check-and-sleep atomic with respect
    // to Wake, which takes mu_ too: no wakeup can slip in between.
    absl::MutexLock lock(&mu_);
    uint32_t value = TRY(t.mm().CopyInObj(mm::UserPtr<uint32_t>(key.addr)));
    if (value != expected) return Err(EAGAIN);
    queues_[key].push_back(&w);
  }
  Task::WakeReason why = t.Block(deadline, &w.woken);
  absl::MutexLock lock(&mu_);
  if (!w.woken.load()) {
    auto it = queues_.find(key);
    if (it != queues_.end()) {
      it->second.remove(&w);
      if (it->second.empty()) queues_.erase(it);
    }
  }
  if (w.woken.load()) return {};
  return Err(why == Task::WakeReason::kTimeout ? ETIMEDOUT : EINTR);
}

int Futexes::Wake(Key key, int n, uint32_t bitset) {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(key);
  if (it == queues_.end()) return 0;
  int woken = 0;
  auto& q = it->second;
  for (auto w = q.begin(); w != q.end() && woken < n;) {
    if (!((*w)->bitset & bitset)) {
      ++w;
      continue;
    }
    Waiter* waiter = *w;
    w = q.erase(w);
    waiter->woken.store(true);
    waiter->task->Wake();
    ++woken;
  }
  if (q.empty()) queues_.erase(it);
  return woken;
}

}  // namespace kernel
