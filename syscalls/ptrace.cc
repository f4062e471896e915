// Tracing: ptrace(2), process_vm_readv(2), process_vm_writev(2). The
// kernel side is sentry/kernel/ptrace*.cc.
#include <elf.h>
#include <linux/audit.h>
#include <linux/ptrace.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <vector>

#include "sentry/kernel/ptrace.h"
#include "syscalls/common.h"
#include "syscalls/iovec.h"

namespace syscalls {
namespace {

using kernel::PtraceResume;
using kernel::TaskPtrace;

// The options PTRACE_SETOPTIONS knows (PTRACE_O_MASK without SUSPEND_SECCOMP,
// which needs CAP_SYS_ADMIN and checkpointing).
constexpr uint64_t kOptions =
    PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEVFORKDONE |
    PTRACE_O_TRACEEXIT | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;

// A stopped tracee's memory; the tracee cannot run (only this thread may
// resume it) and the shared pointer keeps the memory manager.
Result<std::shared_ptr<mm::MemoryManager>> TraceeMm(Task& t, int pid) {
  std::shared_ptr<mm::MemoryManager> m;
  TRY(t.kernel().ptrace().WithTracee(t, pid, true, [&](Task& tracee,
                                                      TaskPtrace&) {
    m = tracee.SharedState().mm;
    return m ? Result<void>{} : Result<void>(Err(ESRCH));
  }));
  return m;
}

// Runs `fn` on the stopped tracee `pid` of the caller, under the lock.
Result<void> OnStopped(Task& t, int pid,
                       const std::function<Result<void>(Task&, TaskPtrace&)>& fn) {
  return t.kernel().ptrace().WithTracee(t, pid, true, fn);
}

// ESRCH unless `pid` is the caller's stopped tracee: Linux's
// ptrace_check_attach comes before a request looks at its arguments.
Result<void> CheckStopped(Task& t, int pid) {
  return OnStopped(t, pid, [](Task&, TaskPtrace&) { return Result<void>{}; });
}

Result<uint64_t> Peek(Task& t, int pid, uint64_t addr, uint64_t data,
                      bool user) {
  uint64_t word = 0;
  if (user) {
    TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) -> Result<void> {
      word = TRY(kernel::Ptrace::PeekUser(tracee, addr));
      return {};
    }));
  } else {
    auto m = TRY(TraceeMm(t, pid));
    if (!m->ReadForce(addr, &word, sizeof(word))) return Err(EIO);
  }
  // The raw syscall stores the word at `data` (glibc returns it).
  TRY(t.mm().CopyOutObj(UserPtr<uint64_t>(data), word));
  return 0;
}

// GETREGSET/SETREGSET: `data` points at an iovec; the length written back
// is what was copied.
Result<uint64_t> Regset(Task& t, int pid, int type, uint64_t data, bool set) {
  const UserPtr<struct iovec> iovp(data);
  struct iovec iov = TRY(t.mm().CopyInObj(iovp));
  const uint64_t base = reinterpret_cast<uint64_t>(iov.iov_base);
  if (!set) {
    std::vector<uint8_t> bytes;
    TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) -> Result<void> {
      bytes = TRY(kernel::Ptrace::GetRegset(tracee, type));
      return {};
    }));
    const size_t n = std::min(iov.iov_len, bytes.size());
    TRY(t.mm().CopyOut(base, bytes.data(), n));
    iov.iov_len = n;
    TRY(t.mm().CopyOutObj(iovp, iov));
    return 0;
  }
  // A set is at most as big as the biggest register set.
  constexpr size_t kMax = 1 << 20;
  std::vector<uint8_t> bytes(std::min<size_t>(iov.iov_len, kMax));
  TRY(t.mm().CopyIn(base, bytes.data(), bytes.size()));
  TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) -> Result<void> {
    std::vector<uint8_t> all = TRY(kernel::Ptrace::GetRegset(tracee, type));
    if (bytes.size() > all.size()) bytes.resize(all.size());
    return kernel::Ptrace::SetRegset(tracee, type, bytes);
  }));
  iov.iov_len = bytes.size();
  TRY(t.mm().CopyOutObj(iovp, iov));
  return 0;
}

