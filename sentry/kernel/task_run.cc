// The task loop: run app code, handle why it stopped, repeat.
#include <signal.h>
#include <sys/resource.h>

#include <utility>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file_size_limit.h"

namespace kernel {
namespace {

// RLIMIT_FSIZE as the file systems see it (sentry/vfs/file_size_limit.h):
// the process's soft limit; SIGXFSZ once the syscall is done, so that no
// signal is sent under a file system's locks.
class TaskFileSizeLimit : public vfs::FileSizeLimit {
 public:
  explicit TaskFileSizeLimit(const ThreadGroup& tg) : tg_(tg) {}
  uint64_t Get() const override { return tg_.GetRlimit(RLIMIT_FSIZE).rlim_cur; }
  void Exceeded() override { exceeded_ = true; }
  bool TakeExceeded() { return std::exchange(exceeded_, false); }

 private:
  const ThreadGroup& tg_;
  bool exceeded_ = false;
};

thread_local Task* current_task = nullptr;

}  // namespace

Task* Task::Current() { return current_task; }

void Task::Run() {
  current_task = this;
  tg_->signals().AddTask(this);       // signals: this task may take them now
  cpu_->Enter(TaskCpu::State::kSys);  // CPU time: the sentry works for us
  TaskFileSizeLimit fsize(*tg_);
  vfs::ScopedFileSizeLimit fsize_scope(&fsize);
  while (!exiting()) {
    if (kernel_.paused()) {
      TaskCpu::IdleScope idle(*cpu_);  // paused uses no CPU time
      kernel_.WaitWhilePaused();
    }
    DeliverSignals();  // signals: handler frames, default actions, restarts
    if (exiting()) break;
    // PTRACE_SINGLESTEP sets the trap flag (ptrace_stop.cc).
    if (ptraced() || ptrace_forced_tf_) PtraceBeforeSwitch();
    cpu_->Enter(TaskCpu::State::kUser);  // CPU time: app code runs
    platform::Trap trap = context_->Switch(mm_->address_space(), regs_);
    cpu_->Enter(TaskCpu::State::kSys);
    switch (trap.kind) {
      case platform::Trap::Kind::kSyscall:
        // A tracee may stop at the entry and exit (PTRACE_SYSCALL).
        if (ptraced()) {
          PtraceSyscall();
        } else {
          HandleSyscall();
        }
        // Linux's send_sig(SIGXFSZ, current, 0): to this thread, SI_USER
        // from its own process, when the call failed for the limit. (A
        // write the syscall layer retried after a short write hits the
        // limit on the retry, but returns the bytes written: no signal,
        // as Linux, which makes no retry.)
        if (fsize.TakeExceeded() &&
            regs_.rax == static_cast<uint64_t>(-int64_t{EFBIG}))
          SendSignal(
              MakeSigInfoFrom(SIGXFSZ, SI_USER, tg_->pid(), creds().ruid));
        break;
      case platform::Trap::Kind::kPageFault:
      case platform::Trap::Kind::kSignal:
        HandleFault(trap);
        break;
      case platform::Trap::Kind::kInterrupt: {
        absl::MutexLock lock(&mu_);
        interrupted_ = false;
        break;
      }
      case platform::Trap::Kind::kDead:
        LOG(Warning) << "task " << tid_
                     << ": its stub died; killing the process";
        ExitGroup(ExitStatus{.signal = SIGKILL});
        break;
    }
  }
  tg_->signals().RemoveTask(this);  // signals
}

// Every mapping the app may touch is already mapped in the stub, except for
// writes to memory fork shares copy-on-write and stacks growing down,
// which the memory manager resolves (the app then retries the access), and
// file pages past EOF, which are SIGBUS. Any
// other fault is the app's own error: it becomes a synchronous signal with
// the CPU's siginfo (si_addr, SEGV_MAPERR ...), which a handler may catch.
void Task::HandleFault(const platform::Trap& trap) {
  if (trap.kind == platform::Trap::Kind::kPageFault &&
      trap.info.si_signo == SIGSEGV) {
    const auto addr = reinterpret_cast<uint64_t>(trap.info.si_addr);
    // A call into the vsyscall page, which the app's address space does
    // not map: emulated (task_vsyscall.cc).
    if (EmulateVsyscall(addr)) {
      stale_fault_addr_ = 0;
      return;
    }
    using Fault = mm::MemoryManager::Fault;
    uint64_t changes;
    switch (mm_->HandleFault(addr, tg_->GetRlimit(RLIMIT_STACK).rlim_cur,
                             &changes)) {
      case Fault::kResolved:
        stale_fault_addr_ = 0;
        return;
      case Fault::kMaybeStale:
        if (stale_fault_addr_ != addr || stale_fault_changes_ != changes) {
          stale_fault_addr_ = addr;
          stale_fault_changes_ = changes;
          return;
        }
        break;
      case Fault::kAppError:
        break;
      case Fault::kBusError: {
        // A file page past EOF: Linux's SIGBUS, with the faulting address.
        stale_fault_addr_ = 0;
        siginfo_t info = trap.info;
        info.si_signo = SIGBUS;
        info.si_code = BUS_ADRERR;
        ForceSignal(info);
        return;
      }
    }
  }
  stale_fault_addr_ = 0;
  siginfo_t info = trap.info;
  if (info.si_signo == 0) info = MakeSigInfo(SIGSEGV, SI_KERNEL);
  ForceSignal(info);
}

}  // namespace kernel
