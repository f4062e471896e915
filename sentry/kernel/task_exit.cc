// The end of a task: releasing what it holds, zombies, telling the parent.
#include <signal.h>

#include <climits>
#include <utility>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/tty/job_control.h"

namespace kernel {

namespace {

// The children's death signals (PR_SET_PDEATHSIG): each thread of a child
// that asked for one has it sent to its process, as by the dying parent
// (Linux's forget_original_parent).
void SendDeathSignals(const std::vector<std::shared_ptr<ThreadGroup>>& children,
                      int from_pid, uint32_t from_uid) {
  for (const auto& child : children) {
    std::vector<int> sigs;
    child->ForEachThread([&](Task* t) {
      if (int sig = t->pdeath_signal.load(std::memory_order_relaxed))
        sigs.push_back(sig);
    });
    for (int sig : sigs)
      child->SendSignal(MakeSigInfoFrom(sig, SI_USER, from_pid, from_uid));
  }
}

}  // namespace

void Task::Exited() {
  // PTRACE_EVENT_EXIT, while everything is still there to look at.
  PtraceExitEvent();
  // Robust futexes get FUTEX_OWNER_DIED, then CLONE_CHILD_CLEARTID zeroes
  // the tid word and wakes a waiter (how pthread_join learns a thread is
  // gone): futex_exit.cc.
  if (mm_) ReleaseThreadFutexes(*this);
  ReleaseVforkParent();
  // This thread's stub thread goes with it (on this, its tracer's, thread).
  context_->Release();
  // Memory and files go now, not when the parent reaps: a pipe's reader
  // must see EOF as soon as its last writer is gone. Other threads of the
  // process may still hold them.
  std::shared_ptr<mm::MemoryManager> old_mm;
  std::shared_ptr<FdTable> old_fds;
  {
    // Dropped after the lock: closing files may take other locks.
    absl::MutexLock lock(&view_mu_);
    old_mm = std::move(mm_);
    old_fds = std::exchange(fds_, std::make_shared<FdTable>());
  }
  old_mm.reset();
  old_fds.reset();

  const int pid = tg_->pid();
  cpu_->Finish();  // CPU time: final; RemoveThread adds it to the process
  if (!tg_->RemoveThread(this)) {
    // The tracer hears of the thread's exit; its own tracees go.
    kernel_.ptrace().TaskExited(*this, false,
                                tg_->exiting() ? tg_->exit_status()
                                               : ExitStatus{.code = exit_code_});
    // Not the last thread: the process lives on, and the children this
    // thread made pass to another of its threads, with their death signals.
    int successor = 0;
    tg_->ForEachThread([&](Task* t) {
      if (!successor && !t->exiting()) successor = t->tid();
    });
    SendDeathSignals(kernel_.processes().ThreadExited(pid, tid_, successor),
                     pid, creds().ruid);
    if (tid_ != pid) {
      kernel_.processes().RemoveThread(tid_);
      kernel_.ReleaseThread(tid_);
    }
    return;
  }
  // The last thread: the process ends, with exit(2)'s status unless an
  // exit_group or a fatal signal decided it already.
  tg_->BeginExit(ExitStatus{.code = exit_code_});
  kernel_.ptrace().TaskExited(*this, true, tg_->exit_status());
  tg_->StopTimers();  // itimers and POSIX timers end with the process
  tty::SessionLeaderExited(kernel_, pid);
  if (ns.ipc) ns.ipc->sem().ExitProcess(pid);  // SEM_UNDO
  if (tid_ != pid) {
    kernel_.processes().RemoveThread(tid_);
  }
  const ExitStatus status = tg_->exit_status();
  if (pid == 1) {
    // The namespace's init is gone: everything else goes with it.
    kernel_.Shutdown(ExitStatus{.signal = SIGKILL});
  }
  // The children go to a subreaper or init first, with their death
  // signals; their new parent hears of those that are zombies already.
  Orphans orphans = kernel_.processes().Reparent(pid);
  SendDeathSignals(orphans.children, pid, creds().ruid);
  for (int reaped : orphans.reaped) kernel_.ReleaseProcess(reaped);
  for (int pgid : orphans.hangup_groups) {
    for (int sig : {SIGHUP, SIGCONT})
      for (const auto& member : kernel_.processes().Group(pgid))
        member->SendSignal(MakeSigInfo(sig, SI_KERNEL));
  }
  // A zombie now; the parent hears of it (its exit signal, its wait(2)
  // callers). A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never
  // waits: the child is reaped at once, as Linux does.
  if (kernel_.processes().Exited(pid, status)) kernel_.ReleaseProcess(pid);
}

}  // namespace kernel
