// The ptrace platform: app code runs in stub processes under PTRACE_SYSEMU.
//
// Each AddressSpace is one stub process (forked by the zygote, zygote.h);
// its only mappings are the stub region and the memory file. Its leader is
// traced by the platform's control thread (control_thread.h). Each Context
// gets a stub thread of its own in every address space it switches into,
// cloned on its first Switch there and traced by the host thread that made
// that Switch. See platform/README.md for the design and the invariants.
//
// Threads.
//   PtracePlatform::Create: while the sentry is single-threaded, on a
//     thread that lives as long as the platform (the main thread).
//   Context::Switch, GetFpState, SetFpState: always from the same host
//     thread (the task's), which becomes the tracer of the context's stub
//     threads. A Switch from another thread is a fatal error.
//   Context::Release (and the destructor): on that host thread, to end its
//     stub threads; elsewhere a no-op. If never called, the host thread's
//     normal exit ends them. A host thread that dies abruptly (raw exit,
//     crash) takes the stub processes it ran in with it (EXITKILL).
//   AddressSpace::MapFile/Unmap/Protect and its destruction: any thread.
//   Context::Interrupt: any thread.
//   Destroy every AddressSpace before the platform.
//
// Registers. Switch accepts a zero-initialised Registers with just rip and
// rsp set: it fills in cs = 0x33 and ss = 0x2b when they are zero (ds, es,
// fs, gs = 0 are valid as they are; the kernel keeps IF set whatever eflags
// says). It always hands the host orig_rax = -1, so the host kernel never
// restarts a syscall: restarts are the sentry's business (rewind rip by 2,
// rax = orig_rax) and `regs` is passed to the app as given otherwise.
//
// FP state lives in the stub thread between switches (a new stub thread
// starts in the init state); GetFpState/SetFpState read and write it there
// (fp_state.h).
#ifndef PLATFORM_PTRACE_PTRACE_PLATFORM_H_
#define PLATFORM_PTRACE_PTRACE_PLATFORM_H_

#include <signal.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "platform/platform.h"
#include "platform/ptrace/fp_state.h"

namespace platform::ptrace {

class ControlThread;
class StubProcess;
class StubThread;
class Zygote;

// The host signal Interrupt() sends to a running stub thread. Not SIGSTOP:
// its group-stop semantics are more than we need, and a stub that somehow
// ran untraced should die of an interrupt (SIGUSR2's default), not freeze.
// Not a CPU signal, so it cannot be mistaken for a fault. Stubs never see
// it: Switch suppresses it at the signal-delivery-stop.
inline constexpr int kInterruptSignal = SIGUSR2;

// Mappings below this are refused, as Linux refuses them by default
// (vm.mmap_min_addr): the stub runs with the sentry's capabilities, and
// page zero must never be mapped behind a kernel NULL dereference.
inline constexpr uint64_t kMinUserAddress = 0x10000;

// EINVAL unless [addr, addr+len) is page aligned, non-empty and within
// [kMinUserAddress, max_user_address): the app must never reach the stub's
// pages (above MaxUserAddress) or page zero, whatever the sentry's
// MemoryManager asks for. Shared with the systrap platform.
base::Result<void> CheckMappingRange(uint64_t addr, uint64_t len,
                                     uint64_t max_user_address);

class PtraceAddressSpace final : public AddressSpace {
 public:
  PtraceAddressSpace(std::shared_ptr<StubProcess> process,
                     ControlThread& control, uint64_t max_user_address);
  // Kills the stub process (every thread) and reaps it. Any thread.
  ~PtraceAddressSpace() override;

  // Each is one host syscall injected into the stub process, so it is
  // synchronous for every thread of it (an Unmap has shot down every TLB
  // when it returns). Any thread: through the caller's own stub thread if
  // it has one here (stopped, since the caller is not in Switch), else
  // through the control thread and the leader. Ranges must be page
  // aligned, non-empty and within [kMinUserAddress, MaxUserAddress());
  // prot only PROT_READ|WRITE|EXEC. Otherwise EINVAL. ESRCH once the stub
  // is dead.
  base::Result<void> MapFile(uint64_t addr, uint64_t len, uint64_t file_offset,
                             int prot) override;
  base::Result<void> Unmap(uint64_t addr, uint64_t len) override;
  base::Result<void> Protect(uint64_t addr, uint64_t len, int prot) override;

  const std::shared_ptr<StubProcess>& process() const { return process_; }
  pid_t stub_pid() const;  // for tests and diagnostics

  // Clones a new stub thread (through the control thread) and seizes it:
  // the calling host thread is its tracer from now on, and releases it when
  // it exits (ReleaseAtThreadExit).
  base::Result<std::shared_ptr<StubThread>> NewThread();

