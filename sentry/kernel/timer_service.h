// TimerService: one host thread that rings every timer of the sandbox
// (setitimer(2), timer_create(2), clock_nanosleep(2) on CPU clocks). An
// app may arm thousands of timers; they never cost a host thread each.
//
// An Alarm rings once when its clock reaches its deadline. Host clocks
// (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI) are waited
// for; CPU-time clocks cannot be, so while any CPU alarm is set the
// service samples them every kCpuTickNs (gVisor's CPU-clock ticker, and
// Linux's tick). That is how a CPU timer expires while the app spins in
// user mode without a syscall: the ring sends a signal, and sending
// interrupts the running task.
//
// Lock order: TimerService::mu_ comes after the locks of the timers that
// set alarms (PosixTimer::mu_, Itimer::mu_) and before the leaves that
// CPU clocks read while it is held (ThreadGroup::mu_, TaskCpu::mu_). A
// ring runs with no service lock held.
#ifndef SENTRY_KERNEL_TIMER_SERVICE_H_
#define SENTRY_KERNEL_TIMER_SERVICE_H_

#include <time.h>

#include <cstdint>
#include <functional>
#include <optional>

namespace kernel {

// How often CPU-time alarms are checked: their resolution.
inline constexpr int64_t kCpuTickNs = 10'000'000;

// The clock a deadline is measured on, in nanoseconds.
struct TimerClock {
  // A host clock, used when `cpu` is empty.
  clockid_t host = CLOCK_MONOTONIC;
  // A CPU-time clock: nullopt once what it measures is gone (the process
  // was reaped, the thread exited). Called under TimerService::mu_, so it
  // may take only leaf locks.
  std::function<std::optional<int64_t>()> cpu;

  bool is_cpu() const { return static_cast<bool>(cpu); }
  std::optional<int64_t> Now() const;
};

// Saturating nanosecond arithmetic for deadlines an app chooses: Linux
// clamps to KTIME_MAX, which means "never".
int64_t AddNs(int64_t a, int64_t b);
// The setting `t` in nanoseconds, saturated (t must be valid: sec >= 0,
// 0 <= nsec < 1e9).
int64_t TimespecNs(const timespec& t);
// Moves `*deadline` forward by whole `interval`s until it is past `now`;
// returns how many intervals that took (0 if it was already past).
int64_t Forward(int64_t* deadline, int64_t interval, int64_t now);

// One deadline and what to do at it. Not copyable; the destructor
// cancels, so a ring never outlives its Alarm.
class Alarm {
 public:
  explicit Alarm(std::function<void()> ring);
  ~Alarm();
  Alarm(const Alarm&) = delete;
  Alarm& operator=(const Alarm&) = delete;

  // Rings once when `clock` reaches `deadline_ns` (soon, if it has),
  // replacing any earlier Set.
  void Set(const TimerClock& clock, int64_t deadline_ns);
  // No ring for earlier Sets; one already running may still finish, so a
  // ring must check that it is still wanted.
  void Unset();
  // Unset, then wait for a ring already running (unless this is it).
  void Cancel();

 private:
  friend class TimerService;
  const std::function<void()> ring_;
  // Guarded by TimerService::mu_.
  TimerClock clock_;
  int64_t deadline_ = 0;
  uint64_t seq_ = 0;  // orders host alarms with equal deadlines
  bool set_ = false;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_TIMER_SERVICE_H_
