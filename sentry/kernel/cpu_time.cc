#include "sentry/kernel/cpu_time.h"

#include <time.h>

#include "sentry/kernel/thread_group.h"

namespace kernel {
namespace {

// Adds the stretch [since, now) to the bucket of `state`.
void Charge(TaskCpu::State state, int64_t since, int64_t now, CpuTimes* t) {
  // The clock is monotonic, but a stretch is never negative anyway.
  const int64_t d = now > since ? now - since : 0;
  if (state == TaskCpu::State::kUser) t->user_ns += d;
  if (state == TaskCpu::State::kSys) t->sys_ns += d;
}

}  // namespace

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

TaskCpu::State TaskCpu::Enter(State s) {
  // The clock is read under the lock so that samples never go backwards.
  absl::MutexLock lock(&mu_);
  const int64_t now = MonotonicNowNs();
  Charge(state_, since_ns_, now, &total_);
  const State prev = state_;
  state_ = s;
  since_ns_ = now;
  return prev;
}

CpuTimes TaskCpu::Sample() const {
  absl::MutexLock lock(&mu_);
  const int64_t now = MonotonicNowNs();
  CpuTimes t = total_;
  Charge(state_, since_ns_, now, &t);
  return t;
}

void TaskCpu::Finish() {
  Enter(State::kIdle);
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

bool TaskCpu::running() const {
  absl::MutexLock lock(&mu_);
  return !finished_ && state_ != State::kIdle;
}

bool TaskCpu::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

std::optional<CpuTimes> ProcessCpu::Sample() const {
  absl::MutexLock lock(&mu_);
  if (!tg_) return std::nullopt;
  return tg_->CpuTime();
}

void ProcessCpu::Detach() {
  absl::MutexLock lock(&mu_);
  tg_ = nullptr;
}

}  // namespace kernel
