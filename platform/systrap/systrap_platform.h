// The systrap platform: app code runs in stub processes under a seccomp
// filter whose default action is SECCOMP_RET_TRAP. Every syscall the app
// makes, and every fault, raises a signal whose handler (stub code, on the
// thread's alternate stack) copies the thread's registers and XSAVE image
// into a slot of memory shared with the sentry, and waits there for the
// sentry's answer. No ptrace on that path: ptrace only sets a stub up.
//
// Stubs come from the ptrace platform's zygote (platform/ptrace/zygote.h,
// started in systrap mode): the same shedding of everything of the sentry,
// the same stub region above MaxUserAddress. The leader of each stub
// process, seized by the same kind of control thread, is set up with a few
// injected syscalls and then let go as the *syscall thread*: it changes
// the stub's mappings and clones app threads at the sentry's request.
// See platform/README.md ("The systrap platform") for the design, the
// handshake and the lock order.
//
// Threads: as for the ptrace platform (platform.h), except that a Context
// is not tied to one host thread: Switch, Get/SetFpState and Release need
// only not run concurrently for one Context.
#ifndef PLATFORM_SYSTRAP_SYSTRAP_PLATFORM_H_
#define PLATFORM_SYSTRAP_SYSTRAP_PLATFORM_H_

#include <linux/filter.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "platform/platform.h"
#include "platform/ptrace/fp_state.h"
#include "platform/systrap/patch.h"

namespace platform::ptrace {
class ControlThread;
class StubProcess;
class Zygote;
}  // namespace platform::ptrace

namespace platform::systrap {

// The host signal Interrupt() sends to a running app thread: its handler
// reports it like any trap. Not a CPU signal, so never mistaken for one.
inline constexpr int kInterruptSignal = SIGUSR2;

class SystrapPlatform;

// One stub process and the area shared with it. The address space owns it;
// each context that joined it holds a reference too, so that a Switch in
// progress never touches freed memory when the address space goes.
class Stub {
 public:
  // One app thread of the stub, in slot `slot`. Parked (waiting in the
  // handler) while no context uses it.
  struct Thread {
    int slot = -1;
    pid_t tid = 0;
    base::UniqueFd pidfd;  // PIDFD_THREAD: signals and death
    int bound_cpu = -2;  // the CPU it is bound to; -1 any; -2 not set
    uint64_t stub_addr = 0;  // its slot's address in the stub
  };

  static base::Result<std::shared_ptr<Stub>> Create(SystrapPlatform& platform);
  ~Stub();  // Kill(), then unmaps the area

  Stub(const Stub&) = delete;
  Stub& operator=(const Stub&) = delete;

  // Runs one request in the syscall thread: its result (>= 0) or -errno.
  // ESRCH once the stub is dead. Any thread.
  base::Result<int64_t> Request(uint64_t op, uint64_t a0, uint64_t a1 = 0,
                                uint64_t a2 = 0, uint64_t a3 = 0);
  // A parked thread for a context, or a new one (cloned by the syscall
  // thread, waited for until its first trap).
  base::Result<Thread*> AcquireThread();
  // Parks it again for the next context.
  void ReleaseThread(Thread* thread);

  // SIGKILLs the process, reaps it, wakes every Switch waiting on it.
  // Idempotent, any thread.
  void Kill();
  bool dead() const { return dead_.load(std::memory_order_acquire); }
  const std::atomic<bool>& dead_flag() const { return dead_; }
  pid_t pid() const;
  // The sentry's view of slot `index` (read-write).
  char* slot(int index) const;
  SystrapPlatform& platform() const { return platform_; }

 private:
  explicit Stub(SystrapPlatform& platform);
  base::Result<void> SetUp();
  base::Result<int64_t> RequestLocked(uint64_t op, uint64_t a0, uint64_t a1,
                                      uint64_t a2, uint64_t a3);
  base::Result<Thread*> NewThreadLocked();
  // Reads one reply message; its length. 0 on EOF.
  base::Result<size_t> ReadReply();

  SystrapPlatform& platform_;
  std::shared_ptr<ptrace::StubProcess> process_;
  base::UniqueFd socket_;  // to the syscall thread
  base::UniqueFd area_fd_;
  char* area_ = nullptr;  // the sentry's mapping, SYSTRAP_AREA_SIZE bytes
  std::atomic<bool> dead_{false};

  std::mutex mu_;  // one request at a time; the thread lists
  std::vector<std::unique_ptr<Thread>> threads_;  // guarded by mu_
  std::vector<Thread*> parked_;                   // guarded by mu_
  int syscall_thread_cpu_ = -1;                   // guarded by mu_
};

class SystrapAddressSpace final : public AddressSpace {
 public:
  // `fastcall`: the stub's syscall fast path; `patch`: whether syscall
  // sites are patched to use it (platform/systrap/patch.h).
  SystrapAddressSpace(std::shared_ptr<Stub> stub, uint64_t max_user_address,
                      uint64_t fastcall, bool patch);
  ~SystrapAddressSpace() override;  // kills the stub process

  // Each is one request to the stub's syscall thread (a socket round
  // trip), synchronous for every thread of the stub. Same range rules as
  // the ptrace platform: EINVAL outside [kMinUserAddress, MaxUserAddress()).
  base::Result<void> MapFile(uint64_t addr, uint64_t len, uint64_t file_offset,
                             int prot) override;
  base::Result<void> Unmap(uint64_t addr, uint64_t len) override;
  base::Result<void> Protect(uint64_t addr, uint64_t len, int prot) override;