// PTRACE_PEEKSIGINFO: copies of the tracee's queued signals (its own
// queue, or its process's with PTRACE_PEEKSIGINFO_SHARED), as Linux's
// ptrace_peek_siginfo: the count copied; EFAULT only if none was.
Result<uint64_t> PeekSiginfo(Task& t, int pid, uint64_t addr, uint64_t data) {
  TRY(CheckStopped(t, pid));
  const auto a =
      TRY(t.mm().CopyInObj(UserPtr<struct ptrace_peeksiginfo_args>(addr)));
  if (a.flags & ~uint32_t{PTRACE_PEEKSIGINFO_SHARED}) return Err(EINVAL);
  if (a.nr < 0) return Err(EINVAL);
  std::vector<siginfo_t> infos;
  TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) -> Result<void> {
    const bool shared = a.flags & PTRACE_PEEKSIGINFO_SHARED;
    infos = tracee.thread_group().signals().Queued(shared ? nullptr : &tracee,
                                                   a.off, a.nr);
    return {};
  }));
  uint64_t done = 0;
  for (const siginfo_t& info : infos) {
    if (!t.mm().CopyOutObj(UserPtr<siginfo_t>(data + done * sizeof(info)),
                           info))
      break;
    ++done;
  }
  if (done == 0 && !infos.empty()) return Err(EFAULT);
  return done;
}

// PTRACE_GET_SYSCALL_INFO, as Linux's ptrace_get_syscall_info: the
// record's size whatever `size` lets through. A syscall stop counts as one
// only with PTRACE_O_TRACESYSGOOD's 0x80 (how Linux tells them apart).
Result<uint64_t> GetSyscallInfo(Task& t, int pid, uint64_t size,
                                uint64_t data) {
  struct ptrace_syscall_info info = {};
  size_t actual = offsetof(struct ptrace_syscall_info, entry);
  TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace& tp) -> Result<void> {
    const user_regs_struct r = kernel::Ptrace::GetRegs(tracee);
    info.op = PTRACE_SYSCALL_INFO_NONE;
    info.arch = AUDIT_ARCH_X86_64;
    info.instruction_pointer = r.rip;
    info.stack_pointer = r.rsp;
    if (tp.code != (SIGTRAP | 0x80)) return {};
    if (tp.kind == kernel::PtraceStopKind::kSyscallEnter) {
      info.op = PTRACE_SYSCALL_INFO_ENTRY;
      info.entry.nr = r.orig_rax;
      const uint64_t args[6] = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
      std::copy(std::begin(args), std::end(args), info.entry.args);
      actual = offsetof(struct ptrace_syscall_info, entry.args) +
               sizeof(info.entry.args);
    } else if (tp.kind == kernel::PtraceStopKind::kSyscallExit) {
      info.op = PTRACE_SYSCALL_INFO_EXIT;
      info.exit.rval = static_cast<int64_t>(r.rax);
      // IS_ERR_VALUE: -4095..-1.
      info.exit.is_error = r.rax >= static_cast<uint64_t>(-4095);
      actual = offsetof(struct ptrace_syscall_info, exit.is_error) +
               sizeof(info.exit.is_error);
    }
    return {};
  }));
  TRY(t.mm().CopyOut(data, &info, std::min<uint64_t>(size, actual)));
  return actual;
}

// PTRACE_GETSIGMASK / PTRACE_SETSIGMASK: `size` must be the kernel's
// sigset_t; SIGKILL and SIGSTOP cannot be blocked.
Result<uint64_t> Sigmask(Task& t, int pid, uint64_t size, uint64_t data,
                         bool set) {
  TRY(CheckStopped(t, pid));
  if (size != sizeof(kernel::SigSet)) return Err(EINVAL);
  const UserPtr<kernel::SigSet> ptr(data);
  if (!set) {
    kernel::SigSet mask = 0;
    TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
      mask = tracee.signal_mask;
      return Result<void>{};
    }));
    TRY(t.mm().CopyOutObj(ptr, mask));
    return 0;
  }
  const kernel::SigSet mask = TRY(t.mm().CopyInObj(ptr));
  TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
    tracee.SetSignalMask(mask & ~kernel::kUnblockable);
    return Result<void>{};
  }));
  return 0;
}

