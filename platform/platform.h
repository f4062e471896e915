// The platform runs application code and reports back why it stopped.
//
// The kernel sees only these three interfaces, so it never knows whether
// ptrace, systrap or (later) KVM runs it:
//   Platform      makes address spaces and contexts, says where app memory ends.
//   AddressSpace  one per MemoryManager: mirrors its mappings of the memory
//                 file into whatever actually executes the app (a stub).
//   Context       one per Task: runs the task's registers in an address space
//                 until a syscall, fault, signal or interrupt.
//
// Threading: a Platform is created before the sentry starts any thread (the
// ptrace platform forks its zygote then). Context::Switch and the
// AddressSpace calls are made from the task's own host thread; only
// Context::Interrupt may be called from any thread.
#ifndef PLATFORM_PLATFORM_H_
#define PLATFORM_PLATFORM_H_

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/result.h"

namespace platform {

// x86-64 general registers, laid out as the kernel's user_regs_struct.
// orig_rax holds the syscall number at a syscall trap.
using Registers = user_regs_struct;

// Why Context::Switch returned.
struct Trap {
  enum class Kind {
    kSyscall,    // regs.orig_rax is the number; rip is past the instruction.
    kPageFault,  // info.si_addr is the faulting address (SIGSEGV/SIGBUS).
    kSignal,     // a synchronous CPU signal: SIGFPE, SIGILL, SIGTRAP ...
    kInterrupt,  // Interrupt() was called; regs are where the app stopped.
    kDead,       // the stub is gone (killed from outside); the task must die.
  };
  Kind kind = Kind::kSyscall;
  siginfo_t info{};  // valid for kPageFault and kSignal
};

class AddressSpace {
 public:
  virtual ~AddressSpace() = default;
  // Maps [addr, addr+len) to the memory file at `file_offset` (MAP_SHARED,
  // MAP_FIXED semantics: replaces whatever was there). All page aligned.
  virtual base::Result<void> MapFile(uint64_t addr, uint64_t len,
                                     uint64_t file_offset, int prot) = 0;
  virtual base::Result<void> Unmap(uint64_t addr, uint64_t len) = 0;
  virtual base::Result<void> Protect(uint64_t addr, uint64_t len,
                                     int prot) = 0;
};

class Context {
 public:
  virtual ~Context() = default;
  // Runs app code in `as` from `regs` until the next trap; `regs` then
  // holds the app's registers at the trap.
  virtual Trap Switch(AddressSpace& as, Registers& regs) = 0;
  // Makes the current (or the next) Switch return kInterrupt promptly.
  // Callable from any thread.
  virtual void Interrupt() = 0;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // Creates the platform called `name` ("ptrace"). `memory_fd` is the
  // memory file that all MapFile offsets refer to. Must be called while the
  // process is still single-threaded.
  static base::Result<std::unique_ptr<Platform>> Create(std::string_view name,
                                                        int memory_fd);

  virtual std::string_view Name() const = 0;
  // Application mappings must end at or below this address; the platform
  // keeps its own pages above it.
  virtual uint64_t MaxUserAddress() const = 0;
  virtual base::Result<std::unique_ptr<AddressSpace>> NewAddressSpace() = 0;
  virtual std::unique_ptr<Context> NewContext() = 0;
};

}  // namespace platform

#endif  // PLATFORM_PLATFORM_H_