  void SetAppMemory(AppMemory* memory) override {
    patcher_.SetAppMemory(memory);
  }

  const std::shared_ptr<Stub>& stub() const { return stub_; }
  pid_t stub_pid() const { return stub_->pid(); }
  Patcher& patcher() { return patcher_; }

 private:
  base::Result<void> CheckRange(uint64_t addr, uint64_t len) const;
  base::Result<void> Run(uint64_t op, uint64_t a0, uint64_t a1,
                         uint64_t a2 = 0, uint64_t a3 = 0);

  const std::shared_ptr<Stub> stub_;
  const uint64_t max_user_address_;
  Patcher patcher_;
};

class SystrapContext final : public Context {
 public:
  explicit SystrapContext(SystrapPlatform& platform);
  ~SystrapContext() override;  // Release()

  // `as` must be a SystrapAddressSpace. Traps as the ptrace platform
  // reports them (kSyscall: orig_rax = number, rax = -ENOSYS), except that
  // page faults come with the CPU's error code lost here too.
  Trap Switch(AddressSpace& as, Registers& regs) override;
  void Interrupt() override;
  base::Result<void> GetFpState(std::vector<uint8_t>* out) override;
  base::Result<void> SetFpState(const std::vector<uint8_t>& in) override;
  // Parks this context's stub threads for reuse by later contexts.
  void Release() override;

  pid_t stub_tid() const;  // the thread of the last Switch, or 0 (tests)

 private:
  struct Joined {
    std::shared_ptr<Stub> stub;
    Stub::Thread* thread;
  };
  base::Result<void> Join(SystrapAddressSpace& as);
  // Flips the slot to RUN and waits for the next report. False: the stub
  // is dead.
  bool Handoff(Stub& stub, Stub::Thread& thread, char* slot);
  std::optional<Trap> Decode(char* slot, Registers& regs, Patcher& patcher);
  // The handoff mode for the next round trip (true: spinning), and whether
  // a spinning one needed no sleep on either side; see context.cc.
  bool ChooseSpin();
  void Account(bool hit);
  static void Bind(Stub::Thread& thread, int cpu);
  bool TakeInterrupt();

  SystrapPlatform& platform_;
  std::vector<Joined> joined_;
  Stub* current_stub_ = nullptr;  // joined_ holds a reference
  Stub::Thread* current_ = nullptr;
  std::optional<std::vector<uint8_t>> pending_fp_;
  static constexpr uint32_t kWindow = 32, kMaxMisses = 4;
  static constexpr uint32_t kProbeMin = 1024, kProbeMax = 65536;
  bool spinning_;             // from SystrapPlatform::spin_hint()
  bool last_spin_ = false;     // the last handoff gave the stub a spin
  uint32_t window_ = 0;        // spinning handoffs in this window
  uint32_t misses_ = 0;        // of which needed a sleep
  uint32_t pinned_handoffs_ = 0;
  uint32_t probe_every_ = kProbeMin;

  // As in the ptrace platform: Interrupt signals the thread only while a
  // Switch runs it, and the flag is never lost.
  std::mutex mu_;
  bool interrupted_ = false;           // guarded by mu_
  Stub::Thread* running_ = nullptr;    // guarded by mu_
  std::atomic<int64_t> interrupt_ns_{0};  // when Interrupt() last signalled
};

class SystrapPlatform final : public Platform {
 public:
  // `patch`: rewrite syscall sites into jumps to the fast path
  // (--systrap-patch; platform/systrap/patch.h).
  static base::Result<std::unique_ptr<Platform>> Create(int memory_fd,
                                                        bool patch = true);
  ~SystrapPlatform() override;

  std::string_view Name() const override { return "systrap"; }
  uint64_t MaxUserAddress() const override { return max_user_address_; }
  base::Result<std::unique_ptr<AddressSpace>> NewAddressSpace() override;
  std::unique_ptr<Context> NewContext() override;
  size_t FpStateSize() const override { return fp_format_.size; }

  const ptrace::FpFormat& fp_format() const { return fp_format_; }
  pid_t zygote_pid() const;

  // For Stub and SystrapContext.
  ptrace::Zygote& zygote() { return *zygote_; }
  ptrace::ControlThread& control() { return *control_; }
  uint64_t area_addr() const { return area_addr_; }
  const std::vector<sock_filter>& thread_filter() const { return filter_; }
  // Spin budget (TSC cycles) for a waiter now: 0 when more threads wait or
  // run than the host has CPUs, so that spinning never takes a CPU from
  // the thread it waits for.
  uint64_t SpinCycles() const;
  std::atomic<int>& active() { return active_; }
  // The verdict of the last window of spinning handoffs any context judged
  // (context.cc): new contexts start in that mode.
  std::atomic<bool>& spin_hint() { return spin_hint_; }

 private:
  SystrapPlatform(std::unique_ptr<ptrace::Zygote> zygote,
                  std::unique_ptr<ptrace::ControlThread> control);

  std::unique_ptr<ptrace::Zygote> zygote_;
  std::unique_ptr<ptrace::ControlThread> control_;
  const uint64_t max_user_address_;
  uint64_t area_addr_ = 0;
  const ptrace::FpFormat fp_format_;
  std::vector<sock_filter> filter_;
  uint64_t spin_cycles_ = 0;
  int cpus_ = 1;
  bool patch_ = true;
  std::atomic<int> active_{0};  // Switches in progress
  std::atomic<bool> spin_hint_{true};
};

}  // namespace platform::systrap

#endif  // PLATFORM_SYSTRAP_SYSTRAP_PLATFORM_H_