// Ptrace implements Linux syscall ptrace(2).
Result<uint64_t> Ptrace(Task& t, int64_t request, int pid, uint64_t addr,
                        uint64_t data) {
  kernel::Ptrace& p = t.kernel().ptrace();
  switch (request) {
    case PTRACE_TRACEME:
      TRY(p.TraceMe(t));
      return 0;
    case PTRACE_ATTACH:
      TRY(p.Attach(t, pid, false, 0));
      return 0;
    case PTRACE_SEIZE:
      if (addr != 0 || (data & ~kOptions)) return Err(EIO);
      TRY(p.Attach(t, pid, true, static_cast<uint32_t>(data)));
      return 0;
    case PTRACE_KILL:
      TRY(p.Kill(t, pid));
      return 0;
    case PTRACE_INTERRUPT:
      TRY(p.Interrupt(t, pid));
      return 0;
    case PTRACE_LISTEN:
      TRY(p.Listen(t, pid));
      return 0;
    case PTRACE_CONT:
      TRY(p.Resume(t, pid, PtraceResume::kCont, static_cast<int>(data), false));
      return 0;
    case PTRACE_SYSCALL:
      TRY(p.Resume(t, pid, PtraceResume::kSyscall, static_cast<int>(data),
                   false));
      return 0;
    case PTRACE_SINGLESTEP:
      TRY(p.Resume(t, pid, PtraceResume::kSingleStep, static_cast<int>(data),
                   false));
      return 0;
    case PTRACE_DETACH:
      TRY(p.Resume(t, pid, PtraceResume::kCont, static_cast<int>(data), true));
      return 0;
    case PTRACE_PEEKTEXT:
    case PTRACE_PEEKDATA:
      return Peek(t, pid, addr, data, false);
    case PTRACE_PEEKUSR:
      return Peek(t, pid, addr, data, true);
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA: {
      auto m = TRY(TraceeMm(t, pid));
      // As Linux's FOLL_FORCE: read-only text takes a breakpoint (in a
      // private copy of the page).
      if (!m->WriteForce(addr, &data, sizeof(data))) return Err(EIO);
      return 0;
    }
    case PTRACE_POKEUSR:
      TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
        return kernel::Ptrace::PokeUser(tracee, addr, data);
      }));
      return 0;
    case PTRACE_GETREGS: {
      user_regs_struct r;
      TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
        r = kernel::Ptrace::GetRegs(tracee);
        return Result<void>{};
      }));
      TRY(t.mm().CopyOutObj(UserPtr<user_regs_struct>(data), r));
      return 0;
    }
    case PTRACE_SETREGS: {
      auto r = TRY(t.mm().CopyInObj(UserPtr<user_regs_struct>(data)));
      TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
        return kernel::Ptrace::SetRegs(tracee, r);
      }));
      return 0;
    }
    case PTRACE_GETFPREGS: {
      std::vector<uint8_t> fp;
      TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) -> Result<void> {
        fp = TRY(kernel::Ptrace::GetRegset(tracee, NT_PRFPREG));
        return {};
      }));
      TRY(t.mm().CopyOut(data, fp.data(), fp.size()));
      return 0;
    }
    case PTRACE_SETFPREGS: {
      std::vector<uint8_t> fp(sizeof(user_fpregs_struct));
      TRY(t.mm().CopyIn(data, fp.data(), fp.size()));
      TRY(OnStopped(t, pid, [&](Task& tracee, TaskPtrace&) {
        return kernel::Ptrace::SetRegset(tracee, NT_PRFPREG, fp);
      }));
      return 0;
    }
    case PTRACE_GETREGSET:
      return Regset(t, pid, static_cast<int>(addr), data, false);
    case PTRACE_SETREGSET:
      return Regset(t, pid, static_cast<int>(addr), data, true);
    case PTRACE_GETSIGINFO: {
      siginfo_t info;
      TRY(OnStopped(t, pid, [&](Task&, TaskPtrace& tp) -> Result<void> {
        if (!tp.has_siginfo) {
          // Syscall and event stops: Linux shows the SIGTRAP it made.
          info = siginfo_t{};
          info.si_signo = SIGTRAP;
          info.si_code = tp.code;
          return {};
        }
        info = tp.siginfo;
        return {};
      }));
      TRY(t.mm().CopyOutObj(UserPtr<siginfo_t>(data), info));
      return 0;
    }
    case PTRACE_SETSIGINFO: {
      auto info = TRY(t.mm().CopyInObj(UserPtr<siginfo_t>(data)));
      TRY(OnStopped(t, pid, [&](Task&, TaskPtrace& tp) -> Result<void> {
        if (!tp.has_siginfo) return Err(EINVAL);
        tp.siginfo = info;
        return {};
      }));
      return 0;
    }
    case PTRACE_SETOPTIONS:
      if (data & ~kOptions) return Err(EINVAL);
      TRY(OnStopped(t, pid, [&](Task&, TaskPtrace& tp) {
        tp.options = static_cast<uint32_t>(data);
        return Result<void>{};
      }));
      return 0;
    case PTRACE_GETEVENTMSG: {
      unsigned long msg = 0;
      TRY(OnStopped(t, pid, [&](Task&, TaskPtrace& tp) {
        msg = tp.event_msg;
        return Result<void>{};
      }));
      TRY(t.mm().CopyOutObj(UserPtr<unsigned long>(data), msg));
      return 0;
    }
    case PTRACE_PEEKSIGINFO:
      return PeekSiginfo(t, pid, addr, data);
    case PTRACE_GETSIGMASK:
      return Sigmask(t, pid, addr, data, false);
    case PTRACE_SETSIGMASK:
      return Sigmask(t, pid, addr, data, true);
    case PTRACE_GET_SYSCALL_INFO:
      return GetSyscallInfo(t, pid, addr, data);
    default:
      // Not our stopped tracee: ESRCH before the request is looked at.
      TRY(CheckStopped(t, pid));
      // TODO(issue 13): ARCH_PRCTL, seccomp requests.
      return Err(EIO);
  }
}

