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
// ptrace platform forks its zygote then). A Context is used (Switch,
// Get/SetFpState, Release) from one host thread, the task's, for life;
// Context::Interrupt may come from any thread. Several Contexts (the
// threads of one process) may Switch into one AddressSpace at once, each
// from its own host thread. The AddressSpace calls may come from any
// thread, and are synchronous for every Context running in it.
#ifndef PLATFORM_PLATFORM_H_
#define PLATFORM_PLATFORM_H_

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

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

// What a platform may ask of the owner of an AddressSpace (the sentry's
// MemoryManager) besides mirroring its mappings: systrap's syscall
// patching (platform/README.md, "Syscall patching") edits app text. Both
// calls take the address space's lock, so they must not be made from
// MapFile, Unmap or Protect.
class AppMemory {
 public:
  virtual ~AppMemory() = default;
  // Runs `fn` on the sentry's view of [addr, addr+len) if that range lies
  // in one page of one private VMA with PROT_EXEC and backing, with
  // copy-on-write broken first (the edit is this address space's alone,
  // as a write through ptrace would be), while no other change to the
  // address space can happen. False, without calling `fn`, otherwise.
  virtual bool EditPrivateText(uint64_t addr, size_t len,
                               const std::function<void(uint8_t*)>& fn) = 0;
  // Maps private anonymous memory, readable and executable, named `name`,
  // at exactly [addr, addr+len) if nothing is mapped there. False if not.
  virtual bool MapPlatformArea(uint64_t addr, uint64_t len,
                               const char* name) = 0;
};

class AddressSpace {
 public:
  virtual ~AddressSpace() = default;
  // Given by the owner once it exists; it outlives this address space.
  virtual void SetAppMemory(AppMemory* memory) {}
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

  // The app thread's FPU/SSE/AVX state in the XSAVE layout Linux puts in a
  // signal frame (the 512-byte FXSAVE area, then the XSAVE header and
  // extended components), FpStateSize() bytes. Called on the task's
  // thread while the app is stopped (between Switches). SetFpState before
  // the first Switch applies at that Switch (fork copies the parent's).
  // The bytes may come from the app (a sigreturn frame): a state the host
  // would refuse (reserved MXCSR bits, a bad XSAVE header, wrong size) is
  // EINVAL, never a crash. Platforms without FP access: ENOSYS.
  virtual base::Result<void> GetFpState(std::vector<uint8_t>* out) {
    return base::Err(ENOSYS);
  }
  virtual base::Result<void> SetFpState(const std::vector<uint8_t>& in) {
    return base::Err(ENOSYS);
  }

  // Frees what the platform holds for this app thread in every address
  // space it ran in (ptrace: ends its stub threads there, not their
  // processes). Call on the task's host thread when the task exits; the
  // destructor does the same when run on that thread. A later Switch starts
  // afresh.
  virtual void Release() {}
};

// Choices that only some platforms have.
struct Options {
  // systrap: rewrite `mov $nr, %eax; syscall` sites into jumps to the
  // syscall fast path (runsc --systrap-patch).
  bool systrap_patch = true;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // Creates the platform called `name` ("ptrace", "systrap"). `memory_fd`
  // is the memory file that all MapFile offsets refer to. Must be called
  // while the process is still single-threaded.
  static base::Result<std::unique_ptr<Platform>> Create(
      std::string_view name, int memory_fd, const Options& options = {});

  virtual std::string_view Name() const = 0;
  // Application mappings must end at or below this address; the platform
  // keeps its own pages above it.
  virtual uint64_t MaxUserAddress() const = 0;
  virtual base::Result<std::unique_ptr<AddressSpace>> NewAddressSpace() = 0;
  virtual std::unique_ptr<Context> NewContext() = 0;
  // Bytes of FP state Get/SetFpState move: the XSAVE size for the features
  // enabled in XCR0 (CPUID 0xd), 512 without XSAVE, 0 if unsupported.
  virtual size_t FpStateSize() const { return 0; }
};

}  // namespace platform

#endif  // PLATFORM_PLATFORM_H_
