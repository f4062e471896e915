// SystrapContext: runs app code in a stub thread until it traps (the hot
// path: two handoffs through the thread's slot), joins address spaces, and
// keeps the FP state in the slot.
#include <linux/audit.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "platform/ptrace/pidfd.h"
#include "platform/stub_traps.h"
#include "platform/systrap/slot.h"
#include "platform/systrap/systrap_abi.h"
#include "platform/systrap/systrap_platform.h"

namespace platform::systrap {
namespace {

constexpr uint64_t kUserCs = 0x33;
constexpr uint64_t kUserDs = 0x2b;
constexpr int kSysSeccomp = 1;  // SYS_SECCOMP
// An app thread that has not answered an interrupt for this long has
// blocked the host signal (a forged sigreturn frame can do that): its stub
// is killed, so that the task can still die.
constexpr int64_t kInterruptGraceNs = 5'000'000'000;

// The order of the sigcontext's general registers (SYSTRAP_SLOT_MCONTEXT).
enum Greg {
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15, kRdi, kRsi, kRbp, kRbx,
  kRdx, kRax, kRcx, kRsp, kRip, kEflags, kCsGsFs, kErr, kTrapno, kOldmask,
  kCr2, kFpstate,
};

uint64_t* Gregs(char* slot) {
  return reinterpret_cast<uint64_t*>(slot + SYSTRAP_SLOT_MCONTEXT);
}

// `zero_gs`: the host gs base for an app gs base of 0. With patching on,
// the slot's own address: the fast path finds the slot through %gs (an app
// that sets a gs base of its own gets every patch undone first).
void WriteRegs(char* slot, const Registers& regs, uint64_t zero_gs) {
  uint64_t* g = Gregs(slot);
  g[kR8] = regs.r8;   g[kR9] = regs.r9;   g[kR10] = regs.r10;
  g[kR11] = regs.r11; g[kR12] = regs.r12; g[kR13] = regs.r13;
  g[kR14] = regs.r14; g[kR15] = regs.r15; g[kRdi] = regs.rdi;
  g[kRsi] = regs.rsi; g[kRbp] = regs.rbp; g[kRbx] = regs.rbx;
  g[kRdx] = regs.rdx; g[kRax] = regs.rax; g[kRcx] = regs.rcx;
  g[kRsp] = regs.rsp; g[kRip] = regs.rip; g[kEflags] = regs.eflags;
  SlotU64(slot, SYSTRAP_SLOT_FS_BASE) = regs.fs_base;
  SlotU64(slot, SYSTRAP_SLOT_GS_BASE) =
      regs.gs_base == 0 ? zero_gs : regs.gs_base;
}

// fs_base and gs_base stay as the sentry gave them: the app cannot change
// them but through the sentry (this CPU has no FSGSBASE instructions).
void ReadRegs(char* slot, Registers& regs) {
  const uint64_t* g = Gregs(slot);
  regs.r8 = g[kR8];   regs.r9 = g[kR9];   regs.r10 = g[kR10];
  regs.r11 = g[kR11]; regs.r12 = g[kR12]; regs.r13 = g[kR13];
  regs.r14 = g[kR14]; regs.r15 = g[kR15]; regs.rdi = g[kRdi];
  regs.rsi = g[kRsi]; regs.rbp = g[kRbp]; regs.rbx = g[kRbx];
  regs.rdx = g[kRdx]; regs.rax = g[kRax]; regs.rcx = g[kRcx];
  regs.rsp = g[kRsp]; regs.rip = g[kRip]; regs.eflags = g[kEflags];
  regs.cs = kUserCs;
  regs.ss = kUserDs;
  regs.orig_rax = ~0ull;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000 + ts.tv_nsec;
}

}  // namespace

SystrapContext::SystrapContext(SystrapPlatform& platform)
    : platform_(platform),
      spinning_(platform.spin_hint().load(std::memory_order_relaxed)) {}

SystrapContext::~SystrapContext() { Release(); }

Trap SystrapContext::Switch(AddressSpace& as, Registers& regs) {
  auto& sas = static_cast<SystrapAddressSpace&>(as);
  if (sas.stub().get() != current_stub_) [[unlikely]] {
    if (!Join(sas)) return MakeTrap(Trap::Kind::kDead);
  }
  Stub& stub = *current_stub_;
  Stub::Thread& thread = *current_;
  if (stub.dead()) return MakeTrap(Trap::Kind::kDead);
  char* slot = stub.slot(thread.slot);
  if (pending_fp_) [[unlikely]] {
    memcpy(slot + SYSTRAP_SLOT_FP, pending_fp_->data(), pending_fp_->size());
    SlotWord(slot, SYSTRAP_SLOT_FP_DIRTY).store(1, std::memory_order_relaxed);
    pending_fp_.reset();
  }
  Patcher& patcher = sas.patcher();
  // The fast path needs %gs: a thread with a gs base of its own must never
  // meet a patched site.
  if (regs.gs_base != 0) [[unlikely]]
    patcher.DisableIfPatched();
  {
    std::lock_guard lock(mu_);
    if (interrupted_) {
      interrupted_ = false;
      return MakeTrap(Trap::Kind::kInterrupt);
    }
    running_ = &thread;
  }
  // The app may have changed it: the sentry's value, every time.
  SlotU64(slot, SYSTRAP_SLOT_SELF) = thread.stub_addr;
  const uint64_t zero_gs = patcher.enabled() ? thread.stub_addr : 0;
  WriteRegs(slot, regs, zero_gs);
  Trap trap;
  for (;;) {
    if (!Handoff(stub, thread, slot)) {
      trap = MakeTrap(Trap::Kind::kDead);
      break;
    }
    if (std::optional<Trap> t = Decode(slot, regs, patcher)) {
      trap = *t;
      break;
    }
    // A suppressed report: the thread resumes from the slot's registers,
    // where the handler left it (or where Decode moved it).
    WriteRegs(slot, regs, zero_gs);
  }
  std::lock_guard lock(mu_);
  running_ = nullptr;
  return trap;
}

namespace {

struct WaitArgs {
  SystrapContext* context;
  Stub* stub;
  const std::atomic<int64_t>* interrupt_ns;
};

}  // namespace

bool SystrapContext::Handoff(Stub& stub, Stub::Thread& thread, char* slot) {
  std::atomic<int>& active = platform_.active();
  active.fetch_add(1, std::memory_order_relaxed);
  // Spin only in the spinning mode and while no more Switches are in
  // progress than the host has CPUs; otherwise pinned.
  const uint64_t spin = ChooseSpin() ? platform_.SpinCycles() : 0;
  Bind(thread, spin == 0 ? sched_getcpu() : -1);
  SlotU64(slot, SYSTRAP_SLOT_SPIN) = spin;
  // Whether the stub slept waiting for this answer: its spin (if the last
  // handoff gave it one) ended unanswered.
  const bool stub_slept = PostRun(slot);
  const bool stub_spun = last_spin_;
  last_spin_ = spin != 0;
  WaitArgs args{this, &stub, &interrupt_ns_};
  bool spin_hit = false;
  const bool alive = WaitForReport(
      slot, thread.pidfd.get(), stub.dead_flag(), spin,
      [](void* p) {
        auto* a = static_cast<WaitArgs*>(p);
        const int64_t sent = a->interrupt_ns->load(std::memory_order_relaxed);
        if (sent == 0 || NowNs() - sent < kInterruptGraceNs) return true;
        LOG(Warning) << "systrap stub " << a->stub->pid()
                     << ": an app thread ignores interrupts; killing it";
        a->stub->Kill();
        return false;
      },
      &args, &spin_hit);
  active.fetch_sub(1, std::memory_order_relaxed);
  if (spin != 0) Account(spin_hit && !(stub_spun && stub_slept));
  return alive;
}

// Two ways to hand over. Pinned: the stub thread runs on the CPU of the
// sentry thread that waits for it, and both sides sleep at once (a futex
// wake and a futex wait a round trip, one switch each way on one CPU: the
// ptrace platform's trick). Spinning: the stub thread runs anywhere, and
// each side spins up to SpinCycles() (about one futex round trip) for the
// other before it sleeps; when both find the answer within the spin, the
// handoff needs no switch and no syscall at all. That takes a free CPU:
// on a loaded host (measured 2026-12-07 21:40, load 17: 2 switches and 3
// futex calls a getppid spinning against 2 and 2 pinned, 190-210 us against
// 61-87 us) the spins run out and only burn CPU the other side needs.
//
// So the cost of spinning is judged by its misses, not by timing round
// trips (which mix in the app's and the syscall's own time): a window of
// kWindow spinning handoffs in which more than kMaxMisses end in a futex
// sleep on either side ends spinning. Pinned, a window of spinning is tried
// every probe_every_ handoffs, an interval that doubles (to kProbeMax)
// after each failed window and starts again at kProbeMin after a good one.
// A window ends as soon as it has failed, so it costs at most kMaxMisses + 1
// spins that ran out. A new context starts in the mode of the last window
// any context of the platform judged (spinning at first), so that each of
// make's short-lived processes does not learn the host's load anew.
bool SystrapContext::ChooseSpin() {
  // RUNSC_SYSTRAP_HANDOFF=pinned|spin fixes the mode (for measurements).
  static const char* const forced = getenv("RUNSC_SYSTRAP_HANDOFF");
  if (forced != nullptr) return forced[0] == 's';
  if (spinning_) return true;
  if (++pinned_handoffs_ < probe_every_) return false;
  spinning_ = true;
  window_ = 0;
  misses_ = 0;
  return true;
}

void SystrapContext::Account(bool hit) {
  if (!spinning_) return;  // forced spinning
  if (!hit) ++misses_;
  ++window_;
  const bool failed = misses_ > kMaxMisses;
  if (!failed && window_ < kWindow) return;
  if (failed) {  // at once: no need to see the window out
    spinning_ = false;
    probe_every_ = std::min(probe_every_ * 2, kProbeMax);
  } else {
    probe_every_ = kProbeMin;  // a good window: keep spinning
  }
  platform_.spin_hint().store(spinning_, std::memory_order_relaxed);
  pinned_handoffs_ = 0;
  window_ = 0;
  misses_ = 0;
}

void SystrapContext::Bind(Stub::Thread& thread, int cpu) {
  if (cpu == thread.bound_cpu) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
  } else {
    CPU_SET(cpu, &set);
  }
  // It may fail for a thread that just died; the wait notices that.
  sched_setaffinity(thread.tid, sizeof(set), &set);
  thread.bound_cpu = cpu;
}