 private:
  base::Result<void> CheckRange(uint64_t addr, uint64_t len) const;
  base::Result<int64_t> Inject(long nr, uint64_t a0, uint64_t a1,
                               uint64_t a2 = 0, uint64_t a3 = 0,
                               uint64_t a4 = 0, uint64_t a5 = 0);

  const std::shared_ptr<StubProcess> process_;
  ControlThread& control_;
  const uint64_t max_user_address_;
};

class PtraceContext final : public Context {
 public:
  explicit PtraceContext(const FpFormat& fp_format);
  ~PtraceContext() override;  // Release()

  // `as` must be a PtraceAddressSpace. The first Switch into an address
  // space clones the context's stub thread there (0.15-0.5 ms; kDead if
  // that fails). Per trap: PTRACE_SETREGS, PTRACE_SYSEMU, waitid,
  // PTRACE_GETREGS (plus PTRACE_GETSIGINFO for faults and CPU signals).
  //   kSyscall    regs.orig_rax = number, rax = -ENOSYS. A syscall that did
  //               not come from the 64-bit `syscall` instruction (int $0x80,
  //               32-bit code) is reported as kSignal SIGSYS instead, with
  //               si_code SYS_SECCOMP and si_arch AUDIT_ARCH_I386.
  //   kPageFault  SIGSEGV (SEGV_MAPERR/ACCERR) or SIGBUS (BUS_ADRERR);
  //               info.si_addr. ptrace cannot see the access type.
  //   kSignal     any other SIGSEGV/SIGBUS, SIGILL, SIGFPE, SIGTRAP (int3,
  //               single step), SIGSYS (also: a vsyscall call); a SIGSEGV
  //               with si_code SI_KERNEL if the kernel rejected `regs` (or
  //               a pending FP state).
  //   kInterrupt  Interrupt() was called; regs are where the app stopped
  //               (unchanged if it never ran).
  //   kDead       the stub is gone (killed from outside, or destroyed).
  Trap Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;

  // The FP state of the stub thread of the last Switch. Before any Switch:
  // the state a SetFpState left for it, else the init state. SetFpState
  // writes it at once (the kernel's EINVAL for a state it refuses), or,
  // before the first Switch, checks it (same EINVAL) and keeps it for that
  // Switch. A new address space (execve) starts from the init state.
  base::Result<void> GetFpState(std::vector<uint8_t>* out) override;
  base::Result<void> SetFpState(const std::vector<uint8_t>& in) override;

  // Ends this context's stub thread in every address space it switched
  // into (injected exit(0): that thread only, ~30-60 us each). On the
  // context's host thread only; from another thread it just forgets them
  // (their tracer's exit ends them). A later Switch starts afresh.
  void Release() override;

  // The stub thread of the last Switch, or 0 (for tests).
  pid_t stub_tid() const;

 private:
  struct Joined {
    std::shared_ptr<StubProcess> process;
    std::shared_ptr<StubThread> thread;
  };
  // Makes current_ this context's stub thread in `as`, creating it.
  base::Result<void> Join(PtraceAddressSpace& as);
  std::optional<Trap> ApplyPendingFpState(StubThread& thread);
  Trap Run(StubThread& thread, Registers& regs);
  // The trap for the stop `status`, or nothing if the stop is to be
  // suppressed and the stub resumed.
  std::optional<Trap> Decode(StubThread& thread, int status, Registers& regs);
  std::optional<Trap> Suppressed(StubThread& thread, Registers& regs);
  bool TakeInterrupt();

  const FpFormat fp_format_;
  std::vector<Joined> joined_;
  // The entry of joined_ the last Switch used. The process pointer is
  // compared with the AddressSpace's on each Switch; joined_ holds a
  // reference, so no other process can appear at that address meanwhile.
  StubProcess* current_process_ = nullptr;
  StubThread* current_ = nullptr;
  std::optional<std::vector<uint8_t>> pending_fp_;

  // A mutex rather than an atomic flag: Interrupt must signal the stub only
  // while a Switch is running it. Uncontended, it costs ~20 ns per Switch.
  std::mutex mu_;
  bool interrupted_ = false;        // guarded by mu_
  StubThread* running_ = nullptr;  // guarded by mu_
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
  size_t FpStateSize() const override { return fp_format_.size; }

  const FpFormat& fp_format() const { return fp_format_; }
  pid_t zygote_pid() const;   // for tests and diagnostics
  pid_t control_tid() const;  // the tracer of every stub's leader

 private:
  PtracePlatform(std::unique_ptr<Zygote> zygote,
                 std::unique_ptr<ControlThread> control);

  // Destroyed in reverse: the control thread first (EXITKILL kills the
  // stubs), then the zygote.
  std::unique_ptr<Zygote> zygote_;
  std::unique_ptr<ControlThread> control_;
  const uint64_t max_user_address_;
  const FpFormat fp_format_;
};

}  // namespace platform::ptrace

#endif  // PLATFORM_PTRACE_PTRACE_PLATFORM_H_
