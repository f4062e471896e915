// timerfd_create(2): a timer whose expirations are read(2) as a count,
// as Linux's fs/timerfd.c. It rings through the sandbox's TimerService
// (kernel::Alarm), as POSIX timers and itimers do.
//
// As on Linux, an interval timer is not re-armed at each expiration: its
// alarm rings once, and the expirations since are counted when they are
// looked at (read, timerfd_gettime), which moves the deadline past the
// present and sets the alarm again. A timer nobody reads costs nothing.
//
// Lock order: TimerFd::mu_ -> TimerService::mu_ (Alarm::Set) and the
// waiter queue's. The ring takes mu_ with no service lock held.
#ifndef SENTRY_EVENT_TIMERFD_H_
#define SENTRY_EVENT_TIMERFD_H_

#include <time.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/kernel/timer_service.h"
#include "sentry/vfs/file_description.h"

namespace event {

class TimerFd final : public vfs::FileDescription {
 public:
  struct Setting {
    int64_t value_ns = 0;  // time left (or the absolute deadline to Set)
    int64_t interval_ns = 0;
  };

  // `clock`: a host clock (REALTIME, MONOTONIC, BOOTTIME; the _ALARM
  // ones run as their base clock). `flags`: O_NONBLOCK only.
  static std::shared_ptr<TimerFd> Create(clockid_t clock, clockid_t shown,
                                         int flags);
  ~TimerFd() override;

  // timerfd_settime: arms (value > 0; on the clock with
  // TFD_TIMER_ABSTIME in `flags`) or
  // disarms, forgetting expirations not yet read; returns the setting
  // before.
  Setting Set(int flags, Setting next);
  // timerfd_gettime.
  Setting Get();

  // 8 bytes: the expirations since the last read; EAGAIN if none.
  base::Result<size_t> Read(std::span<const iovec> dst) override;
  base::Result<struct stat> Stat() override;
  // lseek(2) succeeds and moves nothing (Linux's noop_llseek).
  base::Result<int64_t> Seek(int64_t, int) override { return 0; }
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override { queue_.Register(e); }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override { queue_.Unregister(e); }
  std::string path() const override { return "anon_inode:[timerfd]"; }
  std::string FdInfo() override;

 private:
  TimerFd(clockid_t clock, clockid_t shown, int flags)
      : FileDescription(flags), clock_{.host = clock}, shown_(shown) {}
  void Ring();
  int64_t Now() const;
  // Counts the intervals that passed since an expiration that rang
  // (Linux's hrtimer_forward_now in timerfd_read) and sets the alarm for
  // the next one.
  void CatchUp(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Setting GetLocked(int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const kernel::TimerClock clock_;
  const clockid_t shown_;  // the clock id fdinfo shows
  waiter::Queue queue_;
  mutable absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  // The alarm rang for deadline_ and the deadline has not moved since.
  bool expired_ ABSL_GUARDED_BY(mu_) = false;
  int64_t deadline_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t interval_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ticks_ ABSL_GUARDED_BY(mu_) = 0;
  int settime_flags_ ABSL_GUARDED_BY(mu_) = 0;  // for fdinfo
  // Last: destroyed (so cancelled) before the state its ring reads.
  kernel::Alarm alarm_{[this] { Ring(); }};
};

}  // namespace event

#endif  // SENTRY_EVENT_TIMERFD_H_
