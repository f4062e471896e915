// The gofer's seccomp allowlist. Each entry says why the gofer makes the
// syscall; gofer/README.md has the same list for readers.
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

#include "absl/base/internal/sysinfo.h"
#include "absl/strings/str_cat.h"
#include "gofer/confine.h"

namespace gofer {
namespace {

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

// Syscalls allowed with any arguments.
constexpr int kAllowed[] = {
    // The protocol: one packet per message, fds as SCM_RIGHTS.
    SYS_recvmsg,
    SYS_sendmsg,
    // Operations on held fds (openat is below, with its argument check).
    SYS_close,
    SYS_fstat,
    SYS_newfstatat,
    SYS_getdents64,
    SYS_lseek,
    SYS_readlinkat,
    SYS_mkdirat,
    SYS_mknodat,
    SYS_symlinkat,
    SYS_linkat,
    SYS_unlinkat,
    SYS_renameat,
    SYS_renameat2,
    SYS_fchownat,
    SYS_fchmod,
    SYS_fchmodat2,
    SYS_utimensat,
    SYS_ftruncate,
    SYS_fstatfs,
    SYS_fgetxattr,
    SYS_fsetxattr,
    SYS_flistxattr,
    SYS_fremovexattr,
    // Bind and Connect: a unix socket file is named by a path from the cwd.
    SYS_fchdir,
    SYS_umask,
    SYS_bind,
    SYS_connect,
    // Memory for messages and thread stacks (mmap/mprotect below).
    SYS_munmap,
    SYS_madvise,
    SYS_brk,
    SYS_mremap,
    // Threads and their locks (clone is below).
    SYS_futex,
    SYS_set_robust_list,
    SYS_rseq,
    SYS_rt_sigprocmask,
    SYS_rt_sigreturn,
    SYS_sched_yield,
    SYS_nanosleep,
    SYS_clock_nanosleep,
    SYS_gettid,
    SYS_getpid,
    SYS_clock_gettime,
    SYS_exit,
    SYS_exit_group,
    // Abseil's mutex reads its thread's scheduling parameters.
    SYS_sched_getparam,
    SYS_sched_getscheduler,
    // Log lines; abort() after a failed CHECK.
    SYS_write,
    SYS_tgkill,
};

}  // namespace

absl::Status InstallSeccomp() {
  // Abseil reads /sys once, lazily, for its mutexes' spin and clock
  // decisions: read it now, while opens are still allowed.
  (void)absl::base_internal::NumCPUs();
  (void)absl::base_internal::NominalCPUFrequency();

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) return absl::InternalError("seccomp_init failed");
  int rc = 0;
  auto add = [&](uint32_t action, int nr, unsigned count,
                 const scmp_arg_cmp* args) {
    if (rc == 0) rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  };
  for (int nr : kAllowed) add(SCMP_ACT_ALLOW, nr, 0, nullptr);

  // Every open is O_NOFOLLOW relative to a held fd: a symlink is never
  // followed, even by a bug.
  // Anything else fails with ENOENT rather than killing the gofer: a
  // library that probes a file lazily (as Abseil does /sys) must not end
  // the sandbox.
  scmp_arg_cmp nofollow = SCMP_A2(SCMP_CMP_MASKED_EQ, O_NOFOLLOW, O_NOFOLLOW);
  add(SCMP_ACT_ALLOW, SYS_openat, 1, &nofollow);
  scmp_arg_cmp follow = SCMP_A2(SCMP_CMP_MASKED_EQ, O_NOFOLLOW, 0);
  add(SCMP_ACT_ERRNO(ENOENT), SYS_openat, 1, &follow);
  // Only unix sockets, for Bind and Connect.
  scmp_arg_cmp unix_only = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
  add(SCMP_ACT_ALLOW, SYS_socket, 1, &unix_only);
  // fcntl: O_NONBLOCK on and off, and dup for Attach.
  for (int cmd : {F_GETFL, F_SETFL, F_DUPFD_CLOEXEC}) {
    scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(cmd));
    add(SCMP_ACT_ALLOW, SYS_fcntl, 1, &c);
  }
  // No executable memory: the gofer never loads code.
  scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
  add(SCMP_ACT_ALLOW, SYS_mmap, 1, &no_exec);
  add(SCMP_ACT_ALLOW, SYS_mprotect, 1, &no_exec);
  // Worker threads only: a clone without CLONE_THREAD would be a new
  // process. clone3 cannot be checked (its flags are in memory), so it
  // fails and glibc falls back to clone.
  scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
                                static_cast<scmp_datum_t>(CLONE_THREAD));
  add(SCMP_ACT_ALLOW, SYS_clone, 1, &thread);
  add(SCMP_ACT_ERRNO(ENOSYS), SYS_clone3, 0, nullptr);
  // glibc's first pthread_create installs its internal handlers for
  // thread cancellation and set*id broadcasts (SIGRTMIN-2, SIGRTMIN-1 as
  // the kernel numbers them: 32 and 33). No other handler is ever set.
  for (int sig : {32, 33}) {
    scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(sig));
    add(SCMP_ACT_ALLOW, SYS_rt_sigaction, 1, &c);
  }

  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0)
    return absl::InternalError(
        absl::StrCat("cannot install the seccomp filter: ", strerror(-rc)));
  return absl::OkStatus();
}

}  // namespace gofer