std::optional<Trap> SystrapContext::Decode(char* slot, Registers& regs,
                                           Patcher& patcher) {
  Trap trap;
  memcpy(&trap.info, slot + SYSTRAP_SLOT_SIGINFO, sizeof(trap.info));
  ReadRegs(slot, regs);
  const siginfo_t& info = trap.info;
  const int sig = info.si_signo;
  if (sig == SIGSYS && info.si_code == kSysSeccomp) {
    const auto call = reinterpret_cast<uint64_t>(info.si_call_addr);
    if (IsVsyscallCall(call)) return VsyscallFault(call, regs);
    if (info.si_arch == AUDIT_ARCH_X86_64) {
      // The kernel rolled rax back to the number; report it as the ptrace
      // platform does.
      regs.orig_rax = static_cast<uint64_t>(static_cast<uint32_t>(info.si_syscall));
      regs.rax = static_cast<uint64_t>(-ENOSYS);
      interrupt_ns_.store(0, std::memory_order_relaxed);
      trap.kind = Trap::Kind::kSyscall;
      // Through the seccomp trap (not the fast path): a site to patch?
      if (info.si_errno != SYSTRAP_FAST_MARK && call == regs.rip)
        patcher.MaybePatch(regs.rip, static_cast<uint32_t>(regs.orig_rax));
      return trap;
    }
    trap.kind = Trap::Kind::kSignal;
    return trap;
  }
  // A thread that met a site while it was being patched.
  if (sig == SIGILL && info.si_code > 0) {
    switch (patcher.HandleFault(regs)) {
      case Patcher::Fault::kNone:
        break;
      case Patcher::Fault::kRestart:
        return std::nullopt;
      case Patcher::Fault::kSyscall:
        interrupt_ns_.store(0, std::memory_order_relaxed);
        return MakeTrap(Trap::Kind::kSyscall);
    }
  }
  // Raised by the CPU (si_code > 0), not sent by some process.
  if (IsCpuSignal(sig) && info.si_code > 0) {
    trap.kind =
        IsPageFault(info) ? Trap::Kind::kPageFault : Trap::Kind::kSignal;
    return trap;
  }
  // The interrupt signal, or a signal from outside: never the app's.
  if (!TakeInterrupt()) return std::nullopt;
  return MakeTrap(Trap::Kind::kInterrupt);
}

