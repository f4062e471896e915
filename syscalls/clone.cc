// Process creation: fork(2), vfork(2), clone(2), clone3(2).
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include "syscalls/common.h"

namespace syscalls {
namespace {

constexpr uint64_t kExitSignalMask = 0xff;  // CSIGNAL

Result<int> DoClone(Task& t, Task::CloneArgs args) {
  if (args.exit_signal < 0 || args.exit_signal > kernel::kNumSignals)
    return Err(EINVAL);
  return t.Clone(args);
}

// Fork implements Linux syscall fork(2).
Result<int> Fork(Task& t) { return DoClone(t, {.exit_signal = SIGCHLD}); }

// Vfork implements Linux syscall vfork(2).
Result<int> Vfork(Task& t) {
  return DoClone(t, {.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD});
}

// Clone implements Linux syscall clone(2); x86-64 order: flags, stack,
// parent_tid, child_tid, tls.
Result<int> Clone(Task& t, uint64_t flags, uint64_t stack, uint64_t parent_tid,
                  uint64_t child_tid, uint64_t tls) {
  return DoClone(t, {.flags = flags & ~kExitSignalMask,
                     .exit_signal = static_cast<int>(flags & kExitSignalMask),
                     .stack = stack,
                     .parent_tid = parent_tid,
                     .child_tid = child_tid,
                     .tls = tls});
}

// Clone3 implements Linux syscall clone3(2).
Result<int> Clone3(Task& t, UserPtr<clone_args> uargs, size_t size) {
  constexpr size_t kMinSize = 64;  // CLONE_ARGS_SIZE_VER0
  if (size < kMinSize || size > 4096) return Err(EINVAL);
  clone_args a{};
  TRY(t.mm().CopyIn(uargs.addr, &a,
                    size < sizeof(a) ? size : sizeof(a)));
  // Bytes past what we know must be zero (extensible-struct rule).
  for (size_t off = sizeof(a); off < size; ++off) {
    uint8_t b = TRY(t.mm().CopyInObj(UserPtr<uint8_t>(uargs.addr + off)));
    if (b) return Err(E2BIG);
  }
  if (a.exit_signal > kernel::kNumSignals) return Err(EINVAL);
  if (a.set_tid || a.set_tid_size || a.cgroup) return Err(EINVAL);
  if (a.flags & (CLONE_PIDFD | CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND))
    return Err(EINVAL);  // TODO(issue 3): pidfds, clear_sighand
  uint64_t stack = 0;
  if (a.stack) {
    if (__builtin_add_overflow(a.stack, a.stack_size, &stack))
      return Err(EINVAL);
  }
  return DoClone(t, {.flags = a.flags,
                     .exit_signal = static_cast<int>(a.exit_signal),
                     .stack = stack,
                     .parent_tid = a.parent_tid,
                     .child_tid = a.child_tid,
                     .tls = a.tls});
}

}  // namespace

void RegisterClone(Registrar& r) {
  const char* kNoThreads =
      "no namespaces (EPERM), no CLONE_PIDFD, CLONE_PTRACE or "
      "CLONE_CLEAR_SIGHAND; fork copies memory eagerly (no copy-on-write)";
  r.Partial<&Fork>(SYS_fork, "memory is copied eagerly, not copy-on-write");
  r.Full<&Vfork>(SYS_vfork);
  r.Partial<&Clone>(SYS_clone, kNoThreads).Show(SYS_clone, 0, ArgKind::kHex);
  r.Partial<&Clone3>(SYS_clone3, kNoThreads);
}

}  // namespace syscalls
