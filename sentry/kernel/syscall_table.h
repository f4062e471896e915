// The type of the syscall table. The kernel defines it and the task loop
// calls through it; syscalls/ fills it in and boot/ wires the two together,
// so the kernel never includes syscalls/.
#ifndef SENTRY_KERNEL_SYSCALL_TABLE_H_
#define SENTRY_KERNEL_SYSCALL_TABLE_H_

#include <array>
#include <cstdint>

#include "base/result.h"

namespace kernel {

class Task;

// The six raw argument registers (rdi, rsi, rdx, r10, r8, r9).
struct SyscallArgs {
  std::array<uint64_t, 6> a;
};

enum class Support : uint8_t {
  kUnimplemented,  // ENOSYS, logged once by name
  kFull,           // behaves as on Linux
  kPartial,        // works for common uses; the note says what is missing
  kError,          // deliberately fails with a fixed errno (the note says why)
};

// How --strace prints an argument. Derived from the handler's parameter
// types (see syscalls/dispatch.h) and refined per syscall in strace.cc.
enum class ArgKind : uint8_t {
  kNone,
  kInt,        // signed decimal
  kUint,       // unsigned decimal
  kHex,        // 0x...
  kFd,         // decimal, AT_FDCWD by name
  kPath,       // a NUL-terminated string in app memory
  kInBuf,      // app buffer printed at entry, length in the next argument
  kOutBuf,     // app buffer printed at exit, length = the return value
  kOpenFlags,  // O_RDONLY|O_CLOEXEC...
  kMmapProt,   // PROT_READ|PROT_WRITE
  kMmapFlags,  // MAP_PRIVATE|MAP_ANONYMOUS
  kOctal,      // file modes
};

using SyscallHandler = base::Result<uint64_t> (*)(Task&, const SyscallArgs&);

struct SyscallEntry {
  const char* name = nullptr;  // null: no syscall has this number
  SyscallHandler handler = nullptr;
  Support support = Support::kUnimplemented;
  const char* note = "";
  int error = ENOSYS;  // what a handler-less entry returns
  uint8_t nargs = 0;
  std::array<ArgKind, 6> args{};
};

// x86-64 numbers in use today end below 512.
inline constexpr size_t kMaxSyscalls = 512;

struct SyscallTable {
  std::array<SyscallEntry, kMaxSyscalls> entries;

  const SyscallEntry* Lookup(uint64_t nr) const {
    return nr < entries.size() ? &entries[nr] : nullptr;
  }
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_SYSCALL_TABLE_H_
