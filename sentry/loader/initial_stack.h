// Linux's initial process stack (fs/binfmt_elf.c create_elf_tables), laid
// out in sentry memory so that it can be written with one copy.
//
// From the top of the stack down:
//   8 zero bytes
//   execfn string (AT_EXECFN)
//   envp strings, then argv strings (envp[n-1] highest, argv[0] lowest)
//   0..8191 random bytes of padding, then 16-byte alignment
//   "x86_64\0" (AT_PLATFORM)
//   16 random bytes (AT_RANDOM)
//   padding so that sp is 16-byte aligned
//   auxv pairs ending with AT_NULL
//   NULL, envp pointers, NULL, argv pointers, argc   <- sp
#ifndef SENTRY_LOADER_INITIAL_STACK_H_
#define SENTRY_LOADER_INITIAL_STACK_H_

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace loader {

// Longest single argument or environment string, NUL included
// (MAX_ARG_STRLEN).
inline constexpr uint64_t kMaxArgStrlen = 32 * 4096;

// The room execve(2) gives the strings and pointers of argv and envp
// (fs/exec.c bprm_stack_limits): a quarter of RLIMIT_STACK `stack_limit`,
// at most 3/4 of _STK_LIM (6 MiB), at least ARG_MAX (128 KiB).
uint64_t ArgSpaceLimit(uint64_t stack_limit);

// execve(2)'s E2BIG rules (fs/exec.c): one string longer than
// kMaxArgStrlen, or the strings (execfn included) plus the pointers to them
// above ArgSpaceLimit(stack_limit).
base::Result<void> CheckArgLimits(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& envp,
                                  const std::string& execfn,
                                  uint64_t stack_limit);

struct StackInputs {
  std::vector<std::string> argv, envp;
  std::string execfn;
  // auxv in order, without AT_NULL; the builder fills in the values of
  // AT_RANDOM, AT_EXECFN and AT_PLATFORM, whose data it places itself.
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
  uint8_t random[16] = {};
  uint64_t pad = 0;  // Linux's arch_align_stack randomization, < 8192
};

struct StackImage {
  uint64_t sp = 0;             // rsp at entry: points at argc
  // Where the argument and environment strings lie (Linux's mm->arg_start
  // ...: what /proc/<pid>/cmdline and environ read).
  uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  std::vector<uint8_t> bytes;  // the contents of [sp, top)
};

// An upper bound of the bytes BuildInitialStack uses (for sizing the VMA).
uint64_t InitialStackSize(const StackInputs& in);

// Lays the stack out below `top` (16-byte aligned). `top` must leave room
// for InitialStackSize(in) bytes.
StackImage BuildInitialStack(uint64_t top, const StackInputs& in);

}  // namespace loader

#endif  // SENTRY_LOADER_INITIAL_STACK_H_
