// --strace: one line per syscall, with decoded arguments and the result.
#ifndef SENTRY_KERNEL_STRACE_H_
#define SENTRY_KERNEL_STRACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "sentry/kernel/syscall_table.h"

namespace kernel {

class Task;

// One syscall being traced: its arguments are formatted at entry, since a
// handler may change the memory they point at; output buffers (kOutBuf)
// are filled in at exit.
struct StraceCall {
  int tid = 0;
  std::string name;
  std::vector<std::string> args;
  bool shown = false;  // already written (calls that never return)

  std::string Line(const std::string& tail) const;
};

StraceCall StraceEnter(Task& task, uint64_t nr, const SyscallEntry* entry,
                       const SyscallArgs& args);
// Writes the line: "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3" or
// "... = -1 ENOENT".
void StraceExit(Task& task, StraceCall call, const SyscallEntry* entry,
                const SyscallArgs& args, const base::Result<uint64_t>& result);

}  // namespace kernel

#endif  // SENTRY_KERNEL_STRACE_H_
