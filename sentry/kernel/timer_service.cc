#include "sentry/kernel/timer_service.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kernel {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

int64_t HostNowNs(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

}  // namespace

std::optional<int64_t> TimerClock::Now() const {
  if (cpu) return cpu();
  return HostNowNs(host);
}

int64_t AddNs(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

int64_t TimespecNs(const timespec& t) {
  int64_t s;
  if (__builtin_mul_overflow(int64_t{t.tv_sec}, kNsPerSec, &s))
    return INT64_MAX;
  return AddNs(s, t.tv_nsec);
}

int64_t Forward(int64_t* deadline, int64_t interval, int64_t now) {
  if (*deadline > now || interval <= 0) return 0;
  const int64_t n = (now - *deadline) / interval + 1;
  int64_t step;
  if (__builtin_mul_overflow(n, interval, &step)) step = INT64_MAX;
  *deadline = AddNs(*deadline, step);
  return n;
}

// The one thread behind every Alarm. Host alarms sit in a set ordered by
// clock and deadline; CPU alarms in a set scanned every tick. Due alarms
// ring one at a time, without mu_.
class TimerService {
 public:
  // Started on first use (after the platform forked its helpers), never
  // destroyed: alarms may be cancelled during static destruction.
  static TimerService& Get() {
    static TimerService* s = [] {
      auto* service = new TimerService;
      started_.store(service, std::memory_order_release);
      return service;
    }();
    return *s;
  }
  // Null until Get() first ran: then no alarm can be set, and unsetting
  // one need not start the thread.
  static TimerService* IfStarted() {
    return started_.load(std::memory_order_acquire);
  }

  void Set(Alarm* a, const TimerClock& clock, int64_t deadline) {
    // A CPU clock is sampled before taking mu_ (see ScanCpuLocked). Due
    // already (an absolute time in the past): no need to wait for a tick.
    std::optional<int64_t> cpu_now;
    if (clock.is_cpu()) cpu_now = clock.Now();
    absl::MutexLock lock(&mu_);
    RemoveLocked(a);
    a->clock_ = clock;
    a->deadline_ = deadline;
    a->seq_ = ++seq_;
    if (clock.is_cpu()) {
      if (!cpu_now) return;  // the clock is gone: it can never ring
      a->set_ = true;
      if (*cpu_now >= deadline) {
        due_.push_back(a);
      } else {
        if (cpu_.empty()) next_scan_ = HostNowNs(CLOCK_MONOTONIC) + kCpuTickNs;
        cpu_.insert(a);
      }
    } else {
      a->set_ = true;
      host_.insert({clock.host, deadline, a->seq_, a});
    }
    changed_.Signal();
  }

  void Unset(Alarm* a) {
    absl::MutexLock lock(&mu_);
    RemoveLocked(a);
  }

  void Cancel(Alarm* a) {
    absl::MutexLock lock(&mu_);
    RemoveLocked(a);
    if (std::this_thread::get_id() == thread_id_) return;  // from its ring
    while (ringing_ == a) ring_done_.Wait(&mu_);
  }

 private:
  using HostKey = std::tuple<clockid_t, int64_t, uint64_t, Alarm*>;

  TimerService() {
    std::thread t([this] { Loop(); });
    absl::MutexLock lock(&mu_);
    thread_id_ = t.get_id();
    t.detach();
  }

  void RemoveLocked(Alarm* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!a->set_) return;
    a->set_ = false;
    if (a->clock_.is_cpu()) {
      cpu_.erase(a);
    } else {
      host_.erase({a->clock_.host, a->deadline_, a->seq_, a});
    }
    due_.erase(std::remove(due_.begin(), due_.end(), a), due_.end());
  }

  // Moves due alarms to due_ and returns how long to sleep otherwise.
  absl::Duration CollectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Duration sleep = absl::InfiniteDuration();
    // Host alarms: the first of each clock in the ordered set.
    for (auto it = host_.begin(); it != host_.end();) {
      const clockid_t c = std::get<0>(*it);
      const int64_t now = HostNowNs(c);
      while (it != host_.end() && std::get<0>(*it) == c &&
             std::get<1>(*it) <= now) {
        Alarm* a = std::get<3>(*it);
        it = host_.erase(it);
        due_.push_back(a);  // still set_ until it rings
      }
      if (it != host_.end() && std::get<0>(*it) == c) {
        // Wake at least every second: the wall clock may be changed.
        sleep = std::min({sleep, absl::Nanoseconds(std::get<1>(*it) - now),
                          absl::Seconds(1)});
        it = host_.upper_bound({c, INT64_MAX, UINT64_MAX, nullptr});
      }
    }
    if (!cpu_.empty()) {
      int64_t now = HostNowNs(CLOCK_MONOTONIC);
      if (now >= next_scan_) {
        ScanCpuLocked();
        now = HostNowNs(CLOCK_MONOTONIC);
        next_scan_ = now + kCpuTickNs;
      }
      if (!cpu_.empty())
        sleep = std::min(sleep, absl::Nanoseconds(next_scan_ - now));
    }
    return sleep;
  }

  // Samples every CPU alarm's clock and moves the due ones to due_. The
  // clocks are read without mu_: reading one may drop the last reference
  // to a process, whose timers then cancel their alarms.
  void ScanCpuLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    struct Probe {
      Alarm* alarm;
      uint64_t seq;
      TimerClock clock;
      int64_t deadline;
      std::optional<int64_t> now;
    };
    std::vector<Probe> probes;
    probes.reserve(cpu_.size());
    for (Alarm* a : cpu_)
      probes.push_back({a, a->seq_, a->clock_, a->deadline_});
    mu_.Unlock();
    for (Probe& p : probes) p.now = p.clock.Now();
    mu_.Lock();
    for (const Probe& p : probes) {
      // Skip alarms unset or set again meanwhile (the address may even
      // be a new alarm's, but never with the same seq).
      if (!cpu_.count(p.alarm) || p.alarm->seq_ != p.seq) continue;
      if (!p.now) {  // the clock is gone: it can never ring
        cpu_.erase(p.alarm);
        p.alarm->set_ = false;
      } else if (*p.now >= p.deadline) {
        cpu_.erase(p.alarm);
        due_.push_back(p.alarm);
      }
    }
  }

  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      absl::Duration sleep = CollectLocked();
      if (due_.empty()) {
        changed_.WaitWithTimeout(&mu_, sleep);
        continue;
      }
      Alarm* a = due_.front();
      due_.pop_front();
      a->set_ = false;
      ringing_ = a;
      mu_.Unlock();
      a->ring_();
      mu_.Lock();
      ringing_ = nullptr;
      ring_done_.SignalAll();
    }
  }

  static inline std::atomic<TimerService*> started_{nullptr};

  absl::Mutex mu_;
  absl::CondVar changed_;    // an alarm was set
  absl::CondVar ring_done_;  // ringing_ finished
  std::set<HostKey> host_ ABSL_GUARDED_BY(mu_);
  std::set<Alarm*> cpu_ ABSL_GUARDED_BY(mu_);
  std::deque<Alarm*> due_ ABSL_GUARDED_BY(mu_);
  Alarm* ringing_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t next_scan_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread::id thread_id_ ABSL_GUARDED_BY(mu_);
};

Alarm::Alarm(std::function<void()> ring) : ring_(std::move(ring)) {}

Alarm::~Alarm() { Cancel(); }

void Alarm::Set(const TimerClock& clock, int64_t deadline_ns) {
  TimerService::Get().Set(this, clock, deadline_ns);
}

void Alarm::Unset() {
  if (TimerService* s = TimerService::IfStarted()) s->Unset(this);
}

void Alarm::Cancel() {
  if (TimerService* s = TimerService::IfStarted()) s->Cancel(this);
}

}  // namespace kernel
