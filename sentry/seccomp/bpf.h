// Classic BPF as seccomp(2) runs it: a filter program checked as Linux's
// seccomp_check_filter checks it, run over a struct seccomp_data, and the
// action precedence Linux applies when several filters are installed.
// Used for an OCI spec's linux.seccomp and, once the syscalls exist, for
// an app's own seccomp(2) and prctl(PR_SET_SECCOMP) (not wired yet).
#ifndef SENTRY_SECCOMP_BPF_H_
#define SENTRY_SECCOMP_BPF_H_

#include <cstdint>
#include <vector>

#include "base/result.h"

namespace seccomp {

// struct sock_filter.
struct Instruction {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};

// struct seccomp_data: what a filter's BPF_LD|BPF_W|BPF_ABS reads.
struct Data {
  int32_t nr;
  uint32_t arch;
  uint64_t instruction_pointer;
  uint64_t args[6];
};
static_assert(sizeof(Data) == 64);

// The SECCOMP_RET_* actions (linux/seccomp.h).
inline constexpr uint32_t kRetKillProcess = 0x80000000U;
inline constexpr uint32_t kRetKillThread = 0x00000000U;
inline constexpr uint32_t kRetTrap = 0x00030000U;
inline constexpr uint32_t kRetErrno = 0x00050000U;
inline constexpr uint32_t kRetUserNotif = 0x7fc00000U;
inline constexpr uint32_t kRetTrace = 0x7ff00000U;
inline constexpr uint32_t kRetLog = 0x7ffc0000U;
inline constexpr uint32_t kRetAllow = 0x7fff0000U;
inline constexpr uint32_t kRetActionFull = 0xffff0000U;
inline constexpr uint32_t kRetData = 0x0000ffffU;

// Linux's BPF_MAXINSNS and BPF_MEMWORDS.
inline constexpr size_t kMaxInstructions = 4096;
inline constexpr uint32_t kMemWords = 16;

class Program {
 public:
  // EINVAL for what Linux refuses: an empty or too long program, an
  // opcode seccomp does not allow (packet loads other than 32-bit
  // absolute ones, which must be aligned and inside seccomp_data), a jump
  // out of the program, a division by a constant zero, a scratch word
  // out of range or read before it is written, a last instruction that
  // is not a return.
  static base::Result<Program> Create(std::vector<Instruction> code);

  // The filter's return value for `data`.
  uint32_t Run(const Data& data) const;

  size_t size() const { return code_.size(); }

 private:
  explicit Program(std::vector<Instruction> code) : code_(std::move(code)) {}
  std::vector<Instruction> code_;
};

// Every filter runs; the most restrictive action wins, as Linux's
// seccomp_run_filters (compared as signed action values: KILL_PROCESS,
// KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW), the newest
// filter winning a tie. `newest_first` lists the installed filters from
// the last one installed; none allows everything.
uint32_t RunFilters(const std::vector<const Program*>& newest_first,
                    const Data& data);

}  // namespace seccomp

#endif  // SENTRY_SECCOMP_BPF_H_