base::Result<void> SystrapContext::Join(SystrapAddressSpace& as) {
  current_stub_ = nullptr;
  current_ = nullptr;
  std::erase_if(joined_, [](const Joined& j) { return j.stub->dead(); });
  const std::shared_ptr<Stub>& stub = as.stub();
  auto it = std::find_if(joined_.begin(), joined_.end(),
                         [&](const Joined& j) { return j.stub == stub; });
  if (it == joined_.end()) {
    auto thread = stub->AcquireThread();
    if (!thread) {
      if (thread.error() != base::Errno(ESRCH))
        LOG(Error) << "systrap stub " << stub->pid()
                   << ": cannot add a thread: "
                   << base::ErrnoName(thread.error().value);
      return base::Err(thread.error().value);
    }
    // A new (or reused) thread starts from the init FP state, unless a
    // state was set for it.
    char* slot = stub->slot((*thread)->slot);
    const std::vector<uint8_t> state =
        pending_fp_ ? *pending_fp_ : ptrace::InitFpState(platform_.fp_format());
    pending_fp_.reset();
    memcpy(slot + SYSTRAP_SLOT_FP, state.data(), state.size());
    SlotWord(slot, SYSTRAP_SLOT_FP_DIRTY).store(1, std::memory_order_relaxed);
    it = joined_.insert(joined_.end(), Joined{stub, *thread});
  }
  current_stub_ = it->stub.get();
  current_ = it->thread;
  return {};
}