// process_vm_readv and process_vm_writev: moves bytes between the
// caller's `local` iovecs and process `pid`'s `remote` ones, a page of the
// remote side at a time, so that a fault leaves a partial transfer of the
// pages before it (as Linux's process_vm_rw_pages).
Result<uint64_t> ProcessVm(Task& t, int pid, UserPtr<struct iovec> local,
                           uint64_t liovcnt, UserPtr<struct iovec> remote,
                           uint64_t riovcnt, uint64_t flags, bool write) {
  if (flags != 0) return Err(EINVAL);
  if (liovcnt > kMaxIovecs || riovcnt > kMaxIovecs) return Err(EINVAL);
  size_t ltotal, rtotal;
  auto lv = TRY(CopyInIovecs(t, local, static_cast<int>(liovcnt), &ltotal));
  auto rv = TRY(CopyInIovecs(t, remote, static_cast<int>(riovcnt), &rtotal));
  if (ltotal == 0 || rtotal == 0) return 0;  // Linux looks no further

  auto target = t.kernel().processes().FindByTid(pid);
  if (!target || pid <= 0) return Err(ESRCH);
  TRY(kernel::PtraceMayAttach(t, *target));
  std::shared_ptr<mm::MemoryManager> rmm;
  t.kernel().WithTask(pid, [&](Task& other) { rmm = other.SharedState().mm; });
  if (!rmm) {
    // A thread's id names its process; any live thread has its memory.
    target->ForEachThread([&](Task* other) {
      if (!rmm) rmm = other->SharedState().mm;
    });
  }
  if (!rmm) return Err(ESRCH);

  constexpr uint64_t kPage = 4096;
  std::vector<uint8_t> buf(kPage);
  size_t li = 0, loff = 0, done = 0;
  bool local_fault = false;
  for (const auto& r : rv) {
    uint64_t raddr = reinterpret_cast<uint64_t>(r.iov_base);
    size_t rleft = r.iov_len;
    while (rleft > 0 && li < lv.size()) {
      // One piece: up to the end of the remote page and of the local iov.
      size_t n = std::min<size_t>(rleft, kPage - raddr % kPage);
      n = std::min(n, lv[li].iov_len - loff);
      if (n == 0) {
        ++li;
        loff = 0;
        continue;
      }
      const uint64_t laddr = reinterpret_cast<uint64_t>(lv[li].iov_base) + loff;
      if (write) {
        if (!t.mm().CopyIn(laddr, buf.data(), n)) {
          local_fault = true;
          break;
        }
        if (!rmm->CopyOut(raddr, buf.data(), n)) break;
      } else {
        if (!rmm->CopyIn(raddr, buf.data(), n)) break;
        if (!t.mm().CopyOut(laddr, buf.data(), n)) {
          local_fault = true;
          break;
        }
      }
      done += n;
      raddr += n;
      rleft -= n;
      loff += n;
    }
    if (rleft > 0) break;  // a fault, or the local side is full
  }
  // Nothing moved: the fault's EFAULT (either side's).
  (void)local_fault;
  if (done == 0) return Err(EFAULT);
  return done;
}

// ProcessVmReadv implements Linux syscall process_vm_readv(2).
Result<uint64_t> ProcessVmReadv(Task& t, int pid, UserPtr<struct iovec> local,
                                uint64_t liovcnt, UserPtr<struct iovec> remote,
                                uint64_t riovcnt, uint64_t flags) {
  return ProcessVm(t, pid, local, liovcnt, remote, riovcnt, flags, false);
}

// ProcessVmWritev implements Linux syscall process_vm_writev(2).
Result<uint64_t> ProcessVmWritev(Task& t, int pid, UserPtr<struct iovec> local,
                                 uint64_t liovcnt, UserPtr<struct iovec> remote,
                                 uint64_t riovcnt, uint64_t flags) {
  return ProcessVm(t, pid, local, liovcnt, remote, riovcnt, flags, true);
}

}  // namespace

void RegisterPtrace(Registrar& r) {
  r.Partial<&Ptrace>(
      SYS_ptrace,
      "tasks of the sandbox trace each other: TRACEME, ATTACH, SEIZE, "
      "signal, syscall, event and group stops, PEEK/POKE, regs and regsets "
      "(PRSTATUS, PRFPREG, X86_XSTATE), SINGLESTEP, INTERRUPT, LISTEN, "
      "PEEKSIGINFO, GET/SETSIGMASK, GET_SYSCALL_INFO; no hardware "
      "breakpoints (debug registers read 0), ARCH_PRCTL or seccomp stops "
      "(EIO)");
  r.Full<&ProcessVmReadv>(SYS_process_vm_readv);
  r.Full<&ProcessVmWritev>(SYS_process_vm_writev);
}

}  // namespace syscalls
