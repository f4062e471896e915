#include "sentry/event/timerfd.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "sentry/vfs/anon_inode.h"
#include "sentry/vfs/iov_cursor.h"

namespace event {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

}  // namespace

std::shared_ptr<TimerFd> TimerFd::Create(clockid_t clock, clockid_t shown,
                                         int flags) {
  return std::shared_ptr<TimerFd>(
      new TimerFd(clock, shown, O_RDWR | (flags & O_NONBLOCK)));
}

TimerFd::~TimerFd() { alarm_.Cancel(); }

int64_t TimerFd::Now() const {
  // Host clocks always have a value (only CPU clocks can end).
  return clock_.Now().value_or(0);
}

void TimerFd::Ring() {
  absl::MutexLock lock(&mu_);
  if (!armed_ || expired_) return;
  if (Now() < deadline_) {  // rung for an earlier setting
    alarm_.Set(clock_, deadline_);
    return;
  }
  expired_ = true;
  ++ticks_;
  if (interval_ == 0) armed_ = false;
  queue_.Notify(EPOLLIN | EPOLLRDNORM);
}

void TimerFd::CatchUp(int64_t now) {
  if (!expired_ || interval_ == 0) return;
  // The expiration that rang is counted; the intervals since are not.
  const int64_t passed = kernel::Forward(&deadline_, interval_, now);
  if (passed > 1) ticks_ += passed - 1;
  expired_ = false;
  alarm_.Set(clock_, deadline_);
}

TimerFd::Setting TimerFd::GetLocked(int64_t now) const {
  if (!armed_) return {0, interval_};
  return {std::max<int64_t>(deadline_ - now, 0), interval_};
}

TimerFd::Setting TimerFd::Get() {
  const int64_t now = Now();
  absl::MutexLock lock(&mu_);
  CatchUp(now);
  return GetLocked(now);
}

TimerFd::Setting TimerFd::Set(int flags, Setting next) {
  const int64_t now = Now();
  absl::MutexLock lock(&mu_);
  CatchUp(now);
  const Setting old = GetLocked(now);
  ticks_ = 0;
  expired_ = false;
  settime_flags_ = flags;
  interval_ = next.interval_ns;
  if (next.value_ns <= 0) {
    armed_ = false;
    alarm_.Unset();
    return old;
  }
  armed_ = true;
  deadline_ = (flags & TFD_TIMER_ABSTIME) ? next.value_ns
                                          : kernel::AddNs(now, next.value_ns);
  alarm_.Set(clock_, deadline_);
  return old;
}

base::Result<size_t> TimerFd::Read(std::span<const iovec> dst) {
  size_t len = 0;
  for (const iovec& v : dst) len += v.iov_len;
  if (len < sizeof(uint64_t)) return base::Err(EINVAL);
  const int64_t now = Now();
  uint64_t ticks;
  {
    absl::MutexLock lock(&mu_);
    if (ticks_ == 0) return base::Err(EAGAIN);
    CatchUp(now);
    ticks = ticks_;
    ticks_ = 0;
  }
  vfs::IovCursor(dst).Scatter(reinterpret_cast<const uint8_t*>(&ticks),
                              sizeof ticks);
  return sizeof ticks;
}

base::Result<struct stat> TimerFd::Stat() { return vfs::AnonInodeStat(); }

uint64_t TimerFd::Readiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  return ticks_ > 0 ? mask & (EPOLLIN | EPOLLRDNORM) : 0;
}

std::string TimerFd::FdInfo() {
  const int64_t now = Now();
  absl::MutexLock lock(&mu_);
  const Setting s = GetLocked(now);
  return absl::StrFormat(
      "clockid: %d\nticks: %u\nsettime flags: 0%o\nit_value: (%d, %d)\n"
      "it_interval: (%d, %d)\n",
      shown_, ticks_, settime_flags_, s.value_ns / kNsPerSec,
      s.value_ns % kNsPerSec, s.interval_ns / kNsPerSec,
      s.interval_ns % kNsPerSec);
}

}  // namespace event