void SystrapContext::Release() {
  for (const Joined& j : joined_) j.stub->ReleaseThread(j.thread);
  joined_.clear();
  current_stub_ = nullptr;
  current_ = nullptr;
}

pid_t SystrapContext::stub_tid() const {
  return current_ != nullptr ? current_->tid : 0;
}

void SystrapContext::Interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
  if (running_ == nullptr) return;
  int64_t expected = 0;
  interrupt_ns_.compare_exchange_strong(expected, NowNs(),
                                        std::memory_order_relaxed);
  ptrace::PidfdSendSignal(running_->pidfd.get(), kInterruptSignal);
}

bool SystrapContext::TakeInterrupt() {
  std::lock_guard lock(mu_);
  interrupt_ns_.store(0, std::memory_order_relaxed);
  return std::exchange(interrupted_, false);
}

base::Result<void> SystrapContext::GetFpState(std::vector<uint8_t>* out) {
  if (pending_fp_) {
    *out = *pending_fp_;
    return {};
  }
  const size_t size = platform_.fp_format().size;
  if (current_ == nullptr) {
    *out = ptrace::InitFpState(platform_.fp_format());
    return {};
  }
  const char* fp = current_stub_->slot(current_->slot) + SYSTRAP_SLOT_FP;
  out->assign(fp, fp + size);
  return {};
}

base::Result<void> SystrapContext::SetFpState(const std::vector<uint8_t>& in) {
  // Checked as the kernel's sigreturn would: a state it refuses would
  // otherwise turn into a SIGSEGV of the stub thread.
  TRY(ptrace::CheckFpState(platform_.fp_format(), in));
  if (current_ == nullptr || current_stub_->dead()) {
    pending_fp_ = in;
    return {};
  }
  char* slot = current_stub_->slot(current_->slot);
  memcpy(slot + SYSTRAP_SLOT_FP, in.data(), in.size());
  SlotWord(slot, SYSTRAP_SLOT_FP_DIRTY).store(1, std::memory_order_relaxed);
  return {};
}

}  // namespace platform::systrap
