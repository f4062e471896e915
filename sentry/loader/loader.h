// The ELF loader: turns an executable file into a fresh address space with
// its segments mapped and Linux's initial stack (argv, envp, auxv) built.
#ifndef SENTRY_LOADER_LOADER_H_
#define SENTRY_LOADER_LOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "sentry/loader/vdso.h"
#include "sentry/mm/memory_manager.h"
#include "sentry/vfs/file_description.h"

namespace loader {

struct LoadArgs {
  std::shared_ptr<vfs::FileDescription> file;  // the executable, opened
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string execfn;  // AT_EXECFN: the path as passed to execve
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
  uint64_t stack_limit = 8 << 20;  // RLIMIT_STACK soft limit
  // Random stack top, mmap base, PIE base, brk start and stack padding, as
  // Linux's PF_RANDOMIZE; false for personality(ADDR_NO_RANDOMIZE).
  bool randomize = true;
  // The vDSO's parameter page: with it the vDSO is mapped and
  // AT_SYSINFO_EHDR points at it; without it (tests) there is no vDSO.
  const VdsoParamsPage* vdso = nullptr;
  // Opens the program interpreter (PT_INTERP) by absolute path.
  std::function<base::Result<std::shared_ptr<vfs::FileDescription>>(
      const std::string&)>
      open_interpreter;
};

struct LoadResult {
  uint64_t entry = 0;          // where the first instruction is (ld.so's
                               // entry for dynamic executables)
  uint64_t stack_pointer = 0;  // rsp at entry: points at argc
};

// Loads into `mm`, which must be empty. On failure `*why` (if given) says
// what is wrong in words a user can act on ("not an ELF file", ...), and the
// errno is what execve(2) returns (ENOEXEC, EACCES, ENOMEM, E2BIG ...).
base::Result<LoadResult> Load(mm::MemoryManager& mm, const LoadArgs& args,
                              std::string* why = nullptr);

}  // namespace loader

#endif  // SENTRY_LOADER_LOADER_H_
