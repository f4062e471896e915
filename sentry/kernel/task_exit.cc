// The end of a task: releasing what it holds, zombies, telling the parent.
#include <signal.h>

#include <climits>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {

void Task::Exited() {
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
  mm_.reset();
  fds_ = std::make_shared<FdTable>();

  const int pid = tg_->pid();
  cpu_->Finish();  // CPU time: final; RemoveThread adds it to the process
  if (!tg_->RemoveThread(this)) {
    // Not the last thread: the process lives on.
    if (tid_ != pid) {
      kernel_.processes().RemoveThread(tid_);
      kernel_.ReleaseThread(tid_);
    }
    return;
  }
  // The last thread: the process ends, with exit(2)'s status unless an
  // exit_group or a fatal signal decided it already.
  tg_->BeginExit(ExitStatus{.code = exit_code_});
  tg_->StopTimers();  // itimers and POSIX timers end with the process
  if (tid_ != pid) {
    kernel_.processes().RemoveThread(tid_);
  }
  const ExitStatus status = tg_->exit_status();
  if (pid == 1) {
    // The namespace's init is gone: everything else goes with it.
    kernel_.Shutdown(ExitStatus{.signal = SIGKILL});
  }
  int exit_signal = 0;
  std::shared_ptr<ThreadGroup> parent =
      kernel_.processes().Exited(pid, status, &exit_signal);
  if (!parent) return;
  // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never waits: the
  // child is reaped at once, as Linux does.
  KernelSigaction chld = parent->GetSigaction(SIGCHLD);
  if (exit_signal == SIGCHLD &&
      (chld.handler == reinterpret_cast<uint64_t>(SIG_IGN) ||
       (chld.flags & SA_NOCLDWAIT))) {
    kernel_.processes().Reap(pid);
    kernel_.ReleaseProcess(pid);
    return;
  }
  // wait(2) callers were woken by Exited; the exit signal tells the rest.
  if (exit_signal == 0) return;
  siginfo_t info{};
  info.si_signo = exit_signal;
  info.si_pid = pid;
  info.si_uid = tg_->creds().ruid;
  if (status.signal) {
    info.si_code = status.core_dumped ? CLD_DUMPED : CLD_KILLED;
    info.si_status = status.signal;
  } else {
    info.si_code = CLD_EXITED;
    info.si_status = status.code;
  }
  parent->SendSignal(info);
}

}  // namespace kernel
