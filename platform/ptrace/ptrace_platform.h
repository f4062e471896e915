// The ptrace platform: app code runs in stub processes under PTRACE_SYSEMU.
//
// Each AddressSpace is one stub process (forked by the zygote, zygote.h)
// whose only mappings are the stub region and the memory file; each
// Context runs a task's registers in it until a syscall, fault, signal or
// interrupt. See platform/README.md for the design and the invariants.
//
// Threads. PtracePlatform::Create: while the sentry is single-threaded, on
// a thread that lives as long as the platform (the main thread).
// NewAddressSpace: on the task's host thread, which becomes the stub's
// tracer; every MapFile/Unmap/Protect and every Switch into that address
// space must then come from that same thread (CHECKed). Interrupt: any
// thread. Destroy every AddressSpace before the platform.
//
// Registers. Switch accepts a zero-initialised Registers with just rip and
// rsp set: it fills in cs = 0x33 and ss = 0x2b when they are zero (ds, es,
// fs, gs = 0 are valid as they are; the kernel keeps IF set whatever eflags
// says). It always hands the host orig_rax = -1, so the host kernel never
// restarts a syscall: restarts are the sentry's business (rewind rip by 2,
// rax = orig_rax) and `regs` is passed to the app as given otherwise.
// The FPU/SSE/AVX state is never read or written: it simply stays in the
// stub between switches (and starts in the init state).
#ifndef PLATFORM_PTRACE_PTRACE_PLATFORM_H_
#define PLATFORM_PTRACE_PTRACE_PLATFORM_H_

#include <signal.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "base/result.h"
#include "platform/platform.h"

namespace platform::ptrace {

class StubProcess;
class Zygote;

// The host signal Interrupt() sends to a running stub. Not SIGSTOP: its
// group-stop semantics are more than we need, and a stub that somehow ran
// untraced should die of an interrupt (SIGUSR2's default), not freeze. Not
// a CPU signal, so it cannot be mistaken for a fault. Stubs never see it:
// Switch suppresses it at the signal-delivery-stop.
inline constexpr int kInterruptSignal = SIGUSR2;

// Mappings below this are refused, as Linux refuses them by default
// (vm.mmap_min_addr): the stub runs with the sentry's capabilities, and
// page zero must never be mapped behind a kernel NULL dereference.
inline constexpr uint64_t kMinUserAddress = 0x10000;

class PtraceAddressSpace final : public AddressSpace {
 public:
  PtraceAddressSpace(std::unique_ptr<StubProcess> stub,
                     uint64_t max_user_address);
  ~PtraceAddressSpace() override;  // kills and reaps the stub

  // Each is one host syscall injected into the stub (tracer thread only).
  // Ranges must be page aligned, non-empty and within
  // [kMinUserAddress, MaxUserAddress()); prot only PROT_READ|WRITE|EXEC.
  // Otherwise EINVAL. ESRCH once the stub is dead.
  base::Result<void> MapFile(uint64_t addr, uint64_t len, uint64_t file_offset,
                             int prot) override;
  base::Result<void> Unmap(uint64_t addr, uint64_t len) override;
  base::Result<void> Protect(uint64_t addr, uint64_t len, int prot) override;

  StubProcess& stub() { return *stub_; }
  pid_t stub_pid() const;  // for tests and diagnostics

 private:
  base::Result<void> CheckRange(uint64_t addr, uint64_t len) const;

  std::unique_ptr<StubProcess> stub_;
  const uint64_t max_user_address_;
};

class PtraceContext final : public Context {
 public:
  // `as` must be a PtraceAddressSpace whose tracer is the calling thread.
  // Per trap: PTRACE_SETREGS, PTRACE_SYSEMU, waitpid, PTRACE_GETREGS
  // (plus PTRACE_GETSIGINFO for faults and CPU signals).
  //   kSyscall    regs.orig_rax = number, rax = -ENOSYS. A syscall that did
  //               not come from the 64-bit `syscall` instruction (int $0x80,
  //               32-bit code) is reported as kSignal SIGSYS instead, with
  //               si_code SYS_SECCOMP and si_arch AUDIT_ARCH_I386.
  //   kPageFault  SIGSEGV (SEGV_MAPERR/ACCERR) or SIGBUS (BUS_ADRERR);
  //               info.si_addr. ptrace cannot see the access type.
  //   kSignal     any other SIGSEGV/SIGBUS, SIGILL, SIGFPE, SIGTRAP (int3,
  //               single step), SIGSYS (also: a vsyscall call); a SIGSEGV
  //               with si_code SI_KERNEL if the kernel rejected `regs`.
  //   kInterrupt  Interrupt() was called; regs are where the app stopped
  //               (unchanged if it never ran).
  //   kDead       the stub is gone (killed from outside).
  Trap Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;

 private:
  Trap Run(StubProcess& stub, Registers& regs);
  // The trap for the stop `status`, or nothing if the stop is to be
  // suppressed and the stub resumed.
  std::optional<Trap> Decode(StubProcess& stub, int status, Registers& regs);
  std::optional<Trap> Suppressed(StubProcess& stub, Registers& regs);
  bool TakeInterrupt();

  // A mutex rather than an atomic flag: Interrupt must signal the stub only
  // while a Switch is running it, and the stub must not be reaped (its
  // pidfd closed) in between. Uncontended, it costs ~20 ns per Switch.
  std::mutex mu_;
  bool interrupted_ = false;        // guarded by mu_
  StubProcess* running_ = nullptr;  // guarded by mu_
};

class PtracePlatform final : public Platform {
 public:
  static base::Result<std::unique_ptr<Platform>> Create(int memory_fd);
  ~PtracePlatform() override;

  std::string_view Name() const override { return "ptrace"; }
  // The stub region's address rounded down to 1 GiB; constant for the life
  // of the platform (in practice 0x7ffec0000000).
  uint64_t MaxUserAddress() const override { return max_user_address_; }
  base::Result<std::unique_ptr<AddressSpace>> NewAddressSpace() override;
  std::unique_ptr<Context> NewContext() override;

  pid_t zygote_pid() const;  // for tests and diagnostics

 private:
  explicit PtracePlatform(std::unique_ptr<Zygote> zygote);

  std::unique_ptr<Zygote> zygote_;
  const uint64_t max_user_address_;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_PTRACE_PLATFORM_H_
