#include "sentry/kernel/thread_group.h"

#include "sentry/kernel/task.h"

namespace kernel {
namespace {

// Linux's defaults for init (include/asm-generic/resource.h), with
// RLIMIT_NOFILE as a container runtime sets it.
std::array<rlimit, RLIM_NLIMITS> DefaultRlimits() {
  std::array<rlimit, RLIM_NLIMITS> r;
  for (auto& l : r) l = {RLIM_INFINITY, RLIM_INFINITY};
  r[RLIMIT_STACK] = {8 << 20, RLIM_INFINITY};
  r[RLIMIT_CORE] = {0, RLIM_INFINITY};
  r[RLIMIT_NOFILE] = {1024, 1024 * 1024};
  r[RLIMIT_NPROC] = {63459, 63459};
  r[RLIMIT_MEMLOCK] = {8 << 20, 8 << 20};
  r[RLIMIT_SIGPENDING] = {63459, 63459};
  r[RLIMIT_MSGQUEUE] = {819200, 819200};
  r[RLIMIT_NICE] = {0, 0};
  r[RLIMIT_RTPRIO] = {0, 0};
  return r;
}

}  // namespace

ThreadGroup::ThreadGroup(int pid, int ppid, Credentials creds)
    : pid_(pid), ppid_(ppid), rlimits_(DefaultRlimits()), creds_(std::move(creds)) {}

ThreadGroup::~ThreadGroup() {
  // CPU clocks elsewhere (timers of other processes) read nothing more.
  cpu_clock_->Detach();
}

void ThreadGroup::CopyFrom(const ThreadGroup& parent) {
  auto rlimits = [&] {
    absl::MutexLock lock(&parent.mu_);
    return parent.rlimits_;
  }();
  auto sigactions = [&] {
    absl::MutexLock lock(&parent.mu_);
    absl::MutexLock table(&parent.sighand_->mu);
    return parent.sighand_->actions;
  }();
  std::string exe = parent.exe_path();
  // Linux keeps these in signal_struct, which fork copies.
  oom_score_adj_.store(parent.oom_score_adj(), std::memory_order_relaxed);
  oom_score_adj_min_.store(
      parent.oom_score_adj_min_.load(std::memory_order_relaxed),
      std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    rlimits_ = rlimits;
    {
      absl::MutexLock table(&sighand_->mu);
      sighand_->actions = sigactions;
    }
    exe_path_ = exe;
  }
  // RLIMIT_CPU binds the child's own CPU time from zero.
  cpu_limit_.Update();
}

bool ThreadGroup::HandlersShared() const {
  absl::MutexLock lock(&mu_);
  return sighand_.use_count() > 1;
}

void ThreadGroup::ShareHandlers(const ThreadGroup& parent) {
  std::shared_ptr<Handlers> shared = [&] {
    absl::MutexLock lock(&parent.mu_);
    return parent.sighand_;
  }();
  absl::MutexLock lock(&mu_);
  sighand_ = std::move(shared);
}

void ThreadGroup::ResetHandlersForExec() {
  absl::MutexLock lock(&mu_);
  auto own = std::make_shared<Handlers>();
  absl::MutexLock table(&sighand_->mu);
  absl::MutexLock own_table(&own->mu);
  own->actions = sighand_->actions;
  for (auto& a : own->actions) {
    // Linux's flush_signal_handlers: handled signals go back to SIG_DFL,
    // and every flag, mask and restorer is cleared (SIG_IGN stays).
    a = KernelSigaction{.handler = a.handler == 1 ? uint64_t{1} : 0};
  }
  sighand_.swap(own);
}

rlimit ThreadGroup::GetRlimit(int resource) const {
  absl::MutexLock lock(&mu_);
  return rlimits_.at(resource);
}

void ThreadGroup::SetRlimit(int resource, rlimit value) {
  {
    absl::MutexLock lock(&mu_);
    rlimits_.at(resource) = value;
  }
  if (resource == RLIMIT_CPU) cpu_limit_.Update();
}

bool ThreadGroup::ReplaceRlimit(int resource, rlimit expected, rlimit next) {
  absl::MutexLock lock(&mu_);
  rlimit& r = rlimits_.at(resource);
  if (r.rlim_cur != expected.rlim_cur || r.rlim_max != expected.rlim_max)
    return false;
  r = next;
  return true;
}

KernelSigaction ThreadGroup::GetSigaction(int sig) const {
  absl::MutexLock lock(&mu_);
  absl::MutexLock table(&sighand_->mu);
  return sighand_->actions.at(sig);
}

void ThreadGroup::SetSigaction(int sig, const KernelSigaction& act) {
  absl::MutexLock lock(&mu_);
  absl::MutexLock table(&sighand_->mu);
  sighand_->actions.at(sig) = act;
}

void ThreadGroup::AddThread(Task* t) {
  absl::MutexLock lock(&mu_);
  threads_.push_back(t);
}

bool ThreadGroup::RemoveThread(Task* t) {
  absl::MutexLock lock(&mu_);
  // Under mu_, so that CpuTime counts the thread exactly once.
  if (std::erase(threads_, t)) exited_cpu_ += t->cpu().Sample();
  return threads_.empty();
}

std::vector<Task*> ThreadGroup::Threads() const {
  absl::MutexLock lock(&mu_);
  return threads_;
}

void ThreadGroup::ForEachThread(const std::function<void(Task*)>& fn) const {
  absl::MutexLock lock(&mu_);
  for (Task* t : threads_) fn(t);
}

Credentials ThreadGroup::creds() const {
  absl::MutexLock lock(&mu_);
  return creds_;
}

void ThreadGroup::set_creds(Credentials c) {
  absl::MutexLock lock(&mu_);
  creds_ = std::move(c);
}

std::string ThreadGroup::exe_path() const {
  absl::MutexLock lock(&mu_);
  return exe_path_;
}

void ThreadGroup::set_exe_path(std::string path) {
  absl::MutexLock lock(&mu_);
  exe_path_ = std::move(path);
}

bool ThreadGroup::BeginExit(ExitStatus status) {
  absl::MutexLock lock(&mu_);
  if (exiting_.load(std::memory_order_relaxed)) return false;
  exit_status_ = status;
  exiting_.store(true, std::memory_order_release);
  return true;
}

ExitStatus ThreadGroup::exit_status() const {
  absl::MutexLock lock(&mu_);
  return exit_status_;
}

CpuTimes ThreadGroup::CpuTime() const {
  absl::MutexLock lock(&mu_);
  CpuTimes t = exited_cpu_;
  for (Task* task : threads_) t += task->cpu().Sample();
  return t;
}

CpuTimes ThreadGroup::ChildrenCpuTime() const {
  absl::MutexLock lock(&mu_);
  return children_cpu_;
}

void ThreadGroup::AddChildrenCpuTime(const CpuTimes& t) {
  absl::MutexLock lock(&mu_);
  children_cpu_ += t;
}

void ThreadGroup::StopTimers() {
  for (Itimer& t : itimers_) t.Stop();
  cpu_limit_.Stop();
  posix_timers_.DeleteAll();
  // Timers of other processes on this one's clock stop too: a CPU clock
  // of a process that has exited reads as gone (Linux shows them as 0).
  cpu_clock_->Detach();
}

base::Result<void> ThreadGroup::SetOomScoreAdj(int value, bool privileged) {
  // Linux's __set_oom_adj: the range, then the minimum an unprivileged
  // writer may not go below; a privileged write sets that minimum.
  if (value < -1000 || value > 1000) return base::Err(EINVAL);
  absl::MutexLock lock(&mu_);
  if (value < oom_score_adj_min_.load(std::memory_order_relaxed) &&
      !privileged) {
    return base::Err(EACCES);
  }
  oom_score_adj_.store(value, std::memory_order_relaxed);
  if (privileged) oom_score_adj_min_.store(value, std::memory_order_relaxed);
  return {};
}

}  // namespace kernel
