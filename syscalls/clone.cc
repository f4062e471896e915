// Process creation: fork(2), vfork(2), clone(2), clone3(2); unshare(2),
// setns(2).
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include <climits>
#include <cstring>

#include "syscalls/common.h"
#include "syscalls/pidfd.h"

namespace syscalls {
namespace {

constexpr uint64_t kExitSignalMask = 0xff;  // CSIGNAL
// The flags clone(2) can express (it takes 32 bits); clone3 adds these.
constexpr uint64_t kLegacyFlags = 0xffffffffull;
constexpr uint64_t kClone3Flags =
    kLegacyFlags | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP;
constexpr size_t kPageSize = 4096;
constexpr size_t kMaxPidNsLevel = 32;  // MAX_PID_NS_LEVEL

// Clones with `args`; with CLONE_PIDFD, a pidfd of the child is written
// at `pidfd` (Linux writes it before the child can run: the address is
// checked first here, so a bad one makes no child).
Result<int> CloneWithPidfd(Task& t, const Task::CloneArgs& args,
                           uint64_t pidfd) {
  if (!(args.flags & CLONE_PIDFD)) return t.Clone(args);
  // TODO(pidfd): CLONE_PIDFD with CLONE_THREAD (a thread pidfd, 6.9).
  if (args.flags & CLONE_THREAD) return Err(EINVAL);
  TRY(t.mm().CopyOutObj(UserPtr<int>(pidfd), -1));
  const int pid = TRY(t.Clone(args));
  auto tg = t.kernel().processes().FindByTid(pid);  // a zombie too
  if (!tg) return pid;  // already reaped (its exit signal ignored)
  const int fd = TRY(InstallPidfd(t, std::move(tg), 0));
  TRY(t.mm().CopyOutObj(UserPtr<int>(pidfd), fd));
  return pid;
}

// Fork implements Linux syscall fork(2).
Result<int> Fork(Task& t) { return t.Clone({.exit_signal = SIGCHLD}); }

// Vfork implements Linux syscall vfork(2).
Result<int> Vfork(Task& t) {
  return t.Clone({.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD});
}

// Clone implements Linux syscall clone(2); x86-64 order: flags, stack,
// parent_tid, child_tid, tls.
Result<int> Clone(Task& t, uint64_t flags, uint64_t stack, uint64_t parent_tid,
                  uint64_t child_tid, uint64_t tls) {
  // Like Linux, only the low 32 bits count (bit 32 would be clone3's
  // CLONE_CLEAR_SIGHAND), and the exit signal is not checked: one that is
  // not a signal (up to 255) is simply never sent.
  flags &= kLegacyFlags;
  int exit_signal = static_cast<int>(flags & kExitSignalMask);
  if (exit_signal > kernel::kNumSignals) exit_signal = 0;
  // clone(2) writes the pidfd where the parent's tid would go, and has
  // CLONE_DETACHED ignored but reserved with CLONE_PIDFD.
  if ((flags & CLONE_PIDFD) &&
      (flags & (CLONE_PARENT_SETTID | CLONE_DETACHED)))
    return Err(EINVAL);
  return CloneWithPidfd(t,
                        {.flags = flags & ~kExitSignalMask,
                         .exit_signal = exit_signal,
                         .stack = stack,
                         .parent_tid = parent_tid,
                         .child_tid = child_tid,
                         .tls = tls},
                        parent_tid);
}

// The checks of Linux's copy_clone_args_from_user after the copy.
Result<void> CheckCopiedArgs(const clone_args& a, size_t size) {
  if (a.set_tid_size > kMaxPidNsLevel) return Err(EINVAL);
  if ((a.set_tid == 0) != (a.set_tid_size == 0)) return Err(EINVAL);
  if ((a.exit_signal & ~kExitSignalMask) || a.exit_signal > kernel::kNumSignals)
    return Err(EINVAL);
  if ((a.flags & CLONE_INTO_CGROUP) &&
      (a.cgroup > INT_MAX || size < CLONE_ARGS_SIZE_VER2))
    return Err(EINVAL);
  return {};
}

// Linux's clone3_args_valid.
Result<void> CheckFlagsAndStack(const clone_args& a) {
  if (a.flags & ~kClone3Flags) return Err(EINVAL);
  // CLONE_DETACHED and the low byte (but CLONE_NEWTIME) are reserved.
  if (a.flags & (CLONE_DETACHED | (kExitSignalMask & ~CLONE_NEWTIME)))
    return Err(EINVAL);
  if ((a.flags & CLONE_SIGHAND) && (a.flags & CLONE_CLEAR_SIGHAND))
    return Err(EINVAL);
  if ((a.flags & (CLONE_THREAD | CLONE_PARENT)) && a.exit_signal)
    return Err(EINVAL);
  // A stack comes with its size, and lies in user space.
  if ((a.stack == 0) != (a.stack_size == 0)) return Err(EINVAL);
  constexpr uint64_t kEnd = mm::kTaskSizeMax;
  if (a.stack &&
      (a.stack_size > kEnd || a.stack > kEnd || a.stack + a.stack_size > kEnd))
    return Err(EINVAL);
  return {};
}

// Clone3 implements Linux syscall clone3(2).
Result<int> Clone3(Task& t, UserPtr<clone_args> uargs, size_t size) {
  const clone_args a = TRY(CopyInExtensible<clone_args>(
      t, uargs.addr, size, CLONE_ARGS_SIZE_VER0));
  TRY(CheckCopiedArgs(a, size));
  // One pid per pid namespace level, innermost first.
  pid_t tids[kMaxPidNsLevel];
  if (a.set_tid_size)
    TRY(t.mm().CopyIn(a.set_tid, tids, a.set_tid_size * sizeof(pid_t)));
  TRY(CheckFlagsAndStack(a));
  int set_tid = 0;
  if (a.set_tid_size) {
    // The sandbox has one level.
    if (a.set_tid_size > 1) return Err(EINVAL);
    // Task::Clone checks the value (range, then privilege) where Linux's
    // alloc_pid does; 0 means "none" there, so it is refused here.
    if (tids[0] <= 0) return Err(EINVAL);
    set_tid = tids[0];
  }
  // TODO(issue 3): cgroups (CLONE_INTO_CGROUP names a cgroup fd).
  if (a.flags & CLONE_INTO_CGROUP) return Err(EINVAL);
  return CloneWithPidfd(t,
                        {.flags = a.flags,
                         .exit_signal = static_cast<int>(a.exit_signal),
                         .stack = a.stack ? a.stack + a.stack_size : 0,
                         .parent_tid = a.parent_tid,
                         .child_tid = a.child_tid,
                         .tls = a.tls,
                         .set_tid = set_tid},
                        a.pidfd);
}

// Unshare implements Linux syscall unshare(2).
Result<void> Unshare(Task& t, uint64_t flags) { return t.Unshare(flags); }

// Setns implements Linux syscall setns(2). No file names a namespace (the
// /proc/PID/ns links cannot be opened, and pidfds are not taken), so every
// open fd is the wrong kind.
Result<void> Setns(Task& t, Fd fd, int nstype) {
  TRY(GetFile(t, fd));
  return Err(EINVAL);
}

}  // namespace

void RegisterClone(Registrar& r) {
  const char* kClone =
      "namespaces: CLONE_NEWUTS, CLONE_NEWIPC and CLONE_NEWNS (CAP_SYS_ADMIN; "
      "mounts private); NEWUSER, NEWPID, NEWNET, NEWCGROUP, NEWTIME are "
      "EPERM; CLONE_PIDFD not with CLONE_THREAD "
      "(EINVAL); CLONE_PTRACE, CLONE_UNTRACED, CLONE_SYSVSEM and CLONE_IO "
      "are ignored";
  r.Full<&Fork>(SYS_fork);
  r.Full<&Vfork>(SYS_vfork);
  r.Partial<&Clone>(SYS_clone, kClone).Show(SYS_clone, 0, ArgKind::kHex);
  r.Partial<&Clone3>(SYS_clone3,
                     "namespaces: CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS; "
                     "NEWUSER, NEWPID, NEWNET, NEWCGROUP, NEWTIME are EPERM; "
                     "CLONE_PIDFD not with CLONE_THREAD, no "
                     "CLONE_INTO_CGROUP (EINVAL); set_tid "
                     "in the sandbox's one pid namespace; CLONE_PTRACE, "
                     "CLONE_UNTRACED, CLONE_SYSVSEM and CLONE_IO are ignored");
  r.Partial<&Unshare>(SYS_unshare,
                      "CLONE_FILES, CLONE_FS, CLONE_SYSVSEM (no SEM_UNDO "
                      "lists yet), CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS; "
                      "NEWUSER, NEWPID, NEWNET, NEWCGROUP, NEWTIME are EPERM")
      .Show(SYS_unshare, 0, ArgKind::kHex);
  r.Partial<&Setns>(SYS_setns, "no namespace files exist: EBADF or EINVAL");
}

}  // namespace syscalls
