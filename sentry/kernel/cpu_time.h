// CPU time accounting: how long each task ran app code (user time) and
// how long the sentry worked for it (system time), as getrusage(2),
// times(2), the CPU-time clocks and ITIMER_VIRTUAL/ITIMER_PROF see them.
//
// Like gVisor, this is wall time by state: a task is in user mode from
// the moment it enters Context::Switch until the switch returns, in
// system mode while the sentry handles its syscalls and faults, and
// idle while it blocks (Task::Block), is stopped, or has not started or
// has finished. So user time includes the platform's cost of entering
// and leaving the app (ptrace stops), and either state includes time the
// host did not schedule the thread.
//
// Lock order: ProcessCpu::mu_ -> ThreadGroup::mu_ -> TaskCpu::mu_ (a
// leaf): ThreadGroup::CpuTime sums its threads under its lock.
#ifndef SENTRY_KERNEL_CPU_TIME_H_
#define SENTRY_KERNEL_CPU_TIME_H_

#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kernel {

class ThreadGroup;

// CPU time in nanoseconds.
struct CpuTimes {
  int64_t user_ns = 0;
  int64_t sys_ns = 0;

  int64_t total_ns() const { return user_ns + sys_ns; }
  CpuTimes& operator+=(const CpuTimes& o) {
    user_ns += o.user_ns;
    sys_ns += o.sys_ns;
    return *this;
  }
  friend CpuTimes operator+(CpuTimes a, const CpuTimes& b) { return a += b; }
};

// The host's CLOCK_MONOTONIC in nanoseconds: what CPU time is measured in.
int64_t MonotonicNowNs();

// One task's CPU time. Written by the task's own thread (Enter), read by
// any thread (Sample: clock_gettime of another thread, the CPU timers).
class TaskCpu {
 public:
  enum class State { kIdle, kUser, kSys };

  // From now on time counts as `s`; returns the previous state.
  State Enter(State s);
  // The time so far, including the current state's running stretch.
  CpuTimes Sample() const;

  // Idle for a scope (a blocking wait), then back to the previous state.
  class IdleScope {
   public:
    explicit IdleScope(TaskCpu& cpu)
        : cpu_(cpu), prev_(cpu.Enter(State::kIdle)) {}
    ~IdleScope() { cpu_.Enter(prev_); }
    IdleScope(const IdleScope&) = delete;
    IdleScope& operator=(const IdleScope&) = delete;

   private:
    TaskCpu& cpu_;
    const State prev_;
  };

  // The task has exited: its clock is gone (for timers on it).
  void Finish();
  bool finished() const;
  // In app code or in the sentry (not blocked, stopped or gone).
  bool running() const;

 private:
  mutable absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  State state_ ABSL_GUARDED_BY(mu_) = State::kIdle;
  int64_t since_ns_ ABSL_GUARDED_BY(mu_) = 0;  // when state_ began
  CpuTimes total_ ABSL_GUARDED_BY(mu_);        // before since_ns_
};

// A process's CPU time as clocks and timers read it from anywhere (the
// TimerService thread included): it never keeps the ThreadGroup alive,
// and reads nothing once detached (when the process exits, and in the
// ThreadGroup's destructor).
class ProcessCpu {
 public:
  explicit ProcessCpu(const ThreadGroup* tg) : tg_(tg) {}
  // nullopt once the process is gone.
  std::optional<CpuTimes> Sample() const;
  void Detach();

 private:
  mutable absl::Mutex mu_;
  const ThreadGroup* tg_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_CPU_TIME_H_
