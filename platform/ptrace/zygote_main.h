// The zygote's first steps, in C++, between fork() and the jump to the stub
// code. Internal to the ptrace platform.
#ifndef PLATFORM_PTRACE_ZYGOTE_MAIN_H_
#define PLATFORM_PTRACE_ZYGOTE_MAIN_H_

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace platform::ptrace {

struct ZygoteArgs {
  pid_t parent = 0;           // the sentry's pid
  int memory_fd = -1;         // becomes STUB_MEM_FD
  int socket_fd = -1;         // becomes STUB_SOCKET_FD
  uint64_t region_start = 0;  // the stub region, code already copied in
  uint64_t code_end = 0;      // the end of its executable code
  uint64_t entry = 0;         // ptrace_stub_zygote_entry, relocated
  // Systrap only (else 0): the handler every signal gets, and its restorer.
  uint64_t systrap_handler = 0;
  uint64_t systrap_restorer = 0;
};

// Exit codes of the C++ steps; stub_abi.h has the assembly ones.
enum ZygoteExit : int {
  kZygoteExitPdeathsig = 1,
  kZygoteExitParentGone = 2,
  kZygoteExitRseq = 3,
  kZygoteExitSignals = 4,
  kZygoteExitFds = 5,
  kZygoteExitSystrapSignals = 6,
};

// Runs in the freshly forked zygote. Never returns: it either jumps to the
// stub code or _exits with one of the codes above. Uses no heap and no
// locks, and after the fd shuffle nothing that could log.
[[noreturn]] void ZygoteMain(const ZygoteArgs& args);

// What a zygote exit code means, for the sentry's log.
std::string_view DescribeZygoteExit(int code);

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_ZYGOTE_MAIN_H_
