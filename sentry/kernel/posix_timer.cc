#include "sentry/kernel/posix_timer.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <random>
#include <unordered_map>
#include <vector>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_state.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"
#include "sentry/kernel/timer_signal.h"

namespace kernel {
namespace {

// The sentry's mark on a timer's siginfo: the last 8 bytes, which Linux
// always copies out as zero (its kernel_siginfo is 48 bytes).
constexpr size_t kCookieOffset = sizeof(siginfo_t) - sizeof(uint64_t);
static_assert(sizeof(siginfo_t) == 128);

uint64_t CookieOf(const siginfo_t& info) {
  uint64_t c;
  memcpy(&c, reinterpret_cast<const char*>(&info) + kCookieOffset, sizeof(c));
  return c;
}

void SetCookie(siginfo_t* info, uint64_t c) {
  memcpy(reinterpret_cast<char*>(info) + kCookieOffset, &c, sizeof(c));
}

int ClampOverrun(int64_t n) {
  return n > INT_MAX ? INT_MAX : static_cast<int>(n);
}

// Live timers by cookie. Timers register for their whole life; a hook
// holds mu while it calls into one, so unregistering waits for it.
struct Registry {
  absl::Mutex mu;
  std::unordered_map<uint64_t, PosixTimer*> timers ABSL_GUARDED_BY(mu);
  std::mt19937_64 random ABSL_GUARDED_BY(mu){std::random_device{}()};
};

Registry& Timers() {
  static Registry* r = new Registry;
  return *r;
}

uint64_t Register(PosixTimer* t) {
  Registry& r = Timers();
  absl::MutexLock lock(&r.mu);
  uint64_t c;
  do {
    c = r.random();
  } while (c == 0 || r.timers.count(c));
  r.timers[c] = t;
  return c;
}

void Unregister(uint64_t cookie) {
  Registry& r = Timers();
  absl::MutexLock lock(&r.mu);
  r.timers.erase(cookie);
}

}  // namespace

bool IsTimerSignal(const siginfo_t& info) {
  if (info.si_code != SI_TIMER) return false;
  const uint64_t c = CookieOf(info);
  if (c == 0) return false;
  Registry& r = Timers();
  absl::MutexLock lock(&r.mu);
  return r.timers.count(c) != 0;
}

void TimerSignalQueued(const siginfo_t& info) {
  if (info.si_code != SI_TIMER) return;
  Registry& r = Timers();
  absl::MutexLock lock(&r.mu);
  auto it = r.timers.find(CookieOf(info));
  if (it != r.timers.end()) it->second->SignalQueued();
}

void TimerSignalTaken(siginfo_t* info) {
  if (info->si_code != SI_TIMER) return;
  const uint64_t c = CookieOf(*info);
  if (c == 0) return;
  SetCookie(info, 0);
  Registry& r = Timers();
  absl::MutexLock lock(&r.mu);
  auto it = r.timers.find(c);
  if (it != r.timers.end()) it->second->SignalTaken(info);
}

void TimerSignalPeeked(siginfo_t* info) {
  if (info->si_code == SI_TIMER) SetCookie(info, 0);
}

PosixTimer::PosixTimer(Kernel& kernel, ThreadGroup& tg, int id,
                       TimerClock clock, TimerNotify notify)
    : kernel_(kernel),
      tg_(tg),
      id_(id),
      clock_(std::move(clock)),
      notify_(notify),
      cookie_(Register(this)) {}

PosixTimer::~PosixTimer() {
  Unregister(cookie_);
  Delete();
  // alarm_'s destructor then waits for a ring under way.
}

void PosixTimer::Delete() {
  absl::MutexLock lock(&mu_);
  deleted_ = true;
  armed_ = false;
  alarm_.Unset();
}

PosixTimer::Setting PosixTimer::GetLocked(int64_t now) const {
  if (!armed_) return {0, interval_};
  int64_t deadline = deadline_;
  // An interval timer waiting for its signal to be taken, or one that
  // sends nothing, has gone on counting intervals meanwhile.
  if (interval_ > 0 && (rearm_on_take_ || notify_.none))
    Forward(&deadline, interval_, now);
  const int64_t left = deadline - now;
  if (left > 0) return {left, interval_};
  // Expired: a SIGEV_NONE one-shot is done; any other timer's signal is
  // still on its way, so it reports 1 ns (as Linux).
  return {notify_.none ? 0 : 1, interval_};
}

PosixTimer::Setting PosixTimer::Get() const {
  const std::optional<int64_t> now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (!now) return {0, interval_};
  return GetLocked(*now);
}

PosixTimer::Setting PosixTimer::Set(bool absolute, Setting next) {
  const std::optional<int64_t> now = clock_.Now();
  absl::MutexLock lock(&mu_);
  const Setting old = now ? GetLocked(*now) : Setting{0, interval_};
  // A signal still queued no longer moves this timer on when taken.
  rearm_on_take_ = false;
  skipped_ = 0;
  overrun_last_ = 0;
  if (deleted_ || next.value_ns <= 0 || !now) {
    armed_ = false;
    interval_ = 0;
    alarm_.Unset();
    return old;
  }
  armed_ = true;
  interval_ = next.interval_ns;
  deadline_ = absolute ? next.value_ns : AddNs(*now, next.value_ns);
  if (notify_.none) {
    alarm_.Unset();  // nothing to send: Get computes what is left
  } else {
    alarm_.Set(clock_, deadline_);
  }
  return old;
}

int PosixTimer::Overrun() const {
  absl::MutexLock lock(&mu_);
  return overrun_last_;
}

bool PosixTimer::Send(const siginfo_t& info) {
  if (notify_.thread_id == 0) {
    if (tg_.exiting()) return false;
    tg_.SendSignal(info);
    return true;
  }
  bool found = false;
  kernel_.WithTask(notify_.thread_id, [&](Task& t) {
    if (&t.thread_group() != &tg_ || t.exiting()) return;
    t.SendSignal(info);
    found = true;
  });
  return found;
}

void PosixTimer::Expire() {
  siginfo_t info;
  {
    absl::MutexLock lock(&mu_);
    if (!armed_ || deleted_) return;
    const std::optional<int64_t> now = clock_.Now();
    if (!now) {  // what the clock measured is gone
      armed_ = false;
      return;
    }
    if (*now < deadline_) {  // rung for an earlier setting
      alarm_.Set(clock_, deadline_);
      return;
    }
    if (interval_ > 0) {
      rearm_on_take_ = true;  // SignalTaken moves it on
    } else {
      armed_ = false;
    }
    if (queued_) {
      // Linux counts it in the queued signal's si_overrun.
      ++queued_overrun_;
      return;
    }
    info = MakeSigInfo(notify_.signo, SI_TIMER);
    info.si_timerid = id_;
    info.si_overrun = 0;
    info.si_value = notify_.value;
    SetCookie(&info, cookie_);
    sent_queued_ = false;
  }
  const bool target_alive = Send(info);

  absl::MutexLock lock(&mu_);
  if (deleted_ || sent_queued_) return;
  if (!target_alive) {
    // As Linux: a timer whose signal cannot be sent stops.
    armed_ = false;
    rearm_on_take_ = false;
    return;
  }
  // The signal was ignored, so no SignalTaken will come. An interval
  // timer keeps ticking (a handler may be installed later), at most once
  // a tick, counting what it skips.
  if (!rearm_on_take_ || !armed_) return;
  rearm_on_take_ = false;
  const std::optional<int64_t> now = clock_.Now();
  if (!now) return;
  const int64_t from = interval_ < kCpuTickNs ? AddNs(*now, kCpuTickNs) : *now;
  skipped_ += Forward(&deadline_, interval_, from);
  alarm_.Set(clock_, deadline_);
}

void PosixTimer::SignalQueued() {
  absl::MutexLock lock(&mu_);
  queued_ = true;
  sent_queued_ = true;
}

void PosixTimer::SignalTaken(siginfo_t* info) {
  absl::MutexLock lock(&mu_);
  queued_ = false;
  const int64_t queued_overrun = queued_overrun_;
  queued_overrun_ = 0;
  if (!rearm_on_take_ || !armed_ || deleted_) {
    info->si_overrun = ClampOverrun(queued_overrun);
    return;
  }
  // An interval timer moves past the present; the intervals it skipped
  // while the signal waited are the overrun (Linux's posixtimer_rearm).
  rearm_on_take_ = false;
  if (const std::optional<int64_t> now = clock_.Now()) {
    const int64_t n = Forward(&deadline_, interval_, *now);
    if (n > 1) skipped_ += n - 1;
    alarm_.Set(clock_, deadline_);
  }
  overrun_last_ = ClampOverrun(skipped_);
  info->si_overrun = ClampOverrun(skipped_ + queued_overrun);
  skipped_ = 0;
}

PosixTimers::~PosixTimers() { DeleteAll(); }

base::Result<int> PosixTimers::Create(Kernel& kernel, TimerClock clock,
                                      TimerNotify notify, size_t limit) {
  absl::MutexLock lock(&mu_);
  if (timers_.size() >= std::min(limit, kMaxTimers)) return base::Err(EAGAIN);
  // The next free id upwards, wrapping at INT_MAX (Linux's allocator).
  int id = next_id_;
  while (timers_.count(id)) id = id == INT_MAX ? 0 : id + 1;
  next_id_ = id == INT_MAX ? 0 : id + 1;
  if (notify.value_is_id) {
    notify.value = sigval_t{};
    notify.value.sival_int = id;
  }
  timers_[id] =
      std::make_shared<PosixTimer>(kernel, tg_, id, std::move(clock), notify);
  return id;
}

base::Result<std::shared_ptr<PosixTimer>> PosixTimers::Find(int id) {
  absl::MutexLock lock(&mu_);
  auto it = timers_.find(id);
  if (it == timers_.end()) return base::Err(EINVAL);
  return it->second;
}

base::Result<void> PosixTimers::Delete(int id) {
  std::shared_ptr<PosixTimer> t;
  {
    absl::MutexLock lock(&mu_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return base::Err(EINVAL);
    t = std::move(it->second);
    timers_.erase(it);
  }
  // Stops it now even if another thread still holds it; it is destroyed
  // (waiting for a ring under way) without mu_ held.
  t->Delete();
  return {};
}

void PosixTimers::DeleteAll() {
  std::map<int, std::shared_ptr<PosixTimer>> timers;
  {
    absl::MutexLock lock(&mu_);
    timers.swap(timers_);
  }
  for (auto& [id, t] : timers) t->Delete();
}

}  // namespace kernel
