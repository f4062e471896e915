// exit(2) and exit_group(2).
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

// Exit implements Linux syscall exit(2).
Result<void> Exit(Task& t, int status) {
  t.ExitThread(status & 0xff);
  return {};
}

// ExitGroup implements Linux syscall exit_group(2).
Result<void> ExitGroup(Task& t, int status) {
  t.ExitGroup(kernel::ExitStatus{.code = status & 0xff});
  return {};
}

}  // namespace

void RegisterExit(Registrar& r) {
  r.Full<&Exit>(SYS_exit);
  r.Full<&ExitGroup>(SYS_exit_group);
}

}  // namespace syscalls
