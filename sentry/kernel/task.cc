#include "sentry/kernel/task.h"

#include <sys/stat.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"

namespace kernel {

using base::Err;
using base::Result;

Task::Task(Kernel& kernel, std::shared_ptr<ThreadGroup> tg, int tid,
           std::shared_ptr<FdTable> fds, std::shared_ptr<FsContext> fs)
    : kernel_(kernel),
      tg_(std::move(tg)),
      tid_(tid),
      fds_(std::move(fds)),
      fs_(std::move(fs)),
      context_(kernel.platform().NewContext()) {
  absl::MutexLock lock(&creds_mu_);
  creds_ = tg_->creds();  // the process's first thread; Clone sets others'
}

Task::~Task() = default;

Credentials Task::creds() const {
  absl::MutexLock lock(&creds_mu_);
  return creds_;
}

void Task::set_creds(Credentials c) {
  if (tid_ == tg_->pid()) tg_->set_creds(c);
  absl::MutexLock lock(&creds_mu_);
  creds_ = std::move(c);
}

void Task::ExitGroup(ExitStatus status) {
  tg_->BeginExit(status);
  // Every thread of the process stops, wherever it is.
  tg_->ForEachThread([](Task* t) { t->Interrupt(); });
}

void Task::ExitThread(int code) {
  // Only this thread ends. The last thread of the process to begin its
  // exit decides the process's status, whoever leads it (Linux's
  // synchronize_group_exit, since 5.19): decided now, under the lock
  // that orders exits, not when the threads are gone, which they may be
  // in another order.
  exit_code_ = code;
  bool last = true;
  tg_->ForEachThread([&](Task* t) {
    if (t == this) {
      t->thread_exited_ = true;
    } else if (!t->thread_exited_) {
      last = false;
    }
  });
  if (last) tg_->BeginExit(ExitStatus{.code = code});
}

bool Task::exiting() const { return thread_exited_ || tg_->exiting(); }

Task::WakeReason Task::Block(absl::Time deadline,
                             const std::atomic<bool>* woken,
                             bool pending_interrupts) {
  // A signal that became deliverable before we got here (pending while
  // blocked, then unblocked by ppoll's or sigsuspend's mask) interrupts at
  // once; later ones interrupt through Interrupt(). Checked before mu_: the
  // signal lock comes before Task::mu_.
  if (pending_interrupts && !(woken && woken->load()) && SignalPending())
    return WakeReason::kInterrupted;
  TaskCpu::IdleScope idle(*cpu_);  // sleeping uses no CPU time
  // /proc shows a sleeping task as S (a stopped one stays T).
  const char was = state_.load(std::memory_order_relaxed);
  if (was == 'R') state_.store('S', std::memory_order_relaxed);
  struct Restore {
    std::atomic<char>& state;
    char was;
    ~Restore() { state.store(was, std::memory_order_relaxed); }
  } restore{state_, was};
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (woken && woken->load()) return WakeReason::kWoken;
    if (interrupted_ || exiting()) {
      interrupted_ = false;
      return WakeReason::kInterrupted;
    }
    if (wake_.WaitWithDeadline(&mu_, deadline) && absl::Now() >= deadline) {
      if (woken && woken->load()) return WakeReason::kWoken;
      return WakeReason::kTimeout;
    }
  }
}

Result<void> Task::BlockUntil(absl::Time deadline) {
  if (Block(deadline) == WakeReason::kInterrupted) return Err(EINTR);
  return {};
}

void Task::Wake() {
  absl::MutexLock lock(&mu_);
  wake_.Signal();
}

void Task::Interrupt() {
  {
    absl::MutexLock lock(&mu_);
    interrupted_ = true;
    wake_.Signal();
  }
  context_->Interrupt();
}

void Task::KickOutOfApp() { context_->Interrupt(); }

Result<vfs::PathContext> Task::PathContextAt(int dirfd) const {
  const Credentials c = creds();
  vfs::PathContext ctx{.process = &process_view_,
                       .creds = {c.fsuid, c.fsgid, c.groups},
                       .root = fs_->root(),
                       .mnt_ns = ns.mnt.get()};
  if (dirfd == AT_FDCWD) {
    ctx.start = fs_->cwd();
    return ctx;
  }
  auto file = TRY(fds_->Get(dirfd));
  struct stat st = TRY(file->Stat());
  if (!S_ISDIR(st.st_mode)) return Err(ENOTDIR);
  ctx.start = file->path();
  return ctx;
}

int Task::ProcessView::pid() const { return task_.tg_->pid(); }
int Task::ProcessView::tid() const { return task_.tid_; }
const vfs::KernelView* Task::ProcessView::kernel() const {
  return &task_.kernel_.proc_view();
}

Task::Shared Task::SharedState() const {
  absl::MutexLock lock(&view_mu_);
  return Shared{.mm = mm_, .fds = fds_, .fs = fs_, .ns = ns};
}

void Task::UnshareFds() {
  std::shared_ptr<FdTable> table = fds_->Fork();
  {
    absl::MutexLock lock(&view_mu_);
    fds_.swap(table);
  }
  table.reset();  // the old table, after the lock (it may close files)
}

}  // namespace kernel
