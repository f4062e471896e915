// The task loop: run app code, handle why it stopped, repeat.
#include <signal.h>

#include "base/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {

void Task::Run() {
  while (!exiting()) {
    platform::Trap trap = context_->Switch(mm_->address_space(), regs_);
    switch (trap.kind) {
      case platform::Trap::Kind::kSyscall:
        HandleSyscall();
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
        LOG(Warning) << "task " << tid_ << ": its stub died; killing the process";
        ExitGroup(ExitStatus{.signal = SIGKILL});
        break;
    }
  }
}

// Every mapping the app may touch is already mapped in the stub, so a fault
// is always the app's own error. Until signal delivery exists (next issue)
// the signal's default action applies: the process dies of it.
void Task::HandleFault(const platform::Trap& trap) {
  int sig = trap.info.si_signo ? trap.info.si_signo : SIGSEGV;
  LOG(Info) << "task " << tid_ << ": fatal signal " << sig << " at rip 0x"
            << std::hex << regs_.rip << " addr 0x"
            << reinterpret_cast<uint64_t>(trap.info.si_addr);
  if (kernel_.strace()) {
    base::WriteLogLine("[" + std::to_string(tid_) + "] --- killed by signal " +
                       std::to_string(sig) + " ---");
  }
  ExitGroup(ExitStatus{.signal = sig});
}

}  // namespace kernel
