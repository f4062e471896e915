// A thread's scheduling parameters: the policy, real-time priority and
// nice value that sched_setattr(2), sched_setscheduler(2) and
// setpriority(2) set and the getters report.
//
// They are recorded, not enforced: every sandbox thread runs on a sentry
// host thread that the host schedules like any other, so SCHED_FIFO/RR,
// SCHED_IDLE and nice change nothing about how the thread runs. The same
// holds for the CPU affinity mask (sched_setaffinity(2)): kept per thread,
// read back, inherited, and what getcpu(2) answers from, but the host
// places the threads.
//
// Lock order: SchedState::mu_ is a leaf.
#ifndef SENTRY_KERNEL_SCHED_PARAMS_H_
#define SENTRY_KERNEL_SCHED_PARAMS_H_

#include <sched.h>

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kernel {

struct SchedParams {
  int policy = SCHED_OTHER;  // SCHED_OTHER, _FIFO, _RR, _BATCH or _IDLE
  int priority = 0;          // 1..99 for FIFO and RR, else 0
  int nice = 0;              // -20..19
  bool reset_on_fork = false;
};

class SchedState {
 public:
  SchedParams Get() const {
    absl::MutexLock lock(&mu_);
    return params_;
  }
  void Set(const SchedParams& p) {
    absl::MutexLock lock(&mu_);
    params_ = p;
  }
  // The affinity mask; nullopt means every CPU of the sandbox (the
  // default, so that no mask need be computed for threads that never ask).
  std::optional<cpu_set_t> Affinity() const {
    absl::MutexLock lock(&mu_);
    return affinity_;
  }
  void SetAffinity(const std::optional<cpu_set_t>& mask) {
    absl::MutexLock lock(&mu_);
    affinity_ = mask;
  }
  // What a child inherits (Linux's sched_fork): with SCHED_RESET_ON_FORK
  // a real-time policy becomes SCHED_OTHER, a negative nice 0, and the
  // flag is not inherited.
  SchedParams ForFork() const {
    SchedParams p = Get();
    if (!p.reset_on_fork) return p;
    if (p.policy == SCHED_FIFO || p.policy == SCHED_RR) {
      p.policy = SCHED_OTHER;
      p.priority = 0;
      p.nice = 0;
    } else if (p.nice < 0) {
      p.nice = 0;
    }
    p.reset_on_fork = false;
    return p;
  }

 private:
  mutable absl::Mutex mu_;
  SchedParams params_ ABSL_GUARDED_BY(mu_);
  std::optional<cpu_set_t> affinity_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_SCHED_PARAMS_H_
